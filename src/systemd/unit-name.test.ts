import t from 'tap';
import { expandSlice, systemdUnit } from './unit-name';

t.test('runc form and defaults', async (t) => {
  t.same(
    systemdUnit(undefined, 'abc'),
    { slice: 'system.slice', unit: 'runc-abc.scope', name: 'abc' },
    'empty: runc-<id>.scope',
  );
  t.same(systemdUnit('', 'abc'), { slice: 'system.slice', unit: 'runc-abc.scope', name: 'abc' });
  t.same(
    systemdUnit('', 'abc', true),
    { slice: 'user.slice', unit: 'runc-abc.scope', name: 'abc' },
    'rootless: user.slice',
  );
  t.same(systemdUnit('machine.slice:libpod:123', 'x'), {
    slice: 'machine.slice',
    unit: 'libpod-123.scope',
    name: '123',
  });
  t.same(
    systemdUnit(':cri-containerd:9', 'x'),
    { slice: 'system.slice', unit: 'cri-containerd-9.scope', name: '9' },
    'empty slice',
  );
});

t.test('malformed paths name the field and the form', async (t) => {
  for (const bad of ['bad', 'a:b', 'a:b:c:d', '/x/y']) {
    t.throws(() => systemdUnit(bad, 'x'), { message: /linux\.cgroupsPath: expected .*"slice:prefix:name"/ }, bad);
  }
  t.throws(() => systemdUnit('foo:a:b', 'x'), { message: /invalid slice name "foo"/ }, 'a slice ends in .slice');
  t.throws(() => systemdUnit('a.slice:p:', 'x'), { message: /empty name/ });
  t.throws(() => systemdUnit('a.slice:p:x/y', 'x'), { message: /the name .* contains "\/"/ });
  t.throws(() => systemdUnit('a.slice:p:b.slice', 'x'), { message: /is a slice, which cannot hold processes/ });
});

t.test('slices nest by their dashes', async (t) => {
  t.equal(expandSlice('system.slice'), '/system.slice');
  t.equal(
    expandSlice('kubepods-besteffort-pod1.slice'),
    '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice',
  );
  t.equal(expandSlice('-.slice'), '/');
  for (const bad of ['a--b.slice', '-a.slice', 'a-.slice', 'x', 'a/b.slice', '.slice'])
    t.throws(() => expandSlice(bad), { message: /invalid slice name/ }, bad);
});
