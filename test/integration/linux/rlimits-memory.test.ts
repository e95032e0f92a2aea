// Address-space limits (RLIMIT_AS, RLIMIT_DATA) the init applies to itself
// before it waits in "created": the runtime-tools suite's process_rlimits
// sets RLIMIT_AS to 1 GiB. The init used to map memory after that (a GC and
// its helper threads) and died with Bun's crash report on the container's
// stderr; it must instead reach the program, which sees the limits.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, testCgroupPath } from '../../helpers/harness';
import { sleep } from '../../helpers/wait';

const GiB = 1024 * 1024 * 1024;
const CRASH = /bun\.report|panic|oh no|Bun v\d/;

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('create, a wait in created, start: the program runs under RLIMIT_AS and RLIMIT_DATA', async (t) => {
    const env = testEnv(t);
    for (let round = 0; round < 3; round++) {
      const id = uniqueId('rl');
      const c = testConfig(id, ['sh', '-c', 'echo as=$(ulimit -v)']);
      c.linux!.cgroupsPath = testCgroupPath(id);
      c.process!.rlimits = [
        { type: 'RLIMIT_AS', soft: GiB, hard: 2 * GiB },
        { type: 'RLIMIT_DATA', soft: 5 * GiB, hard: 6 * GiB },
      ];
      const out = join(env.dir, `${id}.out`);
      t.equal(env.run(['create', '-b', env.bundle(c), id], { output: out }).code, 0, 'create');
      // The init collects its garbage and settles while it waits for start.
      await sleep(300);
      const started = env.run(['start', id]);
      t.equal(started.code, 0, `start: ${started.stderr}`);
      t.equal(env.run(['delete', '--force', id]).code, 0);
      const text = readFileSync(out, 'utf8');
      t.equal(text, `as=${GiB / 1024}\n`, 'the program ran and sees RLIMIT_AS (ulimit -v is in KiB)');
      t.notMatch(text, CRASH, 'no crash report on the container stdio');
    }
    env.done();
  });
}
