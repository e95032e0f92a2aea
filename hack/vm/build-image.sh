#!/bin/sh
# Builds the Debian 12 test VM image (systemd as PID 1, cgroup v2 only, Debian's
# kernel) from Debian packages only, and prints the directory holding it:
#   DIR/root.img (raw ext4), DIR/vmlinuz, DIR/initrd.img
# DIR is $TSRUN_VM_CACHE (default /var/cache/tsrun-vm)/<hash of this recipe>;
# an existing DIR is reused, so the image is rebuilt only when the recipe
# (this script, customize.sh or guest/*) changes. Progress goes to stderr.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${TSRUN_VM_CACHE:-/var/cache/tsrun-vm}

hash=$(cat "$here/build-image.sh" "$here/customize.sh" "$here"/guest/* | sha256sum | cut -c1-16)
dir=$cache/$hash
# A cached image needs neither the build tools nor root.
if [ -f "$dir/root.img" ]; then
	echo "$dir"
	exit 0
fi

missing=""
command -v mmdebstrap >/dev/null 2>&1 || missing="$missing mmdebstrap"
command -v mkfs.ext4 >/dev/null 2>&1 || missing="$missing e2fsprogs"
if [ -n "$missing" ]; then
	echo "hack/vm/build-image.sh: missing packages:$missing (hack/setup.sh installs them)" >&2
	exit 1
fi
[ "$(id -u)" -eq 0 ] || { echo "hack/vm/build-image.sh: must run as root (mmdebstrap, mkfs.ext4 -d)" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # another build of the same recipe may be under way
if [ -f "$dir/root.img" ]; then
	echo "$dir"
	exit 0
fi

work=$cache/.build-$hash
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# Docker, containerd and podman for the client tests (umoci makes the OCI
# image ctr imports: the VM has no network); busybox-static, jq and
# iproute2 for bundles and checks; libpam-systemd and dbus-user-session for
# `run.sh --user` (a systemd user session with a delegated cgroup); apparmor
# (apparmor_parser, aa-status) as on every Debian host: the kernel has
# AppArmor on, and dockerd and podman load their profiles with it.
pkgs="systemd-sysv,dbus,udev,kmod,initramfs-tools,linux-image-amd64,e2fsprogs,procps,util-linux,
libpam-systemd,dbus-user-session,
runc,crun,containerd,docker.io,podman,catatonit,fuse-overlayfs,slirp4netns,uidmap,umoci,
busybox-static,jq,iproute2,iptables,apparmor"
pkgs=$(echo "$pkgs" | tr -d '\n')

# The host's apt sources are Debian's; the image takes the same suites.
sources="deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main"

start=$(date +%s)
echo "hack/vm/build-image.sh: building $dir (mmdebstrap, ~2-3 min)" >&2
echo "$sources" | mmdebstrap --variant=minbase --include="$pkgs" \
	--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"' \
	--essential-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/tsrun-vm"' \
	--customize-hook='copy-in "'"$here"'/guest/tsrun-vm.target" /etc/systemd/system/' \
	--customize-hook='copy-in "'"$here"'/guest/tsrun-vm-run.service" /etc/systemd/system/' \
	--customize-hook='mkdir -p "$1/usr/local/lib/tsrun-vm"' \
	--customize-hook='copy-in "'"$here"'/guest/run" /usr/local/lib/tsrun-vm/' \
	--customize-hook="$here/customize.sh" \
	bookworm "$work/root" - >&2

cp "$work/root/boot/vmlinuz-"* "$work/vmlinuz"
cp "$work/root/boot/initrd.img-"* "$work/initrd.img"
mkfs.ext4 -q -L tsrun-vm -d "$work/root" "$work/root.img" 4G >&2
rm -rf "$work/root"
mkdir -p "$dir"
mv "$work/vmlinuz" "$work/initrd.img" "$work/root.img" "$dir/"
echo "hack/vm/build-image.sh: built $dir in $(($(date +%s) - start)) s" >&2
echo "$dir"
