#!/bin/sh
# Build an OCI bundle at DIR: a busybox rootfs and tsrun's default config.json,
# with the process set to ARGS (default: sh -c 'echo hello') and no terminal.
# Usage: hack/mkbundle.sh DIR [ARGS...]
set -eu
if [ $# -lt 1 ]; then
	echo "usage: $0 DIR [ARGS...]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
"$here/hack/mkrootfs.sh" "$dir/rootfs"
rm -f "$dir/config.json"
"$here/bin/tsrun" spec --bundle "$dir"
[ $# -gt 0 ] || set -- sh -c 'echo hello from $(hostname)'
node -e '
const fs = require("fs");
const [file, ...args] = process.argv.slice(1);
const c = JSON.parse(fs.readFileSync(file, "utf8"));
c.process.terminal = false;
c.process.args = args;
fs.writeFileSync(file, JSON.stringify(c, null, 2) + "\n");
' "$dir/config.json" "$@"
