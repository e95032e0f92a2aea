#!/bin/bash
# hack/vm/user-session.sh NAME [CMD [ARG...]]: inside the test VM, as root.
# Makes user NAME if the system lacks it (useradd -m, subordinate ids
# 100000-165535 in /etc/subuid and /etc/subgid), starts its systemd user
# manager (user@UID.service: systemd delegates that cgroup to it, controllers
# cpu memory pids) and, given CMD, runs CMD as NAME in it: a transient service
# of the user's manager, in the caller's directory, with its environment
# (XDG_RUNTIME_DIR=/run/user/UID, the session bus), stdin, stdout and stderr
# the caller's; exits with CMD's status, or 1 when the session cannot be set
# up (run it without CMD first to tell the two apart). Used by guest-run.sh
# (run.sh --user) and by the VM tests that act as a user (test/helpers/vm-user.ts).
set -u
[ $# -ge 1 ] || { echo "usage: hack/vm/user-session.sh NAME [CMD [ARG...]]" >&2; exit 2; }
user=$1
shift

if ! id "$user" >/dev/null 2>&1; then
	useradd -m -s /bin/bash "$user" || exit 1
fi
grep -q "^$user:" /etc/subuid || usermod --add-subuids 100000-165535 "$user" || exit 1
grep -q "^$user:" /etc/subgid || usermod --add-subgids 100000-165535 "$user" || exit 1
uid=$(id -u "$user")
systemctl is-active --quiet "user@$uid.service" || systemctl start "user@$uid.service" || exit 1
[ $# -ge 1 ] || exit 0

# --wait passes CMD's status. KillMode=process: what CMD leaves running
# (a detached container's conmon, a daemon) outlives it, as it would from a
# login shell, instead of being killed with the service's cgroup.
exec systemd-run --quiet --machine="$user@.host" --user --wait --pipe --same-dir --collect \
	--property=KillMode=process -- "$@"
