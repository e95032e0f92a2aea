// Hooks that run inside the container, in real containers made by
// bin/tsrun: where they run and what the container has become by then, as
// runc 1.1.5 does it (measured on this host with the same bundles).
import t from 'tap';
import { readFileSync, existsSync, mkdtempSync, rmSync, cpSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, sharedRootfs } from '../../helpers/harness';

/** A private, writable copy of the test rootfs (hooks write into it). */
function writableRootfs(t: { teardown(fn: () => void): unknown }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-hookfs-'));
  cpSync(sharedRootfs(), dir, { recursive: true, verbatimSymlinks: true });
  chmodSync(dir, 0o777); // the startContainer hook below runs as uid 1000 and writes to /
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('createContainer hooks run with the rootfs as working directory', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('cchook');
    const rootfs = writableRootfs(t);
    const c = testConfig(id, ['sh', '-c', 'cat /cc.cwd; ls /bin/cc-file']);
    c.root = { path: rootfs, readonly: false };
    // Still the host's root (before pivot_root): `pwd` is the rootfs's host path.
    c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'pwd > ./cc.cwd && touch ./bin/cc-file'] }] };
    const out = join(env.dir, 'out');
    const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
    t.equal(r.code, 0, readFileSync(out, 'utf8'));
    t.equal(readFileSync(join(rootfs, 'cc.cwd'), 'utf8'), `${rootfs}\n`, 'the hook ran in the rootfs');
    t.ok(existsSync(join(rootfs, 'bin', 'cc-file')), 'a relative path of the hook lands in the rootfs');
    t.match(readFileSync(out, 'utf8'), /^\/bin\/cc-file$/m, 'and the container sees it');
    env.done();
  });

  t.test(
    'startContainer hooks run as the container process is about to: user, cwd, capabilities, no_new_privs, seccomp',
    async (t) => {
      for (const noNewPrivileges of [false, true]) {
        await t.test(`noNewPrivileges ${noNewPrivileges}`, async (t) => {
          const env = testEnv(t);
          const id = uniqueId('schook');
          const rootfs = writableRootfs(t);
          const c = testConfig(id, ['sh', '-c', 'cat /start.*; ls -d /blocked 2>&1 || true']);
          c.root = { path: rootfs, readonly: false };
          c.process!.user = { uid: 1000, gid: 1000 };
          c.process!.cwd = '/tmp';
          c.process!.noNewPrivileges = noNewPrivileges;
          c.linux!.seccomp = {
            defaultAction: 'SCMP_ACT_ALLOW',
            architectures: ['SCMP_ARCH_X86_64'],
            syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
          };
          const script = [
            'pwd > /start.cwd',
            'id -u > /start.uid',
            'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status > /start.status',
            '(mkdir /blocked && echo mkdir-ok || echo mkdir-refused) > /start.mkdir',
          ].join('; ');
          c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', script] }] };
          const out = join(env.dir, 'out');
          const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
          const text = readFileSync(out, 'utf8');
          t.equal(r.code, 0, text);
          t.match(text, /^\/tmp$/m, "the hook ran in the process's cwd");
          t.match(text, /^1000$/m, "as the process's user");
          t.match(text, /^CapEff:\s+0000000000000000$/m, "with the process's capabilities");
          t.match(text, new RegExp(`^NoNewPrivs:\\s+${noNewPrivileges ? 1 : 0}$`, 'm'), 'no_new_privs as configured');
          t.match(text, /^Seccomp:\s+2$/m, 'under the seccomp filter');
          t.match(text, /^mkdir-refused$/m, 'a syscall the filter blocks fails in the hook');
          t.match(text, /No such file or directory/, 'the directory was not made');
          t.notOk(existsSync(join(rootfs, 'blocked')), 'nothing made on the rootfs either');
          env.done();
        });
      }
    },
  );

  t.test('a startContainer hook the seccomp filter kills fails start', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('schook');
    const c = testConfig(id, ['true']);
    c.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }],
    };
    c.hooks = { startContainer: [{ path: '/bin/mkdir', args: ['mkdir', '/tmp/x'] }] };
    const out = join(env.dir, 'out');
    t.equal(env.run(['create', '-b', env.bundle(c), id], { output: out }).code, 0, readFileSync(out, 'utf8'));
    const r = env.run(['start', id]);
    t.equal(r.code, 1, 'start fails');
    t.match(r.stderr, /startContainer hook 0 \(\/bin\/mkdir\): killed by signal SIGSYS/);
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });
}
