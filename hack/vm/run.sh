#!/bin/sh
# hack/vm/run.sh [--user NAME] -- CMD [ARG...]
# Boots the Debian 12 systemd + cgroup v2 test VM (hack/vm/build-image.sh) on a
# throwaway copy-on-write layer, with this checkout shared read-only at the same
# absolute path, runs CMD there, streams its stdout and stderr here and
# exits with its status (as root, or as user NAME with a systemd user session
# and a delegated cgroup). 124: timeout; 125: the VM or the runner failed (the
# console's last lines are printed). See docs/vm.md.
# Environment: TSRUN_VM_TIMEOUT (s, default 900), TSRUN_VM_MEM (MiB, 4096),
# TSRUN_VM_CPUS (2), TSRUN_VM_CACHE (image cache, default /var/cache/tsrun-vm),
# TSRUN_VM_CGROUP (v2, the default: cgroup v2 only; hybrid: systemd's v1 hierarchies
# plus cgroup2 at /sys/fs/cgroup/unified; legacy: v1 only).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
share=$(cd "$here/../.." && pwd)
usage() { echo "usage: hack/vm/run.sh [--user NAME] -- CMD [ARG...]" >&2; exit 2; }

user=""
while [ $# -gt 0 ]; do
	case $1 in
	--user) [ $# -ge 2 ] || usage; user=$2; shift 2 ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ $# -ge 1 ] || usage
command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v qemu-img >/dev/null 2>&1 || {
	echo "hack/vm/run.sh: missing packages: qemu-system-x86 qemu-utils (hack/setup.sh installs them)" >&2
	exit 1
}

timeout=${TSRUN_VM_TIMEOUT:-900}
# systemd 252 (Debian: built with the unified default) boots hybrid with
# unified_cgroup_hierarchy=0 alone, and v1 only when its own hierarchy is v1 too.
case ${TSRUN_VM_CGROUP:-v2} in
v2) cgroups="systemd.unified_cgroup_hierarchy=1" ;;
hybrid) cgroups="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0" ;;
legacy) cgroups="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
*)
	echo "hack/vm/run.sh: TSRUN_VM_CGROUP=${TSRUN_VM_CGROUP}: expected v2, hybrid or legacy" >&2
	exit 2
	;;
esac
img=$("$here/build-image.sh")
tmp=""
qpid=""
pids=""
cleanup() {
	trap - EXIT INT TERM HUP
	for p in $qpid $pids; do kill "$p" 2>/dev/null || true; done
	if [ -n "$qpid" ]; then
		sleep 0.2
		kill -9 "$qpid" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
# after the traps: a signal during mktemp must not leave the directory behind
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tsrun-vm.XXXXXX")

mkdir "$tmp/ctl" "$tmp/node"
# The host's node, shared as the guest's /usr/local/bin/node (a hard link when it can be)
node=$(command -v node) || { echo "hack/vm/run.sh: no node on PATH (the guest runs the host's)" >&2; exit 1; }
node=$(readlink -f "$node")
ln "$node" "$tmp/node/node" 2>/dev/null || cp "$node" "$tmp/node/node"
cp "$here/guest-run.sh" "$tmp/ctl/"
printf '%s\0' "$@" >"$tmp/ctl/argv"
pwd >"$tmp/ctl/cwd"
printf '%s' "$share" >"$tmp/ctl/share"
printf '%s' "$user" >"$tmp/ctl/user"
: >"$tmp/stdout"
: >"$tmp/stderr"
: >"$tmp/status"
: >"$tmp/console"
qemu-img create -q -f qcow2 -b "$img/root.img" -F raw "$tmp/disk.qcow2"

if [ -w /dev/kvm ]; then accel="-accel kvm -cpu host"; else accel="-accel tcg,thread=multi -cpu max"; fi
port() { echo "-chardev file,id=$1,path=$tmp/$1 -device virtserialport,chardev=$1,name=tsrun.$1"; }
# the cgroup mode; the runner's target; no serial getty (it would take the console);
# panic=-1 with -no-reboot: a panicking VM ends at once.
cmdline="root=/dev/vda rw console=ttyS0 quiet systemd.show_status=1 panic=-1"
cmdline="$cmdline $cgroups systemd.unit=tsrun-vm.target systemd.getty_auto=0"
start=$(date +%s)
# --pdeathsig: qemu dies with run.sh even if run.sh is SIGKILLed (no trap runs then)
# shellcheck disable=SC2046,SC2086 # $accel and port's output are lists of words
setpriv --pdeathsig KILL -- qemu-system-x86_64 $accel -smp "${TSRUN_VM_CPUS:-2}" -m "${TSRUN_VM_MEM:-4096}" \
	-nodefaults -display none -no-reboot -nic none -serial "file:$tmp/console" \
	-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
	-append "$cmdline" \
	-drive "file=$tmp/disk.qcow2,if=virtio,format=qcow2" \
	-virtfs "local,path=$share,mount_tag=tsrun.src,security_model=none,readonly=on" \
	-virtfs "local,path=$tmp/ctl,mount_tag=tsrun.ctl,security_model=none,readonly=on" \
	-virtfs "local,path=$tmp/node,mount_tag=tsrun.node,security_model=none,readonly=on" \
	-device virtio-serial-pci $(port stdout) $(port stderr) $(port status) &
qpid=$!
tail -c +1 -f --pid="$qpid" "$tmp/stdout" &
pids="$!"
tail -c +1 -f --pid="$qpid" "$tmp/stderr" >&2 &
pids="$pids $!"

fail() { # $1: exit code, $2: why
	echo "hack/vm/run.sh: $2; the console's last lines:" >&2
	tail -n 30 "$tmp/console" >&2
	# a panic's own line is above its stack trace, often out of the tail's reach
	grep -m1 'Kernel panic' "$tmp/console" >&2 || true
	exit "$1"
}
while kill -0 "$qpid" 2>/dev/null; do
	if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
		fail 124 "timed out after ${timeout} s (TSRUN_VM_TIMEOUT)"
	fi
	if grep -q -e 'Kernel panic' -e '(initramfs)' "$tmp/console"; then
		fail 125 "the VM did not boot"
	fi
	sleep 0.5
done
qrc=0
wait "$qpid" || qrc=$?
qpid=""
wait $pids 2>/dev/null || true
pids=""
status=$(cat "$tmp/status")
case $status in
'' | *[!0-9]*)
	# a panic with panic=-1 ends qemu before the loop above may have seen it
	! grep -q -e 'Kernel panic' -e '(initramfs)' "$tmp/console" || fail 125 "the VM did not boot"
	fail 125 "the VM stopped (qemu status $qrc) without the command's status"
	;;
esac
[ -z "${TSRUN_VM_VERBOSE:-}" ] || echo "hack/vm/run.sh: VM ran for $(($(date +%s) - start)) s" >&2
exit "$status"
