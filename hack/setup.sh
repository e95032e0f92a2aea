#!/bin/sh
# One command for a fresh Debian 12 machine: the system packages tsrun's build
# and tests need, then the npm dependencies (whose prepare step builds the
# native helper, the generated spec code and the bundles).
set -eu
cd "$(dirname "$0")/.."

need=""
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need="$need busybox-static"
command -v runc >/dev/null 2>&1 || need="$need runc"
command -v file >/dev/null 2>&1 || need="$need file"
# Docker's default seccomp profile, for the libseccomp cross-check and the container tests.
[ -f /usr/share/containers/seccomp.json ] || need="$need golang-github-containers-common"
command -v ps >/dev/null 2>&1 || need="$need procps" # tsrun ps runs the host's ps, like runc
# The real clients the test/clients tests drive tsrun with (docs/clients.md).
for c in newuidmap:uidmap containerd:containerd ctr:containerd dockerd:docker.io podman:podman conmon:conmon umoci:umoci python3:python3; do
	command -v "${c%%:*}" >/dev/null 2>&1 || need="$need ${c#*:}"
done
# The CRI test's pod network (test/clients/cri.test.ts): a tap device (ip) and Debian's CNI plugins.
command -v ip >/dev/null 2>&1 || need="$need iproute2"
[ -x /usr/lib/cni/host-device ] && [ -x /usr/lib/cni/static ] || need="$need containernetworking-plugins"
# The systemd + cgroup v2 test VM (hack/vm/, docs/vm.md).
for c in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils mmdebstrap:mmdebstrap mkfs.ext4:e2fsprogs; do
	command -v "${c%%:*}" >/dev/null 2>&1 || need="$need ${c#*:}"
done
if [ -n "$need" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "hack/setup.sh: missing packages:$need (run as root, or install them with apt-get)" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need
fi
npm ci
