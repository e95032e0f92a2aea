# A minimal seccomp notify agent for the tests (load.test.ts,
# container-notify.test.ts): accepts one connection on argv[1], receives the
# state JSON and the listener fd (SCM_RIGHTS), then answers every
# notification until the filter has no users left, printing one JSON line per
# notification. How it answers is argv[2]:
#   errno:N   fail the call with errno N (default errno:30, EROFS)
#   fake      report success without making the call
#   continue  let the kernel make the call (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
import fcntl, json, os, select, socket, struct, sys

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1

mode = sys.argv[2] if len(sys.argv) > 2 else "errno:30"
if mode.startswith("errno:"):
    answer = (0, -int(mode[6:]), 0)
elif mode == "fake":
    answer = (0, 0, 0)
elif mode == "continue":
    answer = (0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)
else:
    sys.exit("unknown mode " + mode)

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
# One JSON document; the runtime need not close the connection after it (runc keeps it open).
while True:
    try:
        state = json.loads(msg)
        break
    except ValueError:
        more = conn.recv(65536)
        if not more:
            raise
        msg += more
fd = fds[0]


def read_string(pid, addr):
    """The NUL-terminated string at addr in the caller's memory ('' if unreadable)."""
    try:
        with open("/proc/%d/mem" % pid, "rb") as mem:
            mem.seek(addr)
            return mem.read(4096).split(b"\0", 1)[0].decode()
    except OSError:
        return ""


poller = select.poll()
poller.register(fd, select.POLLIN)
while True:
    events = poller.poll()
    if any(ev & (select.POLLHUP | select.POLLERR) for _, ev in events) and not any(ev & select.POLLIN for _, ev in events):
        break  # the filter has no users left
    notif = bytearray(80)
    try:
        fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, notif, True)
    except OSError:
        break
    nid, pid, flags, nr, arch = struct.unpack_from("<QIIiI", notif, 0)
    args = struct.unpack_from("<6Q", notif, 32)
    # mkdir(path, mode) or mkdirat(dirfd, path, mode) on x86_64: the path the program asked for.
    path = read_string(pid, args[1] if nr == 258 else args[0])
    # Read before answering: once answered, the caller may be gone.
    try:
        with open("/proc/%d/stat" % pid) as st:
            ppid = int(st.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        ppid = 0
    val, error, rflags = answer
    try:
        fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(struct.pack("<QqiI", nid, val, error, rflags)), True)
    except OSError as e:
        print(json.dumps({"sendError": e.errno}), flush=True)
    print(json.dumps({"state": state, "nfds": len(fds), "nr": nr, "arch": arch, "pid": pid, "ppid": ppid, "path": path}), flush=True)
