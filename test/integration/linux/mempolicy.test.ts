// linux.memoryPolicy on real containers: the policy each mode and flag gives
// the container's program and an exec'd process, read from inside through
// /proc/self/numa_maps (the kernel's mpol_to_str: "bind=static:0"), and what
// create refuses before it makes anything.
import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  parseState,
  cgroupDirsOf,
  testCgroupPath,
  type Env,
} from '../../helpers/harness';
import type { Spec, LinuxMemoryPolicy } from '../../../src/spec/types';
import { applyMemoryPolicy, memoryPolicyErrors } from '../../../src/linux/mempolicy';
import { setMempolicy } from '../../../src/sys/mempolicy';

/** The policy column of the first mapping of the program's numa_maps, run in a container with `policy`. */
function policyInside(
  env: Env,
  policy: LinuxMemoryPolicy | undefined,
): { code: number | null; policy: string; out: string } {
  const id = uniqueId('mp');
  const c = testConfig(id, ['head', '-1', '/proc/self/numa_maps']);
  if (policy) c.linux!.memoryPolicy = policy;
  const out = join(env.dir, `${id}.out`);
  const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
  const text = readFileSync(out, 'utf8');
  // "00400000 prefer (many):0 file=/bin/busybox ...": the policy is between the address and the first key=value.
  const m = /^[0-9a-f]+ (.*?)(?= \S+=| heap| stack|$)/m.exec(text);
  return { code: r.code, policy: m?.[1] ?? '', out: text };
}

/** Run `fn` with the calling thread's policy set to bind:0: children (tsrun create) inherit it. */
function underBind<T>(fn: () => T): T {
  setMempolicy(2, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0), 'MPOL_BIND, nodes "0"');
  try {
    return fn();
  } finally {
    setMempolicy(0, null, 'MPOL_DEFAULT');
  }
}

