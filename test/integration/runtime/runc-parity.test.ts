// Behaviours found by running the same bundles, and runc 1.1.5's own bats
// suite, under runc and tsrun (issue 18): each test runs the same command
// lines with both runtimes when runc is installed, and expects the same.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  sharedRootfs,
  cgroupDirsOf,
  REPO,
  testCgroupPath,
  type Env,
} from '../../helpers/harness';
import { runtimes, type Runtime } from '../../helpers/runc';
import { waitFor } from '../../helpers/wait';
import { skipBecause } from '../../helpers/skip';
import type { Spec } from '../../../src/spec/types';

/** `run -d` of `config` with runtime `rt`; returns the id. */
function runDetached(env: Env, rt: Runtime, config: Spec, id: string): string {
  config.linux!.cgroupsPath = testCgroupPath(id);
  const r = rt.run(['run', '-d', '-b', env.bundle(config), id], { output: join(env.dir, `${id}.out`) });
  if (r.code !== 0) throw new Error(`${rt.name} run -d: ${r.stderr}`);
  return id;
}

/** `run` (foreground) of `config` with `rt`: exit status and everything it printed. */
function runOnce(env: Env, rt: Runtime, config: Spec, id: string): { code: number | null; out: string } {
  config.linux!.cgroupsPath = testCgroupPath(id);
  const r = rt.run(['run', '-b', env.bundle(config), id], { output: join(env.dir, `${id}.out`) });
  return { code: r.code, out: r.stderr };
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('a missing cwd is created with a read-only root, inside the rootfs, as root, 0755', async (t) => {
    const env = testEnv(t);
    const rootfs = sharedRootfs();
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`cwd-${rt.name}`);
      // An absolute symlink: /tmp of the rootfs, never the host's.
      const link = join(rootfs, `lnk-${id}`);
      symlinkSync('/tmp', link);
      t.teardown(() => unlinkSync(link));
      const c = testConfig(id, ['sh', '-c', 'pwd; stat -c "%u:%g %a" .; touch x 2>/dev/null || echo read-only']);
      t.equal(c.root?.readonly, true);
      c.process!.user = { uid: 1000, gid: 1000 };
      c.process!.cwd = `/lnk-${id}/${id}/sub`;
      const r = runOnce(env, rt, c, id);
      t.equal(r.code, 0, `${rt.name}: ${r.out}`);
      t.match(r.out, new RegExp(`^/tmp/${id}/sub\n0:0 755\nread-only$`, 'm'), `${rt.name}: created, root's, 0755`);
      t.ok(existsSync(join(rootfs, 'tmp', id, 'sub')), `${rt.name}: in the rootfs`);
      t.notOk(existsSync(`/tmp/${id}`), `${rt.name}: not on the host`);
    }
    env.done();
  });

  t.test('exit status 255 when exec itself fails, the process status otherwise', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = runDetached(env, rt, testConfig('x', ['sleep', '300']), uniqueId(`ex-${rt.name}`));
      const exec = (args: string[]) => rt.run(['exec', ...args]);
      t.equal(exec([id, 'sh', '-c', 'exit 3']).code, 3, `${rt.name}: the process's status`);
      const failures: [string[], RegExp][] = [
        [['--cwd', '/no/such/dir', id, 'true'], /exec failed: .*chdir to cwd \(\\?"\/no\/such\/dir\\?"\)/],
        [['--pid-file', join(env.dir, 'no', 'dir', 'pid'), id, 'true'], /exec failed: .*no such file or directory/i],
        [['--cgroup', '..', id, 'true'], /exec failed: (.* )?\.\. is not a sub cgroup path/],
        [[`${id}-missing`, 'true'], /exec failed: container does not exist/],
        [[id], /exec failed: .*(args cannot be empty|args must not be empty)/],
        [[id, '/no/such/program'], /exec failed: .*\/no\/such\/program/],
      ];
      for (const [args, pattern] of failures) {
        const r = exec(args);
        t.equal(r.code, 255, `${rt.name} exec ${args.join(' ')}: 255`);
        t.match(r.stderr, pattern, `${rt.name} exec ${args.join(' ')}: why`);
      }
      t.equal(rt.run(['pause', id]).code, 0);
      const paused = exec([id, 'true']);
      t.equal(paused.code, 255, `${rt.name}: paused without --ignore-paused: 255`);
      t.match(paused.stderr, /exec failed: cannot exec in a paused container/);
      t.equal(rt.run(['resume', id]).code, 0);
      t.equal(rt.run(['delete', '--force', id]).code, 0);
    }
    env.done();
  });

  t.test("kill --all of a stopped container signals what is left in its cgroup; done once it's gone", async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      // No pid namespace: the init's child outlives it, in the container's cgroup.
      const c = testConfig('x', ['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo left=$!']);
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
      const id = runDetached(env, rt, c, uniqueId(`kill-${rt.name}`));
      const out = join(env.dir, `${id}.out`);
      await waitFor(() => /left=\d+/.test(readFileSync(out, 'utf8')));
      const left = Number(/left=(\d+)/.exec(readFileSync(out, 'utf8'))![1]);
      t.ok(await waitFor(() => /"stopped"/.test(rt.run(['state', id]).stdout)), `${rt.name}: stopped`);
      t.ok(existsSync(`/proc/${left}`), `${rt.name}: the child outlived the init`);

      const notAll = rt.run(['kill', id, 'KILL']);
      t.equal(notAll.code, 1, `${rt.name}: kill without --all still refuses`);
      t.match(notAll.stderr, /container not running/);
      const all = rt.run(['kill', '--all', id, 'KILL']);
      t.equal(all.code, 0, `${rt.name}: kill --all succeeds: ${all.stderr}`);
      t.ok(await waitFor(() => isGone(left)), `${rt.name}: the child was killed`);

      // The cgroup removed behind the runtime's back: nothing left to signal.
      for (const dir of cgroupDirsOf(testCgroupPath(id)).reverse()) rmdirSync(dir);
      const gone = rt.run(['kill', '--all', id, 'TERM']);
      t.equal(gone.code, 0, `${rt.name}: kill --all without a cgroup succeeds: ${gone.stderr}`);
      t.equal(rt.run(['delete', id]).code, 0);
    }
    env.done();
  });

  t.test('runc\'s "error running hook" leads a failed hook\'s message', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const pre = testConfig('x', ['true']);
      pre.hooks = { prestart: [{ path: '/bin/false' }] };
      const r = runOnce(env, rt, pre, uniqueId(`hook-${rt.name}`));
      t.equal(r.code, 1, `${rt.name}: a failed prestart hook fails run`);
      t.match(r.out, /error running hook/, `${rt.name}: runc's words`);
      if (rt.name === 'tsrun')
        t.match(r.out, /error running hook: prestart hook 0 \(\/bin\/false\): exited with status 1/);

      // runc's bats: a startContainer hook runs under the container's seccomp filter.
      const start = testConfig('x', ['true']);
      start.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }],
      };
      start.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mkdir /dev/shm/foo'] }] };
      const s = runOnce(env, rt, start, uniqueId(`schook-${rt.name}`));
      t.not(s.code, 0, `${rt.name}: the killed hook fails run`);
      t.match(s.out, /error running hook/, `${rt.name}: runc's words`);
      t.match(s.out, /bad system call/, `${rt.name}: the signal in Go's words, as runc's seccomp.bats expects`);
      if (rt.name === 'tsrun')
        t.match(
          s.out,
          /error running hook: startContainer hook 0 \(\/bin\/sh\): killed by signal SIGSYS \(bad system call\)/,
        );
    }
    env.done();
  });

  t.test("proc on a symlink is refused in runc's words (runc's mask.bats)", async (t) => {
    const env = testEnv(t);
    const rootfs = join(env.dir, 'rootfs');
    execFileSync(join(REPO, 'hack', 'mkrootfs.sh'), [rootfs], { stdio: 'ignore' });
    rmdirSync(join(rootfs, 'proc'));
    symlinkSync('/symlink', join(rootfs, 'proc'));
    for (const rt of runtimes(t, env)) {
      const c = testConfig('x', ['true']);
      c.root = { path: rootfs, readonly: true };
      const r = runOnce(env, rt, c, uniqueId(`procln-${rt.name}`));
      t.equal(r.code, 1, `${rt.name}: refused`);
      t.match(r.out, /filesystem \\?"proc\\?" must be mounted on ordinary directory/, `${rt.name}: runc's words`);
      if (rt.name === 'tsrun') t.match(r.out, /mount proc → \/proc: .* \(\/proc is a symlink\)/, 'what is there');
      t.notOk(existsSync(join(rootfs, 'symlink')), `${rt.name}: nothing made through the symlink`);
    }
    env.done();
  });

  const memoryOnV1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  t.test('runc\'s "invalid configuration" for a v1 controller in linux.resources.unified', async (t) => {
    if (!memoryOnV1) return skipBecause(t, 'needs the memory controller on cgroup v1');
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const c = testConfig('x', ['true']);
      // On this hybrid host memory is a v1 controller (runc's bats: cgroup v1 + unified).
      c.linux!.resources = { ...c.linux!.resources, unified: { 'memory.min': '131072' } };
      const r = runOnce(env, rt, c, uniqueId(`unified-${rt.name}`));
      t.equal(r.code, 1, `${rt.name}: refused`);
      t.match(r.out, /invalid configuration/, `${rt.name}: runc's words`);
      if (rt.name === 'tsrun') t.match(r.out, /invalid configuration: linux\.resources\.unified\["memory\.min"\]: /);
    }
    env.done();
  });
}

/** The process no longer runs (a zombie waiting for whoever adopted it counts). */
function isGone(pid: number): boolean {
  try {
    return /^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
