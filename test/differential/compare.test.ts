// Unit tests of the differential harness's comparison (conformance/differential/compare.mjs):
// which fields differ, and how explained.json's globs match a variant and a field.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { differences, explain, glob, loadExplanations } from '../../conformance/differential/compare.mjs';

t.test('differences lists each differing field once, sorted, "(absent)" where one side has none', (t) => {
  const d = differences({ a: '1', b: '2', c: '3' }, { b: '2', c: 'x', d: '4' });
  t.same(d, [
    { field: 'a', runtime: '1', reference: '(absent)' },
    { field: 'c', runtime: '3', reference: 'x' },
    { field: 'd', runtime: '(absent)', reference: '4' },
  ]);
  t.same(differences({ a: '1' }, { a: '1' }), [], 'equal records: nothing');
  t.end();
});

t.test('glob: * is any run, [..] one of the characters, everything else literal', (t) => {
  t.ok(glob('exec-*').test('exec-process'));
  t.notOk(glob('exec-*').test('ns-exec-x'), 'anchored at the start');
  t.ok(glob('fds.[012]').test('fds.2'));
  t.notOk(glob('fds.[012]').test('fds.3'), 'a preserved fd is not covered');
  t.notOk(glob('fds.0').test('fdsx0'), '. is literal');
  t.notOk(glob('a+b').test('aab'), '+ is literal');
  t.ok(glob('files./sys/fs/cgroup/pids/pids.max').test('files./sys/fs/cgroup/pids/pids.max'));
  t.end();
});

t.test('loadExplanations checks each entry and explain counts what it matched', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-compare-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'explained.json');
  writeFileSync(file, JSON.stringify([{ variant: 'v*', field: 'f', why: 'because', ref: 'config.md' }]));
  const list = loadExplanations(file);
  t.equal(explain(list, 'v1', 'f')?.why, 'because');
  t.equal(explain(list, 'v1', 'g'), undefined, 'another field: unexplained');
  t.equal(explain(list, 'w', 'f'), undefined, 'another variant: unexplained');
  t.equal(list[0].used, 1, 'one use counted: unused entries are reported stale');
  writeFileSync(file, JSON.stringify([{ variant: 'v', field: 'f', why: '' }]));
  t.throws(() => loadExplanations(file), /entry 0: "why" must be a non-empty string/);
  t.end();
});

t.test("the repository's explained.json loads and every entry names a variant pattern that exists", async (t) => {
  const { variants } = await import('../../conformance/differential/variants.mjs');
  const list = loadExplanations(join(__dirname, '../../conformance/differential/explained.json'));
  for (const e of list)
    t.ok(
      variants.some((v) => e.variantRe.test(v.name)),
      `${e.variant} matches a variant`,
    );
});
