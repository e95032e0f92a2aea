import t from 'tap';
import { defaultSpec } from './default';
import { deviceRulesWarning, unsupportedFields } from './unsupported';

t.test('resources other than devices, and seccomp, are refused for now', async (t) => {
  const c = defaultSpec() as any;
  t.same(unsupportedFields(c), []);
  c.linux.resources.memory = { limit: 1 << 20 };
  c.linux.resources.pids = { limit: 10 };
  c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  t.same(unsupportedFields(c), [
    'config.json: /linux/resources/memory: not supported yet',
    'config.json: /linux/resources/pids: not supported yet',
    'config.json: /linux/seccomp: not supported yet',
  ]);
});

t.test('"no limit" values that clients send by default are not requests', async (t) => {
  const c = defaultSpec() as any;
  c.linux.resources = { ...c.linux.resources, memory: { disableOOMKiller: false, limit: -1 }, cpu: { shares: 0, cpus: '' }, pids: { limit: 0 }, blockIO: {} };
  t.same(unsupportedFields(c), []);
});

t.test('device rules are a warning', async (t) => {
  const c = defaultSpec() as any;
  t.equal(deviceRulesWarning(c), 'config.json: /linux/resources/devices: device cgroup rules are not enforced yet');
  delete c.linux.resources;
  t.equal(deviceRulesWarning(c), undefined);
});
