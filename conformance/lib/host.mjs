// Observations of container processes from the host side.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { parseMountinfo } from './check.mjs';
import { sleep } from './runtime.mjs';

export function nsLink(pid, type) {
  return fs.readlinkSync(`/proc/${pid}/ns/${type}`);
}

export function alive(pid) {
  try {
    // A zombie still has /proc/PID; treat it as gone.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Host directories of every cgroup PID is in (v1 hierarchies and the v2 mount). */
export function cgroupDirs(pid) {
  const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).filter(
    (m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2',
  );
  const dirs = [];
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    if (!line) continue;
    const [hid, controllers, ...rest] = line.split(':');
    const cgPath = rest.join(':');
    let mount;
    if (hid === '0') mount = mounts.find((m) => m.fstype === 'cgroup2');
    else mount = mounts.find((m) => m.fstype === 'cgroup' && controllers.split(',').every((c) => m.superOpts.has(c)));
    if (mount && mount.root === '/')
      dirs.push({ controllers: controllers || 'unified', dir: mount.mountPoint + (cgPath === '/' ? '' : cgPath) });
  }
  return dirs;
}

/**
 * Start `unshare` holding new namespaces with a sleeping process; resolves
 * to the pid whose /proc/PID/ns/* are the new namespaces.
 */
export async function namespaceHolder(t, unshareArgs) {
  const child = spawn('unshare', [...unshareArgs, '/bin/sleep', '1000'], { stdio: 'ignore', detached: true });
  child.unref();
  t.trackPid(child.pid);
  const me = fs.readlinkSync('/proc/self/exe');
  const deadline = Date.now() + 5000;
  // Wait for unshare to have exec'd sleep (then the namespaces exist).
  while (Date.now() < deadline) {
    // With --fork the sleeping process is unshare's child.
    for (const pid of [child.pid, ...childrenOf(child.pid)]) {
      let exe = '';
      try {
        exe = fs.readlinkSync(`/proc/${pid}/exe`);
      } catch {}
      if (exe && exe !== me && !exe.endsWith('/unshare')) {
        if (pid !== child.pid) t.trackPid(pid);
        return pid;
      }
    }
    await sleep(10);
  }
  throw new Error('namespace holder did not start');
}

function childrenOf(pid) {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((task) =>
        fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number),
      );
  } catch {
    return [];
  }
}
