// runc's default device rules (src/cgroups/default-devices.ts) on real
// containers beside runc 1.1.5: tun (c 10:200) is in them, as in runc 1.1
// and again since runc 1.2.4 (1.2.0-1.2.3 left it out, docs/conformance.md);
// a device outside them (fuse, c 10:229) is refused by the devices cgroup
// until a rule allows it. The container mknods both nodes itself (CAP_MKNOD:
// the default rules allow mknod of anything) and opens them.
import t from 'tap';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testConfig, testEnv, uniqueId, type Env } from '../../helpers/harness';
import { runtimes, type Runtime } from '../../helpers/runc';
import type { LinuxDeviceCgroup } from '../../../src/spec/types';

const SCRIPT = [
  // one open file for both streams, so their lines keep their order in the output file
  'exec 2>&1',
  'mknod /dev/tun c 10 200 && mknod /dev/fuse c 10 229 || exit 9',
  'for d in tun fuse; do (exec 3<>/dev/$d) && echo $d:opened; done; true',
].join('; ');

function runWith(env: Env, rt: Runtime, rules: LinuxDeviceCgroup[]): { code: number | null; out: string } {
  const id = uniqueId(`dd-${rt.name}`);
  const c = testConfig(id, ['sh', '-c', SCRIPT]);
  c.linux!.resources = { ...c.linux!.resources, devices: [{ allow: false, access: 'rwm' }, ...rules] };
  const caps = c.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_MKNOD'];
  const r = rt.run(['run', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
  return { code: r.code, out: r.stdout };
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('tun is a default device, fuse is not until a rule allows it', async (t) => {
    const env = testEnv(t);
    const tun = { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' } as const;
    const fuse = { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' } as const;
    for (const rt of runtimes(t, env)) {
      const none = runWith(env, rt, []);
      t.equal(none.code, 0, `${rt.name}: ${none.out}`);
      t.match(none.out, /^tun:opened$/m, `${rt.name}: tun opens without a rule`);
      t.match(
        none.out,
        /can't (open|create) '?\/dev\/fuse'?: Operation not permitted/,
        `${rt.name}: fuse is refused (EPERM)`,
      );
      t.notMatch(none.out, /fuse:opened/);

      const allowed = runWith(env, rt, [fuse]);
      t.match(allowed.out, /^fuse:opened$/m, `${rt.name}: fuse opens with an allow rule: ${allowed.out}`);

      // A deny rule for tun does not take it away: the defaults come after the config's rules (runc 1.1.5 to 1.4).
      const denied = runWith(env, rt, [{ ...tun, allow: false }]);
      t.match(
        denied.out,
        /^tun:opened$/m,
        `${rt.name}: a deny rule for tun is overridden by the default allow: ${denied.out}`,
      );
    }
    env.done();
  });
}
