// The harness's scratch space: a temp dir (rootfs with the probe, one bundle
// dir and state root per runtime), the host's namespaces to compare with, and
// a cgroup parent below the harness's own cgroup; cleanupSuite removes it all
// and says what it could not remove.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'pid_for_children', 'time', 'time_for_children', 'user', 'uts'];

export function makeSuite(repo) {
  const [probe, reaper] = ['probe', 'reaper'].map((tool) => path.join(repo, 'build', tool));
  for (const tool of [probe, reaper])
    if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: npm run build makes it (native/)`);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-diff-'));
  fs.chmodSync(base, 0o755);
  const rootfs = path.join(base, 'rootfs');
  const mk = spawnSync(path.join(repo, 'hack/mkrootfs.sh'), [rootfs], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`hack/mkrootfs.sh failed: ${mk.stderr}`);
  fs.copyFileSync(probe, path.join(rootfs, 'probe'));
  fs.chmodSync(path.join(rootfs, 'probe'), 0o755);
  // Mount points the variants use, made once: the rootfs is shared read-only by every bundle.
  for (const d of ['out', 'mnt/ro', 'mnt/rw', 'mnt/tmp', 'mnt/shared', 'mnt/slave', 'mnt/private', 'mnt/unbindable'])
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'etc/probe-file'), '');
  const hostNs = Object.fromEntries(NS.map((n) => [fs.readlinkSync(`/proc/self/ns/${n}`), 'host']));
  const dev = fs.statSync(base).dev;
  const rootDevice = `${(dev >> 8) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
  return { base, rootfs, hostNs, rootDevice, reaper, cgroupParent: `tsrun-diff-${process.pid}` };
}

/** Where the relative cgroup parent lands in each hierarchy (below this process's own cgroup). */
function cgroupDirs(relative) {
  return fs
    .readFileSync('/proc/self/cgroup', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [, controllers, own] = line.split(':');
      const mountDir = controllers === '' ? 'unified' : controllers.replace(/^name=/, '');
      return path.join('/sys/fs/cgroup', mountDir, own, relative);
    })
    .filter((d) => fs.existsSync(d));
}

/** rmdir a cgroup directory and its children (cgroup dirs hold no removable files); false if one stays. */
function removeCgroup(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {}
  return !fs.existsSync(dir);
}

/** Remove everything the suite made; returns what was left behind (containers, mounts, cgroups). */
export function cleanupSuite(suite, runtimes, keep) {
  const left = [];
  for (const rt of runtimes)
    for (const id of fs.existsSync(rt.stateRoot) ? fs.readdirSync(rt.stateRoot) : []) {
      left.push(`${rt.name} container ${id}`);
      spawnSync(rt.binary, ['--root', rt.stateRoot, 'delete', '--force', id]);
    }
  for (const dir of cgroupDirs(suite.cgroupParent)) if (!removeCgroup(dir)) left.push(`cgroup ${dir}`);
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && m.startsWith(suite.base + '/'));
  for (const m of mounts.reverse()) {
    left.push(`mount ${m}`);
    spawnSync('umount', ['-l', m]);
  }
  if (keep) console.log(`kept ${suite.base}`);
  else fs.rmSync(suite.base, { recursive: true, force: true });
  return left;
}
