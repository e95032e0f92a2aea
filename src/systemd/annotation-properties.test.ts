import t from 'tap';
import { annotationProperties, parseGVariant } from './annotation-properties';

t.test('GVariant text values', async (t) => {
  t.same(parseGVariant('uint64 5000'), { signature: 't', value: '5000' });
  t.same(parseGVariant('uint32 7'), { signature: 'u', value: 7 });
  t.same(parseGVariant('int64 -1'), { signature: 'x', value: '-1' });
  t.same(parseGVariant('42'), { signature: 'i', value: 42 }, 'a bare integer is an int32');
  t.same(parseGVariant('1.5'), { signature: 'd', value: 1.5 });
  t.same(parseGVariant('true'), { signature: 'b', value: true });
  t.same(parseGVariant('boolean false'), { signature: 'b', value: false });
  t.same(parseGVariant("'a b'"), { signature: 's', value: 'a b' });
  t.same(parseGVariant('"it\'s"'), { signature: 's', value: "it's" });
  t.same(parseGVariant("['a.service', 'b.service']"), { signature: 'as', value: ['a.service', 'b.service'] });
  for (const bad of ['uint32 -1', 'uint64 x', 'byte 256', 'nope', "'open", '{1: 2}'])
    t.throws(() => parseGVariant(bad), { message: /./ }, bad);
});

t.test('annotations: prefix, names, seconds', async (t) => {
  t.same(
    annotationProperties({
      'org.systemd.property.TimeoutStopSec': 'uint64 5',
      'org.systemd.property.RuntimeMaxSec': '1.5',
      'org.systemd.property.CollectMode': "'inactive-or-failed'",
      'org.systemd.property.After': "['a.service']",
      'other.annotation': 'x',
    }),
    [
      { name: 'TimeoutStopUSec', signature: 't', value: '5000000' },
      { name: 'RuntimeMaxUSec', signature: 't', value: '1500000' },
      { name: 'CollectMode', signature: 's', value: 'inactive-or-failed' },
      { name: 'After', signature: 'as', value: ['a.service'] },
    ],
  );
  t.same(annotationProperties(undefined), []);
  t.throws(() => annotationProperties({ 'org.systemd.property.Ab': '1' }), {
    message: /annotations\["org\.systemd\.property\.Ab"\]: "Ab" is not a unit property name/,
  });
  t.throws(() => annotationProperties({ 'org.systemd.property.Foo_Bar': '1' }), { message: /not a unit property/ });
  t.throws(() => annotationProperties({ 'org.systemd.property.TimeoutStopSec': "'x'" }), {
    message: /TimeoutStopSec"\]: a duration in seconds must be a number/,
  });
  t.throws(() => annotationProperties({ 'org.systemd.property.X': 'what' }), {
    message: /annotations\["org\.systemd\.property\.X"\]/,
  });
});
