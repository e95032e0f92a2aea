#!/usr/bin/env python3
# The differential harness's console-socket receiver (conformance/differential/):
# for a variant with process.terminal, it listens on SOCKET, takes the pty
# master the runtime sends there (as containerd's shim does) and copies what the
# container writes to its terminal into OUT until the last slave closes (EIO)
# or TIMEOUT seconds pass. Node cannot receive SCM_RIGHTS without an addon,
# hence Python (test/helpers/console.ts does the same through src/sys).
#
#   console.py SOCKET OUT TIMEOUT
import os
import select
import socket
import sys
import time


def receive_master(sock_path, timeout):
    """The first descriptor sent over one connection to sock_path, or None."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Bound under another name and renamed once listening: the runner waits for
    # sock_path to exist, and a connect between bind and listen would be refused.
    server.bind(sock_path + ".tmp")
    server.listen(1)
    os.rename(sock_path + ".tmp", sock_path)
    server.settimeout(timeout)
    try:
        conn, _ = server.accept()
    except socket.timeout:
        return None
    _, fds, _, _ = socket.recv_fds(conn, 4096, 4)
    conn.close()
    server.close()
    for extra in fds[1:]:
        os.close(extra)
    return fds[0] if fds else None


def copy_until_closed(master, out, deadline):
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:
            return  # EIO: every slave fd is closed, the container is gone
        if not data:
            return
        out.write(data)
        out.flush()


def main():
    sock_path, out_path, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(out_path, "wb") as out:
        master = receive_master(sock_path, timeout)
        if master is not None:
            copy_until_closed(master, out, time.time() + timeout)


main()
