// `tsrun create` killed with SIGKILL at any moment must leave a container
// that `delete --force` removes completely: state dir, processes, cgroups.
import t from 'tap';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  TSRUN,
  cleanEnv,
  cgroupDirsOf,
} from '../../helpers/harness';
import { waitFor } from '../../helpers/wait';

function pidsIn(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    try {
      for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
    } catch {
      // removed meanwhile
    }
  }
  return [...pids];
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Start `tsrun create` and SIGKILL it after `delayMs`; resolves when it is gone. */
function createAndKill(root: string, bundle: string, id: string, out: string, delayMs: number): Promise<number | null> {
  const fd = openSync(out, 'a');
  const child = spawn(TSRUN, ['--root', root, 'create', '-b', bundle, id], {
    stdio: ['ignore', fd, fd],
    env: cleanEnv(),
  });
  closeSync(fd);
  const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('SIGKILL of create at random points, 20 times', async (t) => {
    const env = testEnv(t);
    // How long a whole create takes here, to spread the kill points over it.
    // (The bundle first: the first testConfig builds the shared rootfs, which
    // took ten times longer than a create and made most kills land too late.)
    const probeId = uniqueId('probe');
    const probe = env.bundle(testConfig(probeId, ['sleep', '100']));
    const started = Date.now();
    await createAndKill(env.root, probe, probeId, join(env.dir, 'probe.out'), 60000);
    const full = Math.max(50, Date.now() - started);
    t.equal(env.run(['delete', '--force', probeId]).code, 0, 'probe deleted');
    t.comment(`a full create takes ~${full} ms here`);

    const outcomes = { killed: 0, finished: 0 };
    for (let i = 0; i < 20; i++) {
      const id = uniqueId('crash');
      const config = testConfig(id, ['sleep', '100']);
      const bundle = env.bundle(config);
      const delay = Math.floor(Math.random() * full * 1.1);
      const code = await createAndKill(env.root, bundle, id, join(env.dir, `${id}.out`), delay);
      if (code === null) outcomes.killed++;
      else outcomes.finished++;
      const cg = config.linux!.cgroupsPath!;
      const pids = pidsIn(cgroupDirsOf(cg));
      const del = env.run(['delete', '--force', id]);
      t.ok(del.code === 0, `delete --force after a kill at ${delay} ms: ${del.stderr}`);
      t.notOk(existsSync(join(env.root, id)), 'state dir removed');
      t.same(cgroupDirsOf(cg), [], 'no cgroup left in any hierarchy');
      // Processes that never reached the cgroup exit by themselves when their parent's socket closes.
      await waitFor(() => !pids.some(alive), { timeoutMs: 5000 });
      t.same(pids.filter(alive), [], 'no container process left');
    }
    t.comment(`create killed ${outcomes.killed} times, finished ${outcomes.finished} times`);
    t.ok(outcomes.killed > 0, 'at least some kills landed mid-create');
    env.done();
  });
}
