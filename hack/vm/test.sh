#!/bin/sh
# npm run test:vm [FILE...]: the VM test files (test/vm/*.test.ts, or FILEs)
# under tap inside the systemd + cgroup v2 VM (hack/vm/run.sh), as root;
# their TAP summary comes back here and so does tap's status. Needs the
# built executable (npm run build) and the VM image (built on first use).
set -eu
cd "$(dirname "$0")/../.."
[ -x dist/tsrun ] || { echo "hack/vm/test.sh: no dist/tsrun: run npm run build first" >&2; exit 1; }
[ $# -gt 0 ] || set -- test/vm/*.test.ts
# One busybox rootfs for every file, made here: in the VM a fork per applet takes ~40 s.
hack/mkrootfs.sh build/vm-rootfs
# Under emulation a tsrun command takes 0.3-1 s (docs/vm.md): files get 15 min each,
# the whole run 45 min (run.sh's own default, 15 min, is for one command).
export TSRUN_VM_TIMEOUT="${TSRUN_VM_TIMEOUT:-2700}"
# One file at a time: the files share the VM's systemd, and one's `systemctl
# daemon-reload` held up another's D-Bus calls for over 25 s under emulation.
exec hack/vm/run.sh -- env TSRUN_TEST_ROOTFS="$PWD/build/vm-rootfs" node_modules/.bin/tap --jobs=1 --timeout=900 "$@"
