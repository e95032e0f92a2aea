#!/bin/bash
# Guest side of hack/vm/run.sh, run by the image's bootstrap (guest/run) from
# the host's control directory /run/tsrun-vm/ctl (9p tag tsrun.ctl), which
# also holds argv (NUL-separated), cwd and share (the checkout's path, 9p tag
# tsrun.src). stdout, stderr and the exit status go back over the
# virtio-serial ports tsrun.stdout, tsrun.stderr and tsrun.status.
set -u

port() { # the /dev node of the virtio-serial port named $1; the ports appear asynchronously
	local p i
	for i in $(seq 50); do
		for p in /sys/class/virtio-ports/vport*; do
			[ "$(cat "$p/name" 2>/dev/null)" = "$1" ] && [ -c "/dev/${p##*/}" ] && { echo "/dev/${p##*/}"; return 0; }
		done
		sleep 0.2
	done
	return 1
}

finish() { # report status $1 and power off at once
	echo "$1" >"$status"
	sync
	systemctl poweroff --force --force >/dev/null 2>&1
}

status=$(port tsrun.status) || { echo "tsrun-vm: no virtio port tsrun.status" >&2; systemctl poweroff --force --force; }
out=$(port tsrun.stdout) && err=$(port tsrun.stderr) ||
	{ echo "tsrun-vm: no virtio port tsrun.stdout/stderr" >&2; finish 125; }
# A virtio-serial port opens once (EBUSY after): the command inherits these.
exec >"$out" 2>"$err"

ctl=/run/tsrun-vm/ctl
share=$(cat "$ctl/share")
mount9p() { # tag dir; cache=loose: ~10x faster than the default for read-only shares (docs/vm.md)
	mkdir -p "$2" && mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=262144,ro "$1" "$2"
}
# The checkout appears writable at its own path (tap writes .tap/, builds
# write build/): an overlay whose changes stay in the throwaway disk layer.
mkdir -p "$share" /var/tmp/tsrun-vm/upper /var/tmp/tsrun-vm/work
mount9p tsrun.src /run/tsrun-vm/src &&
	mount -t overlay overlay -o lowerdir=/run/tsrun-vm/src,upperdir=/var/tmp/tsrun-vm/upper,workdir=/var/tmp/tsrun-vm/work \
		"$share" || { echo "tsrun-vm: mount of the checkout at $share failed" >&2; finish 125; }
# The host's node, so the tests run inside as they do outside (Debian 12's is 18).
mount9p tsrun.node /run/tsrun-vm/node && ln -sf /run/tsrun-vm/node/node /usr/local/bin/node ||
	{ echo "tsrun-vm: mount of the host's node failed" >&2; finish 125; }

mapfile -d '' argv <"$ctl/argv"
cd "$(cat "$ctl/cwd")" 2>/dev/null || cd /
user=$(cat "$ctl/user")
if [ -z "$user" ]; then
	"${argv[@]}" </dev/null
	finish $?
fi
# As the user, in its systemd user session (hack/vm/user-session.sh: set up
# first, so that its failure is not taken for CMD's status).
session=$share/hack/vm/user-session.sh
"$session" "$user" </dev/null || { echo "tsrun-vm: cannot set up user $user's session" >&2; finish 125; }
"$session" "$user" "${argv[@]}" </dev/null
finish $?
