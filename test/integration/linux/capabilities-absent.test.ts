// A process without a `capabilities` object (issue 18, found by the
// differential harness): runc 1.1.5 gives it no capabilities at all, the
// bounding set included; tsrun kept its own, every capability of its caller.
// Both runtimes run the same bundles here.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, waitStatus } from '../../helpers/harness';
import { runtimes } from '../../helpers/runc';

const SCRIPT = ['sh', '-c', 'grep ^Cap /proc/self/status'];
const capLines = (out: string) => (out.match(/^Cap\w+:\s+[0-9a-f]+$/gm) ?? []).map((l) => l.replace(/\s+/, ' '));
const NONE = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'].map((k) => `${k}: 0000000000000000`);

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('the init: no capabilities object, no capabilities', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`nocaps-${rt.name}`);
      const config = testConfig(id, SCRIPT);
      delete config.process!.capabilities;
      const out = join(env.dir, `${id}.out`);
      const r = rt.run(['run', '-b', env.bundle(config), id], { output: out });
      const text = readFileSync(out, 'utf8');
      t.equal(r.code, 0, `${rt.name} runs it: ${text}`);
      t.same(capLines(text), NONE, `${rt.name}: every set empty`);
    }
    env.done();
  });

  t.test('exec --process without capabilities: what runc gives, never the caller`s', async (t) => {
    const env = testEnv(t);
    const seen: Record<string, string[]> = {};
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`nocaps-exec-${rt.name}`);
      const config = testConfig(id, ['sleep', '100']);
      t.equal(rt.run(['run', '-d', '-b', env.bundle(config), id], { output: join(env.dir, `${id}.run`) }).code, 0);
      waitStatus({ ...env, run: rt.run }, id, 'running');
      const proc = join(env.dir, `${id}.process.json`);
      writeFileSync(proc, JSON.stringify({ args: SCRIPT, cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
      const r = rt.run(['exec', '--process', proc, id]);
      t.equal(r.code, 0, `${rt.name} exec: ${r.stderr}`);
      seen[rt.name] = capLines(r.stdout);
      t.notMatch(seen[rt.name].join('\n'), /CapBnd: 000001ff/, `${rt.name}: not the caller's bounding set`);
      rt.run(['delete', '--force', id]);
    }
    if (seen.runc) t.same(seen.tsrun, seen.runc, 'tsrun gives what runc gives');
    env.done();
  });
}
