#!/bin/sh
# npm run test:vm [FILE...]: the VM test files under tap inside the systemd
# test VM (hack/vm/run.sh), as root: test/vm/*.test.ts in the VM booted
# cgroup v2 only, then test/vm-hybrid/*.test.ts in a second boot in hybrid
# mode (TSRUN_VM_CGROUP=hybrid), or the FILEs given, each in its directory's
# mode. Their TAP comes back here; the status is the first failing run's.
# Needs the built executable (npm run build) and the VM image (built on first use).
set -eu
cd "$(dirname "$0")/../.."
[ -x dist/tsrun ] || { echo "hack/vm/test.sh: no dist/tsrun: run npm run build first" >&2; exit 1; }
[ $# -gt 0 ] || set -- test/vm/*.test.ts test/vm-hybrid/*.test.ts
# One busybox rootfs for every file, made here: in the VM a fork per applet takes ~40 s.
hack/mkrootfs.sh build/vm-rootfs
# Under emulation a tsrun command takes 0.3-1 s (docs/vm.md): files get 15 min each,
# each boot's run 45 min (run.sh's own default, 15 min, is for one command).
export TSRUN_VM_TIMEOUT="${TSRUN_VM_TIMEOUT:-2700}"

# $1: the cgroup mode to boot; then the files (none: no boot).
tap_in() {
	mode=$1
	shift
	[ $# -gt 0 ] || return 0
	# One file at a time: the files share the VM's systemd, and one's `systemctl
	# daemon-reload` held up another's D-Bus calls for over 25 s under emulation.
	TSRUN_VM_CGROUP=$mode hack/vm/run.sh -- env TSRUN_TEST_ROOTFS="$PWD/build/vm-rootfs" \
		node_modules/.bin/tap --jobs=1 --timeout=900 "$@"
}
# The files of one directory or of every other ($1 = "not"); paths have no spaces.
files() {
	for f in $files_given; do
		case $f in
		test/vm-hybrid/*) [ "$1" = not ] || echo "$f" ;;
		*) [ "$1" != not ] || echo "$f" ;;
		esac
	done
}
files_given="$*"
status=0
# shellcheck disable=SC2046 # the lists are words
tap_in v2 $(files not) || status=$?
rc=0
# shellcheck disable=SC2046
tap_in hybrid $(files hybrid) || rc=$?
[ "$status" -ne 0 ] || status=$rc
exit "$status"
