#!/usr/bin/env python3
"""Run a command on a fresh pty as its controlling terminal and drive it.

Usage: pty-drive.py SPEC_JSON
SPEC: {"argv": [...], "env": {...}?, "rows": 24, "cols": 80, "timeout": 30,
       "steps": [{"expect": "regex"} | {"send": "text"} | {"resize": [rows, cols]} | {"sleep": s}]}
Prints one JSON object: output (everything read from the master), code,
signal, timedOut, failedStep, termiosRestored (the pty's settings after the
command exited equal those before it started).
Tests use it for `tsrun run` with a terminal and for `ctr run -t`.
"""
import fcntl, json, os, re, select, signal, struct, subprocess, sys, termios, time

spec = json.loads(sys.argv[1])
master, slave = os.openpty()
winsize = lambda r, c: struct.pack("HHHH", r, c, 0, 0)
fcntl.ioctl(master, termios.TIOCSWINSZ, winsize(spec.get("rows", 24), spec.get("cols", 80)))
before = termios.tcgetattr(slave)
env = dict(os.environ)
env.update(spec.get("env", {}))
proc = subprocess.Popen(
    spec["argv"], stdin=slave, stdout=slave, stderr=slave, env=env,
    start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
)
deadline = time.time() + spec.get("timeout", 30)
out = b""

def pump(wait):
    global out
    r, _, _ = select.select([master], [], [], wait)
    if r:
        try:
            data = os.read(master, 65536)
        except OSError:
            return False
        out += data
        return bool(data)
    return False

result = {"timedOut": False, "failedStep": None}
for i, step in enumerate(spec.get("steps", [])):
    if "expect" in step:
        pat = re.compile(step["expect"].encode())
        while not pat.search(out) and time.time() < deadline and proc.poll() is None:
            pump(0.05)
        if not pat.search(out):
            result["failedStep"] = i
            break
    elif "send" in step:
        os.write(master, step["send"].encode())
    elif "resize" in step:
        fcntl.ioctl(master, termios.TIOCSWINSZ, winsize(*step["resize"]))
    elif "sleep" in step:
        end = time.time() + step["sleep"]
        while time.time() < end:
            pump(0.02)

while proc.poll() is None and time.time() < deadline:
    pump(0.05)
if proc.poll() is None:
    result["timedOut"] = True
    proc.kill()
    proc.wait()
while pump(0.1):
    pass
after = termios.tcgetattr(slave)
code = proc.returncode
result.update({
    "output": out.decode("utf8", "replace"),
    "code": code if code >= 0 else None,
    "signal": -code if code < 0 else None,
    "termiosRestored": before == after,
})
print(json.dumps(result))
