import t from 'tap';
import { unimplementedFields } from './unimplemented';
import { defaultSpec } from './default';
import type { Spec } from './types';

t.test('a default config asks for nothing unimplemented', async (t) => {
  t.same(unimplementedFields(defaultSpec()), []);
});

t.test('each unimplemented field that asks for something is named', async (t) => {
  const c = defaultSpec() as Spec & { linux: Record<string, unknown> };
  c.linux.intelRdt = { closID: 'x' };
  c.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
  t.same(
    unimplementedFields(c).map((l) => l.split(':').slice(0, 2).join(':')),
    ['config.json: /linux/intelRdt', 'config.json: /linux/mountLabel'],
  );
});

t.test('empty values ask for nothing', async (t) => {
  const c = defaultSpec() as Spec & { linux: Record<string, unknown> };
  c.linux.mountLabel = '';
  t.same(unimplementedFields(c), []);
});
