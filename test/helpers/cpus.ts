// CPU affinity in tests: the CPUs a new container process should get (what
// the test's own cpuset cgroup allows), and bin/tsrun run under `taskset`
// so that the caller's affinity is narrower than that.
import { spawnSync } from 'node:child_process';
import { readFileSync, openSync, closeSync } from 'node:fs';
import { TSRUN } from './paths';
import { cleanEnv, type Result } from './harness';

/** The cpuset cgroup's effective CPUs for this process ("0-1"), or the online ones without a cpuset hierarchy. */
export function cgroupCpus(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => /^\d+:cpuset:/.test(l) || l.startsWith('0::'));
  const path = line?.slice(line.indexOf(':', line.indexOf(':') + 1) + 1) ?? '/';
  for (const dir of [`/sys/fs/cgroup/cpuset${path}`, `/sys/fs/cgroup${path}`]) {
    try {
      return readFileSync(`${dir}/cpuset.effective_cpus`, 'utf8').trim();
    } catch {
      // not this layout
    }
  }
  return readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
}

/** The CPUs this machine has online, lowest first. */
export function onlineCpus(): number[] {
  return readFileSync('/sys/devices/system/cpu/online', 'utf8')
    .trim()
    .split(',')
    .flatMap((r) => {
      const [lo, hi] = r.split('-').map(Number);
      return Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
    });
}

/** bin/tsrun (or `binary`) with --root, started under `taskset -c cpus`; `output`: a file for its stdio (run -d). */
export function underTaskset(
  cpus: string,
  root: string,
  args: string[],
  opts: { binary?: string; output?: string } = {},
): Result {
  const outFd = opts.output ? openSync(opts.output, 'a') : undefined;
  try {
    const r = spawnSync('taskset', ['-c', cpus, opts.binary ?? TSRUN, '--root', root, ...args], {
      encoding: 'utf8',
      timeout: 60000,
      env: cleanEnv(),
      stdio: outFd === undefined ? 'pipe' : ['ignore', outFd, outFd],
    });
    const text = opts.output ? readFileSync(opts.output, 'utf8') : '';
    return { code: r.status, signal: r.signal, stdout: r.stdout ?? text, stderr: r.stderr ?? text };
  } finally {
    if (outFd !== undefined) closeSync(outFd);
  }
}
