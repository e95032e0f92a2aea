#!/bin/sh
# Start and stop private containerd/dockerd instances for the client tests:
# everything (state, sockets, logs, pid files) lives in one directory, no
# network, nothing shared with a system daemon.
#
#   daemons.sh start-containerd DIR            containerd on DIR/containerd.sock
#   daemons.sh start-containerd-cri DIR TSRUN SANDBOX_IMAGE [DRIVER]
#                                               the same with its CRI plugin: runtime
#                                               handler "tsrun" (runc shim, BinaryName
#                                               TSRUN, Root DIR/tsrun-root), CNI from
#                                               DIR/cni (one tap device, see below);
#                                               DRIVER cgroupfs (default) or systemd:
#                                               SystemdCgroup = true, as kubeadm sets it
#   daemons.sh start-dockerd DIR TSRUN [ARG...] dockerd on DIR/docker.sock, using
#                                               DIR's containerd, runtime "tsrun",
#                                               and ARGs (e.g. --exec-opt …)
#   daemons.sh stop DIR                         stop both, their shims, unmount DIR/*
set -eu

wait_for_socket() { # path pidfile log
	i=0
	while [ ! -S "$1" ]; do
		if ! kill -0 "$(cat "$2" 2>/dev/null || echo 0)" 2>/dev/null || [ $i -ge 600 ]; then
			echo "$0: $1 did not appear; log:" >&2
			tail -20 "$3" >&2
			# Not left running for a test that will not stop it.
			kill -9 "$(cat "$2" 2>/dev/null || echo 0)" 2>/dev/null || true
			exit 1
		fi
		i=$((i + 1))
		sleep 0.1
	done
}

# The part of containerd's config.toml both modes share: everything in DIR,
# and no snapshotter but overlayfs and native (the others' probes are slow on
# a busy machine and never succeed here). $1: more plugins to leave out.
containerd_config() {
	cat <<CONF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = [${1-}"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
CONF
}

start_containerd() {
	containerd --config "$dir/containerd/config.toml" >"$dir/containerd.log" 2>&1 &
	echo $! >"$dir/containerd.pid"
	wait_for_socket "$dir/containerd.sock" "$dir/containerd.pid" "$dir/containerd.log"
}

# CRI accepts a pod network only with an address on eth0, and a loopback
# result has none. So the pod gets one tap device of ours (host-device moves
# it in and renames it eth0; static gives it a documentation address, no
# route beyond its own /24): no bridge, no peer, nothing is ever sent.
tap_name() { echo "tcri-$(basename "$dir" | tr -cd 'A-Za-z0-9' | tail -c 10)"; }
cni_network() {
	ip tuntap add dev "$(tap_name)" mode tap
	cat <<CONF
{
  "cniVersion": "1.0.0",
  "name": "tsrun-test",
  "plugins": [
    {
      "type": "host-device",
      "device": "$(tap_name)",
      "ipam": { "type": "static", "addresses": [{ "address": "192.0.2.2/24" }] }
    }
  ]
}
CONF
}

cmd=$1
dir=$(realpath "$2")
case $cmd in
start-containerd)
	mkdir -p "$dir/containerd"
	# CRI would want CNI and a network; the clients here do not use it.
	containerd_config '"io.containerd.grpc.v1.cri", ' >"$dir/containerd/config.toml"
	start_containerd
	;;
start-containerd-cri)
	tsrun=$3 sandbox_image=$4
	case ${5-cgroupfs} in
	cgroupfs) systemd_cgroup=false ;;
	systemd) systemd_cgroup=true ;;
	*)
		echo "$0: start-containerd-cri: cgroup driver \"$5\": cgroupfs or systemd" >&2
		exit 2
		;;
	esac
	mkdir -p "$dir/containerd" "$dir/cni"
	cni_network >"$dir/cni/10-tsrun-test.conflist"
	containerd_config >"$dir/containerd/config.toml"
	cat >>"$dir/containerd/config.toml" <<CONF
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$sandbox_image"
  # Our own oom_score_adj is the floor: CRI may not lower the pods' below it.
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "tsrun"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tsrun]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tsrun.options]
        BinaryName = "$tsrun"
        Root = "$dir/tsrun-root"
        SystemdCgroup = $systemd_cgroup
CONF
	start_containerd
	;;
start-dockerd)
	tsrun=$3
	shift 3
	dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver vfs \
		--data-root "$dir/docker/data" --exec-root "$dir/docker/exec" \
		-H "unix://$dir/docker.sock" --containerd "$dir/containerd.sock" \
		--pidfile "$dir/docker/dockerd.pid" --add-runtime "tsrun=$tsrun" "$@" \
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
	# CNI DEL moves the tap back; a netns that went away destroyed it.
	if [ -d "$dir/cni" ]; then ip link del "$(tap_name)" 2>/dev/null || true; fi
	# dockerd leaves netns bind mounts, containerd rootfs mounts: deepest first.
	awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	;;
*)
	echo "usage: $0 start-containerd DIR | start-containerd-cri DIR TSRUN SANDBOX_IMAGE [cgroupfs|systemd] | start-dockerd DIR TSRUN [ARG...] | stop DIR" >&2
	exit 2
	;;
esac
