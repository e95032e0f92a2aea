# A minimal seccomp notify agent for load.test.ts: accepts one connection on
# argv[1], receives the state JSON and the listener fd (SCM_RIGHTS), answers
# one notification with -EROFS, prints what it saw as JSON, exits.
import array, fcntl, json, os, socket, struct, sys

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
EROFS = 30

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
while True:
    more = conn.recv(65536)
    if not more:
        break
    msg += more
state = json.loads(msg)
fd = fds[0]
notif = bytearray(80)
fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, notif, True)
nid, pid, flags, nr, arch = struct.unpack_from("<QIIiI", notif, 0)
fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(struct.pack("<QqiI", nid, 0, -EROFS, 0)), True)
print(json.dumps({"state": state, "nfds": len(fds), "nr": nr, "arch": arch, "pid": pid}), flush=True)
