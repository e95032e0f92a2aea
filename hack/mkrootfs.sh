#!/bin/sh
# Build a minimal busybox rootfs for tests, examples and benchmarks.
# Usage: hack/mkrootfs.sh DIR
# Idempotent: re-running on an existing DIR only fills in what is missing.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
busybox=${BUSYBOX:-/bin/busybox}

# A dynamically linked busybox would need the host's libc inside the rootfs.
if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
	echo "$0: $busybox not found; install it with: apt-get install -y busybox-static" >&2
	exit 1
fi
if command -v file >/dev/null 2>&1 && ! file -L "$busybox" | grep -q 'statically linked'; then
	echo "$0: $busybox is not statically linked; install busybox-static (apt-get install -y busybox-static)" >&2
	exit 1
fi

mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" "$dir/etc"
chmod 1777 "$dir/tmp"

# Copy only when different, so repeated runs do not rewrite the file.
if ! cmp -s "$busybox" "$dir/bin/busybox"; then
	cp "$busybox" "$dir/bin/busybox.tmp.$$"
	chmod 0755 "$dir/bin/busybox.tmp.$$"
	mv -f "$dir/bin/busybox.tmp.$$" "$dir/bin/busybox"
fi

# One symlink per applet; busybox --list prints bare names, all go to /bin.
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] && continue
	[ -L "$dir/bin/$applet" ] || ln -sf busybox "$dir/bin/$applet"
done

write_if_changed() { # file content
	if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
		printf '%s\n' "$2" >"$1"
	fi
}
write_if_changed "$dir/etc/passwd" 'root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false'
write_if_changed "$dir/etc/group" 'root:x:0:
nogroup:x:65534:
nobody:x:65534:'
