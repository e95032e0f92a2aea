// The differential harness (conformance/differential/, docs/differential.md):
// every bundle variant under bin/tsrun and runc, the probe's view compared
// field by field. Fails on any difference not listed, with its clause, in
// conformance/differential/explained.json, and on anything left behind.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, isRoot, REPO, ROOT_REASON } from '../../helpers/harness';
import { hasRunc } from '../../helpers/runc';

interface Verdict {
  variant: string;
  diffs: { field: string; explained?: unknown }[];
  problems: string[];
}

const probe = join(REPO, 'build', 'probe');

if (!isRoot) t.plan(0, ROOT_REASON);
else if (!hasRunc) t.plan(0, 'runc is not on PATH: the differential harness compares tsrun with it');
else if (!existsSync(probe)) t.plan(0, `${probe} is missing: npm run build makes it`);
else {
  t.test('every variant runs the same under tsrun and runc, or the difference is explained', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-differential-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const json = join(dir, 'verdicts.json');
    const started = Date.now();
    const r = spawnSync(
      process.execPath,
      [join(REPO, 'conformance/differential/run.mjs'), '--jobs', '2', '--json', json],
      {
        encoding: 'utf8',
        env: cleanEnv(),
        timeout: 240000,
      },
    );
    t.comment(`differential harness: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const out = `${r.stdout}${r.stderr}`;
    t.equal(r.status, 0, 'no unexplained difference, no problem, nothing left behind', { output: out });
    if (r.status !== 0) t.comment(out);
    if (existsSync(json)) {
      const verdicts = (JSON.parse(readFileSync(json, 'utf8')) as { verdicts: Verdict[] }).verdicts;
      t.ok(verdicts.length >= 60, `${verdicts.length} variants ran`);
      const open = verdicts.flatMap((v) => [
        ...v.problems.map((p) => `${v.variant}: ${p}`),
        ...v.diffs.filter((d) => !d.explained).map((d) => `${v.variant}: ${d.field}`),
      ]);
      t.same(open, [], 'every difference is explained');
    }
    t.end();
  });
}
