#!/bin/sh
# Start and stop private containerd/dockerd instances for the client tests:
# everything (state, sockets, logs, pid files) lives in one directory, no
# network, nothing shared with a system daemon.
#
#   daemons.sh start-containerd DIR            containerd on DIR/containerd.sock
#   daemons.sh start-dockerd DIR TSRUN          dockerd on DIR/docker.sock, using
#                                               DIR's containerd, runtime "tsrun"
#   daemons.sh stop DIR                         stop both, their shims, unmount DIR/*
set -eu

wait_for_socket() { # path pidfile log
	i=0
	while [ ! -S "$1" ]; do
		if ! kill -0 "$(cat "$2" 2>/dev/null || echo 0)" 2>/dev/null || [ $i -ge 300 ]; then
			echo "$0: $1 did not appear; log:" >&2
			tail -20 "$3" >&2
			exit 1
		fi
		i=$((i + 1))
		sleep 0.1
	done
}

cmd=$1
dir=$(realpath "$2")
case $cmd in
start-containerd)
	mkdir -p "$dir/containerd"
	cat >"$dir/containerd/config.toml" <<CONF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
# CRI would want CNI and a network; the clients here do not use it.
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
CONF
	containerd --config "$dir/containerd/config.toml" >"$dir/containerd.log" 2>&1 &
	echo $! >"$dir/containerd.pid"
	wait_for_socket "$dir/containerd.sock" "$dir/containerd.pid" "$dir/containerd.log"
	;;
start-dockerd)
	tsrun=$3
	dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver vfs \
		--data-root "$dir/docker/data" --exec-root "$dir/docker/exec" \
		-H "unix://$dir/docker.sock" --containerd "$dir/containerd.sock" \
		--pidfile "$dir/docker/dockerd.pid" --add-runtime "tsrun=$tsrun" \
		>"$dir/dockerd.log" 2>&1 &
	echo $! >"$dir/dockerd.pid"
	wait_for_socket "$dir/docker.sock" "$dir/dockerd.pid" "$dir/dockerd.log"
	;;
stop)
	stop_pid() { # pidfile
		[ -f "$1" ] || return 0
		pid=$(cat "$1")
		kill "$pid" 2>/dev/null || return 0
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$1"
	}
	stop_pid "$dir/dockerd.pid"
	# The runc shims outlive containerd; ours are the ones given our socket.
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "-address $dir/containerd.sock "; then
			kill -9 "${p#/proc/}" 2>/dev/null || true
		fi
	done
	stop_pid "$dir/containerd.pid"
	# dockerd leaves netns bind mounts, containerd rootfs mounts: deepest first.
	awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	;;
*)
	echo "usage: $0 start-containerd DIR | start-dockerd DIR TSRUN | stop DIR" >&2
	exit 2
	;;
esac
