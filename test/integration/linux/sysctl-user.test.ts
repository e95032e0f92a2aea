// user.* sysctls (the ucounts limits, runc 1.4): each user namespace has its
// own, written by the init from inside the container's. Allowed with a user
// namespace in the config; refused without one, where the write would set the
// host's limit for every process. runc 1.1.5 refuses them in both cases
// (docs/conformance.md); the same bundles run under it when it is installed.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  cgroupDirsOf,
  testCgroupPath,
} from '../../helpers/harness';
import { runtimes } from '../../helpers/runc';
import type { Spec } from '../../../src/spec/types';

const FILE = '/proc/sys/user/max_user_namespaces';
const REFUSAL = new RegExp(
  '^tsrun: config\\.json: /linux/sysctl/user\\.max_user_namespaces: sysctl "user\\.max_user_namespaces" ' +
    "needs a user namespace in /linux/namespaces; without one it sets the host's limit$",
  'm',
);
const hostValue = () => readFileSync(FILE, 'utf8').trim();

/** A config setting user.max_user_namespaces to `value`, with a user namespace of its own or none. */
function config(id: string, value: string, userns: boolean): Spec {
  const c = testConfig(id, ['cat', FILE]);
  c.linux!.sysctl = { 'user.max_user_namespaces': value };
  if (userns) {
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  }
  return c;
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  const before = hostValue();
  // Below the host's limit (a child's limit never raises its parent's), and different from it.
  const value = String(Math.max(1, Math.min(Number(before), 1000) - 7));

  t.test('with a user namespace: written in the container, the host keeps its value', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`us-${rt.name}`);
      const out = join(env.dir, `${id}.out`);
      const r = rt.run(['run', '-b', env.bundle(config(id, value, true)), id], { output: out });
      if (rt.name === 'tsrun') {
        t.equal(r.code, 0, `tsrun runs it: ${r.stdout}`);
        t.equal(r.stdout.trim(), value, `the container's ${FILE} is ${value}`);
      } else {
        // runc 1.1.5 predates the change (runc 1.4 runs it, as tsrun does).
        t.not(r.code, 0, 'runc 1.1.5 refuses it');
        t.match(r.stderr, /sysctl \\?"user\.max_user_namespaces\\?" is not in a separate kernel namespace/, r.stderr);
      }
      t.equal(hostValue(), before, `${rt.name}: the host's ${FILE} is still ${before}`);
      t.same(cgroupDirsOf(testCgroupPath(id)), [], `${rt.name}: no cgroup left`);
    }
    env.done();
  });

  t.test('without a user namespace: refused by name, nothing written or left', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`usno-${rt.name}`);
      const out = join(env.dir, `${id}.out`);
      const r = rt.run(['create', '-b', env.bundle(config(id, value, false)), id], { output: out });
      t.not(r.code, 0, `${rt.name} refuses it`);
      t.match(r.stderr, rt.name === 'tsrun' ? REFUSAL : /user\.max_user_namespaces/, rt.name);
      t.equal(hostValue(), before, `${rt.name}: the host's ${FILE} is still ${before}`);
      t.same(cgroupDirsOf(testCgroupPath(id)), [], `${rt.name}: no cgroup left`);
      t.not(rt.run(['state', id]).code, 0, `${rt.name}: no container ${id}`);
    }
    env.done();
  });

  t.test('with a user namespace, a value the kernel refuses fails create naming the file; nothing left', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('usbad');
    const r = env.run(['create', '-b', env.bundle(config(id, 'many', true)), id], {
      output: join(env.dir, `${id}.out`),
    });
    t.not(r.code, 0, 'refused');
    t.match(r.stderr, /user[./]max_user_namespaces[^\n]*many[^\n]*EINVAL/, r.stderr.trim());
    t.equal(hostValue(), before, `the host's ${FILE} is still ${before}`);
    t.same(cgroupDirsOf(testCgroupPath(id)), [], 'no cgroup left');
    env.done();
  });
}
