// Test fixture, run by rootfs.test.ts as pid 1 of fresh mount/pid/uts
// namespaces (unshare): sets up the rootfs exactly like the init does, then
// probes the result from inside and prints one JSON report on stdout.
//   node --import tsx rootfs.fixture.ts PLAN.json
import { readFileSync, writeFileSync, lstatSync, statSync, readlinkSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { prepareRootfs, pivotRoot, finishRootfs, setHostname, applySysctl, type RootfsPlan } from './rootfs';

interface FixturePlan extends RootfsPlan {
  probes: string[];
  /** Write a file between prepareRootfs and pivotRoot (what a createRuntime hook could do). */
  expectFailure?: boolean;
}

export interface Probe {
  path: string;
  exists: boolean;
  kind?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  major?: number;
  minor?: number;
  link?: string;
  content?: string;
  entries?: string[];
  writeError?: string;
}

function probe(path: string): Probe {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return { path, exists: false };
  }
  const out: Probe = { path, exists: true, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  if (st.isSymbolicLink()) {
    out.kind = 'symlink';
    out.link = readlinkSync(path);
    return out;
  }
  if (st.isDirectory()) {
    out.kind = 'dir';
    out.entries = readdirSync(path).sort();
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    out.kind = st.isCharacterDevice() ? 'char' : 'block';
    out.major = Math.floor(st.rdev / 256) & 0xfff;
    out.minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
    // Only the null device is safe to read whole (masked paths are bound to it).
    if (out.kind === 'char' && out.major === 1 && out.minor === 3) out.content = readFileSync(path, 'utf8');
  } else if (st.isFIFO()) {
    out.kind = 'fifo';
  } else if (st.isFile()) {
    out.kind = 'file';
    try {
      out.content = readFileSync(path, 'utf8').slice(0, 200);
    } catch (err) {
      out.content = `<${(err as NodeJS.ErrnoException).code}>`;
    }
  }
  try {
    const target = out.kind === 'dir' ? `${path}/.tsrun-probe` : path;
    if (out.kind === 'dir' || out.kind === 'file') writeFileSync(target, '', { flag: out.kind === 'dir' ? 'wx' : 'a' });
    out.writeError = '';
  } catch (err) {
    out.writeError = (err as NodeJS.ErrnoException).code ?? String(err);
  }
  void statSync;
  return out;
}

function main(): void {
  const plan = JSON.parse(readFileSync(process.argv[2], 'utf8')) as FixturePlan;
  let report: Record<string, unknown>;
  try {
    prepareRootfs(plan);
    pivotRoot(plan);
    // The init's order: finishRootfs first; the later calls must be no-ops
    // (sysctl would otherwise hit the read-only /proc/sys).
    finishRootfs(plan);
    setHostname(plan.config);
    applySysctl(plan.config);
    report = {
      ok: true,
      hostname: hostname(),
      cwd: readlinkSync('/proc/self/cwd'),
      mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'),
      probes: plan.probes.map(probe),
    };
  } catch (err) {
    report = { ok: false, error: String((err as Error).message ?? err), name: (err as Error).name };
  }
  process.stdout.write(JSON.stringify(report));
}

main();
