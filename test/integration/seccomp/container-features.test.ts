// `tsrun features` says what linux.seccomp input tsrun takes; hold it to
// that: every action, operator and architecture listed compiles, and every
// flag listed as supported loads in a real container and the filter works.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, TSRUN, cleanEnv, REPO } from '../../helpers/harness';
import type { LinuxSeccomp } from '../../../src/spec/types';
import { compileSeccomp } from '../../../src/seccomp/compile';
import type { SeccompFeatures } from '../../../src/seccomp/features';
import { runTsrun, runRunc, cleanupRunc } from '../../helpers/seccomp-container';
import { skipBecause } from '../../helpers/skip';

function reported(): SeccompFeatures {
  const r = spawnSync(TSRUN, ['features'], { encoding: 'utf8', env: cleanEnv() });
  if (r.status !== 0) throw new Error(`tsrun features: ${r.stderr}`);
  return JSON.parse(r.stdout).linux.seccomp;
}

/** The enum of a property in the spec's schema for linux.seccomp. */
function schemaEnum(name: string): string[] {
  const defs = JSON.parse(readFileSync(join(REPO, 'schemas/config-linux.schema.json'), 'utf8')).definitions;
  return [...defs[name].enum].sort();
}

t.test('tsrun features: linux.seccomp', async (t) => {
  const f = reported();
  t.equal(f.enabled, true);
  t.same(f.actions, schemaEnum('seccompAction'), 'every action of the spec');
  t.same(f.operators, schemaEnum('seccompOperator'), 'every operator of the spec');
  t.same(f.knownFlags, schemaEnum('seccompFlag'), 'every flag of the spec');
  t.ok(
    f.supportedFlags.every((x) => f.knownFlags.includes(x)),
    'supported flags are known flags',
  );
  for (const action of f.actions) {
    const rule = { names: ['mkdir'], action } as never;
    const s: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [rule],
      ...(action === 'SCMP_ACT_NOTIFY' ? { listenerPath: '/run/agent.sock' } : {}),
    };
    t.doesNotThrow(() => compileSeccomp(s), `${action} compiles`);
  }
  for (const op of f.operators) {
    t.doesNotThrow(
      () =>
        compileSeccomp({
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            {
              names: ['mkdir'],
              action: 'SCMP_ACT_ERRNO',
              args: [{ index: 1, op: op as never, value: 1, valueTwo: 1 }],
            },
          ],
        }),
      `${op} compiles`,
    );
  }
  for (const arch of f.archs) {
    const prog = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: [arch as never],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    }).program;
    const bare = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    }).program;
    t.ok(arch === 'SCMP_ARCH_X86_64' || prog.length > bare.length, `${arch} gets its own section in the program`);
  }
});

if (!isRoot) {
  t.test('supported flags in containers', async (t) => {
    skipBecause(t, ROOT_REASON);
  });
} else {
  t.test('every supported flag loads in a container (WAIT_KILLABLE_RECV: see container-notify.test.ts)', async (t) => {
    const env = testEnv(t);
    t.teardown(() => cleanupRunc(env));
    for (const flag of reported().supportedFlags.filter((x) => x !== 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV')) {
      const c = testConfig('x', []);
      c.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        flags: [flag as never],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 }],
      };
      const args = ['sh', '-c', 'mkdir /dev/shm/d; grep ^Seccomp: /proc/self/status'];
      const r = runTsrun(env, JSON.parse(JSON.stringify(c)), args);
      t.equal(r.code, 0, `${flag}: ${r.out}`);
      t.match(r.out, /Read-only file system/, `${flag}: the filter works`);
      const theirs = runRunc(env, c, args);
      if (theirs) t.comment(`runc with ${flag}: exit ${theirs.code}: ${theirs.out.trim().split('\n').slice(-1)[0]}`);
    }
    env.done();
  });
}