const hasNuma = existsSync('/proc/self/numa_maps') && existsSync('/sys/devices/system/node/possible');

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (!hasNuma) {
  t.plan(0, 'needs a NUMA kernel: no /proc/self/numa_maps or /sys/devices/system/node/possible');
} else {
  t.test("each mode is the program's policy", async (t) => {
    const env = testEnv(t);
    const cases: [LinuxMemoryPolicy, string][] = [
      [{ mode: 'MPOL_BIND', nodes: '0' }, 'bind:0'],
      [{ mode: 'MPOL_INTERLEAVE', nodes: '0' }, 'interleave:0'],
      [{ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '0' }, 'weighted interleave:0'],
      [{ mode: 'MPOL_PREFERRED', nodes: '0' }, 'prefer:0'],
      [{ mode: 'MPOL_PREFERRED' }, 'local'], // no node: the kernel's "local allocation"
      [{ mode: 'MPOL_PREFERRED_MANY', nodes: '0' }, 'prefer (many):0'],
      [{ mode: 'MPOL_LOCAL' }, 'local'],
      [{ mode: 'MPOL_LOCAL', nodes: '' }, 'local'],
    ];
    for (const [p, want] of cases) {
      const r = policyInside(env, p);
      t.equal(r.code, 0, `${JSON.stringify(p)} runs: ${r.out}`);
      t.equal(r.policy, want, `${JSON.stringify(p)} → ${want}`);
    }
    env.done();
  });

  t.test("MPOL_DEFAULT resets a policy the caller had; without memoryPolicy the caller's is kept", async (t) => {
    const env = testEnv(t);
    t.equal(
      underBind(() => policyInside(env, undefined)).policy,
      'bind:0',
      'inherited from whoever ran tsrun, as with runc',
    );
    const r = underBind(() => policyInside(env, { mode: 'MPOL_DEFAULT' }));
    t.equal(r.code, 0, r.out);
    t.equal(r.policy, 'default', 'MPOL_DEFAULT asked for and applied');
    env.done();
  });

  t.test('flags', async (t) => {
    const env = testEnv(t);
    const cases: [LinuxMemoryPolicy, string][] = [
      [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'bind=static:0'],
      [{ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'interleave=static:0'],
      // Relative node numbers are positions among the allowed nodes, folded onto them: node 1 of one is node 0.
      [{ mode: 'MPOL_BIND', nodes: '1', flags: ['MPOL_F_RELATIVE_NODES'] }, 'bind=relative:0'],
      [{ mode: 'MPOL_PREFERRED', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES'] }, 'prefer=relative:0'],
      [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, 'bind=balancing:0'],
      [
        { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_NUMA_BALANCING'] },
        'bind=static|balancing:0',
      ],
    ];
    for (const [p, want] of cases) {
      const r = policyInside(env, p);
      t.equal(r.code, 0, `${JSON.stringify(p)} runs: ${r.out}`);
      t.equal(r.policy, want, `${JSON.stringify(p)} → ${want}`);
    }
    env.done();
  });

  t.test("an exec'd process gets the container's policy, as runc gives it", async (t) => {
    const env = testEnv(t);
    const id = uniqueId('mpx');
    const c = testConfig(id, ['sleep', '300']);
    c.linux!.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] };
    t.equal(env.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, 'x.out') }).code, 0);
    const pid = parseState(env.run(['state', id])).pid as number;
    t.match(
      readFileSync(`/proc/${pid}/numa_maps`, 'utf8'),
      /^[0-9a-f]+ interleave=static:0 /,
      "the init's program, seen from the host",
    );
    const r = env.run(['exec', id, 'head', '-1', '/proc/self/numa_maps']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^[0-9a-f]+ interleave=static:0 /, "the exec'd process");
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('bad policies are refused by create, naming the field, leaving nothing', async (t) => {
    const env = testEnv(t);
    const cases: [unknown, RegExp][] = [
      [{ mode: 'MPOL_SOMETIMES', nodes: '0' }, /\/linux\/memoryPolicy\/mode: must be one of: "MPOL_DEFAULT"/],
      [
        { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_LOUD'] },
        /\/linux\/memoryPolicy\/flags\/0: must be one of: "MPOL_F_NUMA_BALANCING"/,
      ],
      [{ nodes: '0' }, /\/linux\/memoryPolicy\/mode: is required/],
      [{ mode: 'MPOL_BIND', nodes: 'zero' }, /\/linux\/memoryPolicy\/nodes: invalid node list "zero"/],
      [{ mode: 'MPOL_BIND', nodes: '3-1' }, /\/linux\/memoryPolicy\/nodes: invalid node range "3-1"/],
      [
        { mode: 'MPOL_BIND', nodes: '0,7' },
        /\/linux\/memoryPolicy\/nodes: node 7 does not exist on this host \(possible nodes: /,
      ],
      [{ mode: 'MPOL_BIND', nodes: '5000' }, /\/linux\/memoryPolicy\/nodes: invalid node range "5000"/],
      [{ mode: 'MPOL_BIND' }, /\/linux\/memoryPolicy\/nodes: MPOL_BIND needs at least one node/],
      [{ mode: 'MPOL_LOCAL', nodes: '0' }, /\/linux\/memoryPolicy\/nodes: MPOL_LOCAL takes no nodes/],
      [
        { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] },
        /\/linux\/memoryPolicy\/flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other/,
      ],
      [
        { mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] },
        /\/linux\/memoryPolicy\/flags: MPOL_F_NUMA_BALANCING needs mode MPOL_BIND or MPOL_PREFERRED_MANY/,
      ],
    ];
    for (const [p, want] of cases) {
      const id = uniqueId('mpbad');
      const c = testConfig(id, ['true']) as Spec & { linux: Record<string, unknown> };
      c.linux.memoryPolicy = p as LinuxMemoryPolicy;
      const r = env.run(['create', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.not(r.code, 0, `${JSON.stringify(p)} refused`);
      t.match(r.stderr, want, JSON.stringify(p));
      t.same(cgroupDirsOf(testCgroupPath(id)), [], 'no cgroup made');
    }
    env.done();
  });

  t.test("the kernel's own refusal names the field, the call and the errno", async (t) => {
    // Past the create-time checks only a kernel that disagrees with them
    // refuses; the message is the same then. Here, on this process's thread.
    t.throws(() => applyMemoryPolicy({ mode: 'MPOL_LOCAL', nodes: '0' }), {
      message: 'config.json: /linux/memoryPolicy: set_mempolicy(MPOL_LOCAL, nodes "0"): EINVAL',
    });
    t.same(
      memoryPolicyErrors({ mode: 'MPOL_LOCAL', nodes: '0' }),
      ['/linux/memoryPolicy/nodes: MPOL_LOCAL takes no nodes (got "0")'],
      'create would refuse it first',
    );
    t.same(
      memoryPolicyErrors({ mode: 'MPOL_BIND', nodes: '1-2' }, () => '0-3\n'),
      [],
      'nodes of a bigger machine are fine there',
    );
    t.same(
      memoryPolicyErrors({ mode: 'MPOL_BIND', nodes: '2-3' }, () => '0\n'),
      ['/linux/memoryPolicy/nodes: nodes 2, 3 do not exist on this host (possible nodes: 0)'],
    );
  });
}
