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
  c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
  c.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
  t.same(unimplementedFields(c).map((l) => l.split(':').slice(0, 2).join(':')), [
    'config.json: /linux/intelRdt',
    'config.json: /linux/memoryPolicy',
    'config.json: /linux/mountLabel',
  ]);
});

t.test('empty values ask for nothing', async (t) => {
  const c = defaultSpec() as Spec & { linux: Record<string, unknown> };
  c.linux.mountLabel = '';
  t.same(unimplementedFields(c), []);
});

t.test('the idmap and ridmap mount options are refused by name', async (t) => {
  const c = defaultSpec();
  c.mounts!.push({ destination: '/a', source: '/tmp', type: 'bind', options: ['rbind', 'idmap'] });
  c.mounts!.push({ destination: '/b', source: '/tmp', type: 'bind', options: ['ridmap', 'bind'] });
  const n = c.mounts!.length;
  t.same(unimplementedFields(c), [
    `config.json: /mounts/${n - 2}/options/1: "idmap": idmapped mounts are not supported by tsrun yet`,
    `config.json: /mounts/${n - 1}/options/0: "ridmap": idmapped mounts are not supported by tsrun yet`,
  ]);
});
