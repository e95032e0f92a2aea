// process.env naming a variable twice (issue 18, found by the differential
// harness): runc 1.1.5 hands the program one entry, in the first one's place
// with the last one's value; tsrun handed over both. Both runtimes run the
// same bundle here. exec --env setting a name config.json's env has: runc
// 1.1.5 appends it, so the name keeps its place with the new value; tsrun
// moved it to the end (found by the harness's exec-flags variant).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId } from '../../helpers/harness';
import { runtimes } from '../../helpers/runc';

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('a repeated name: one entry, first place, last value', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`env-${rt.name}`);
      const config = testConfig(id, ['/bin/env']);
      config.process!.env = ['A=1', 'PATH=/bin', 'B=x', 'A=2', 'HOME=/tmp', 'B=y'];
      const out = join(env.dir, `${id}.out`);
      const r = rt.run(['run', '-b', env.bundle(config), id], { output: out });
      const text = readFileSync(out, 'utf8');
      t.equal(r.code, 0, `${rt.name} runs it: ${text}`);
      t.same(text.trim().split('\n'), ['A=2', 'PATH=/bin', 'B=y', 'HOME=/tmp'], `${rt.name}: the environment`);
    }
    env.done();
  });

  t.test('exec --env: a name of the config keeps its place, with the new value', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`envx-${rt.name}`);
      const config = testConfig(id, ['sleep', '300']);
      config.process!.env = ['PATH=/bin', 'TERM=xterm', 'A=1'];
      const r = rt.run(['run', '-d', '-b', env.bundle(config), id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 0, `${rt.name} run -d: ${r.stderr}`);
      const x = rt.run(['exec', '--env', 'B=2', '--env', 'PATH=/usr/bin:/bin', '--env', 'A=3', id, '/bin/env']);
      t.equal(x.code, 0, `${rt.name} exec: ${x.stderr}`);
      const lines = x.stdout.trim().split('\n');
      t.same(lines, ['PATH=/usr/bin:/bin', 'TERM=xterm', 'A=3', 'B=2', 'HOME=/root'], `${rt.name}: the environment`);
      rt.run(['delete', '--force', id]);
    }
    env.done();
  });
}
