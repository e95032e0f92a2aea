// process.env naming a variable twice (issue 18, found by the differential
// harness): runc 1.1.5 hands the program one entry, in the first one's place
// with the last one's value; tsrun handed over both. Both runtimes run the
// same bundle here.
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
}
