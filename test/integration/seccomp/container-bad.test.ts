// Bad linux.seccomp input: `tsrun create` refuses it with exit status 1 and
// a message naming the JSON path, and leaves nothing behind (no state dir,
// no cgroup). What runc 1.1.5 does with the same bundle is printed as a
// comment (docs/seccomp.md has the table).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  cleanEnv,
  testCgroupPath,
  cgroupDirsOf,
} from '../../helpers/harness';
import type { LinuxSeccomp, LinuxSyscall } from '../../../src/spec/types';
import { hasRunc } from '../../helpers/seccomp-container';

type Path = (string | number)[];

/** Both spellings in use: the schema validator's JSON pointer and the compiler's dotted path. */
function pathPattern(path: Path): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pointer = '/' + path.join('/');
  const dotted = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  return new RegExp(`(${esc(pointer)}|${esc(dotted)})(?=[:\\s]|$)`);
}

const mkdirRule: LinuxSyscall = { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' };
const base = (extra: Partial<LinuxSeccomp> = {}): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ ...mkdirRule }],
  ...extra,
});
const S = ['linux', 'seccomp'];

const CASES: { name: string; seccomp: unknown; path: Path; says: RegExp }[] = [
  {
    name: 'unknown default action',
    seccomp: { defaultAction: 'SCMP_ACT_FOO' },
    path: [...S, 'defaultAction'],
    says: /SCMP_ACT_FOO|must be one of/,
  },
  {
    name: 'unknown rule action',
    seccomp: base({ syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOPE' as never }] }),
    path: [...S, 'syscalls', 0, 'action'],
    says: /must be one of|unknown action/,
  },
  {
    name: 'unknown operator',
    seccomp: base({ syscalls: [{ ...mkdirRule, args: [{ index: 0, op: 'SCMP_CMP_FOO' as never, value: 1 }] }] }),
    path: [...S, 'syscalls', 0, 'args', 0, 'op'],
    says: /must be one of|unknown operator/,
  },
  {
    name: 'unknown architecture',
    seccomp: base({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX' as never] }),
    path: [...S, 'architectures', 1],
    says: /must be one of|unknown architecture/,
  },
  {
    name: 'unknown flag',
    seccomp: base({ flags: ['SECCOMP_FILTER_FLAG_FOO' as never] }),
    path: [...S, 'flags', 0],
    says: /must be one of|unknown flag/,
  },
  {
    name: 'errnoRet above 4095',
    seccomp: base({ syscalls: [{ ...mkdirRule, errnoRet: 5000 }] }),
    path: [...S, 'syscalls', 0, 'errnoRet'],
    says: /4095/,
  },
  {
    name: 'negative defaultErrnoRet',
    seccomp: base({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: -1 }),
    path: [...S, 'defaultErrnoRet'],
    says: /must be|4095/,
  },
  {
    name: 'argument index 6',
    seccomp: base({ syscalls: [{ ...mkdirRule, args: [{ index: 6, op: 'SCMP_CMP_EQ', value: 1 }] }] }),
    path: [...S, 'syscalls', 0, 'args', 0, 'index'],
    says: /5/,
  },
  {
    name: 'fractional argument value',
    seccomp: base({ syscalls: [{ ...mkdirRule, args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1.5 }] }] }),
    path: [...S, 'syscalls', 0, 'args', 0, 'value'],
    says: /integer/,
  },
  {
    name: 'no names',
    seccomp: base({ syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }),
    path: [...S, 'syscalls', 0, 'names'],
    says: /fewer than 1|at least one/,
  },
  {
    name: 'empty name',
    seccomp: base({ syscalls: [{ names: ['mkdir', ''], action: 'SCMP_ACT_ERRNO' }] }),
    path: [...S, 'syscalls', 0, 'names', 1],
    says: /fewer than 1|syscall name/,
  },
  {
    name: 'conflicting duplicates',
    seccomp: base({
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 0 }] },
        { names: ['mkdir'], action: 'SCMP_ACT_KILL', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 0 }] },
      ],
    }),
    path: [...S, 'syscalls', 1],
    says: /conflicts with linux\.seccomp\.syscalls\[0\]/,
  },
  {
    name: 'SCMP_ACT_NOTIFY without listenerPath',
    seccomp: base({ syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
    path: [...S, 'listenerPath'],
    says: /required/,
  },
  {
    name: 'SCMP_ACT_NOTIFY as the default action',
    seccomp: { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/run/agent.sock' },
    path: [...S, 'defaultAction'],
    says: /cannot be the default/,
  },
  {
    name: 'SCMP_ACT_NOTIFY for write',
    seccomp: base({ listenerPath: '/run/agent.sock', syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }] }),
    path: [...S, 'syscalls', 0, 'names'],
    says: /write/,
  },
];

/** runc create on the same bundle: refused or not (deleting what it made). */
function runcVerdict(root: string, bundle: string, id: string, dir: string): string {
  const out = join(dir, `${id}.runc.out`);
  const fd = openSync(out, 'a');
  const r = spawnSync('runc', ['--root', root, 'create', '-b', bundle, id], {
    stdio: ['ignore', fd, fd],
    env: cleanEnv(),
    timeout: 60000,
  });
  closeSync(fd);
  spawnSync('runc', ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
  const msg = /msg="([^"]*)"/.exec(readFileSync(out, 'utf8'))?.[1] ?? readFileSync(out, 'utf8').trim();
  return r.status === 0 ? 'runc accepts it' : `runc refuses it: ${msg}`;
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  for (const c of CASES) {
    t.test(c.name, async (t) => {
      const env = testEnv(t);
      const id = uniqueId('bad');
      const config = testConfig(id, ['true']);
      config.linux!.seccomp = c.seccomp as LinuxSeccomp;
      const bundle = env.bundle(config);
      const out = join(env.dir, 'create.out');
      const r = env.run(['create', '-b', bundle, id], { output: out });
      const text = readFileSync(out, 'utf8');
      t.equal(r.code, 1, 'exit status 1');
      t.match(text, pathPattern(c.path), `names ${c.path.join('.')}: ${text.trim()}`);
      t.match(text, c.says, 'says what is wrong');
      t.same(cgroupDirsOf(testCgroupPath(id)), [], 'no cgroup left');
      env.done();
      if (hasRunc) {
        const runcId = uniqueId('badrunc');
        const rc = testConfig(runcId, ['true']);
        rc.linux!.seccomp = c.seccomp as LinuxSeccomp;
        rc.linux!.cgroupsPath = `tsrun-seccomp-bad-${runcId}`;
        t.comment(runcVerdict(join(env.dir, 'runc'), env.bundle(rc), runcId, env.dir));
        for (const d of cgroupDirsOf(rc.linux!.cgroupsPath)) spawnSync('rmdir', [d]);
      }
    });
  }
}
