import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableControllers } from './enable';

// A stand-in tree of plain files: what enableControllers reads and writes there.
function tree(t: Test, procs: { root?: string; mid?: string }) {
  const mount = mkdtempSync(join(tmpdir(), 'tsrun-enable-'));
  t.teardown(() => rmSync(mount, { recursive: true, force: true }));
  const mid = join(mount, 'mid');
  mkdirSync(join(mid, 'c'), { recursive: true });
  for (const [d, p] of [
    [mount, procs.root ?? ''],
    [mid, procs.mid ?? ''],
  ]) {
    writeFileSync(join(d, 'cgroup.procs'), p);
    writeFileSync(join(d, 'cgroup.subtree_control'), '');
  }
  const control = (d: string) => readFileSync(join(d, 'cgroup.subtree_control'), 'utf8');
  return { mount, mid, dir: join(mid, 'c'), control };
}

t.test('every ancestor from the mount down gets the controllers; the root may hold processes', async (t) => {
  const { mount, mid, dir, control } = tree(t, { root: '1\n' });
  enableControllers(mount, dir, new Set(['memory', 'pids']), new Map());
  t.equal(control(mount), '+memory +pids');
  t.equal(control(mid), '+memory +pids');
});

t.test('a parent holding processes: an error naming the fields that need the controller', async (t) => {
  const { mount, mid, dir, control } = tree(t, { mid: '42\n' });
  const needed = new Map([['memory', ['linux.resources.memory.limit', 'linux.resources.unified["memory.high"]']]]);
  t.throws(
    () => enableControllers(mount, dir, new Set(['memory', 'pids']), needed),
    new RegExp(
      '^linux\\.resources\\.memory\\.limit, linux\\.resources\\.unified\\["memory\\.high"\\]: the memory controller ' +
        `cannot be enabled for ${dir}: ${mid} holds processes \\(42\\)`,
    ),
  );
  t.equal(control(mid), '', 'nothing written where it cannot work');
});

t.test('a parent holding processes: no field needs a controller, so none is asked for there', async (t) => {
  const { mount, mid, dir, control } = tree(t, { mid: '42\n' });
  enableControllers(mount, dir, new Set(['memory', 'pids']), new Map());
  t.equal(control(mount), '+memory +pids');
  t.equal(control(mid), '');
});
