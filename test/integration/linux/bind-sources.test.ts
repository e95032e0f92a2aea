// Bind sources only the host's root may reach, in containers with a user
// namespace: tsrun opens them for the init in the container's mount
// namespace (as runc 1.1 does), and none of those descriptors, nor any
// weakening of the host's mount locks, reaches the container.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, type Env } from '../../helpers/harness';
import type { Mount, Spec } from '../../../src/spec/types';

function usernsConfig(id: string, script: string, mounts: Mount[]): Spec {
  const c = testConfig(id, ['sh', '-c', script]);
  c.linux!.namespaces!.push({ type: 'user' });
  c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.mounts!.push(...mounts);
  return c;
}

function run(env: Env, c: Spec, id: string) {
  const out = join(env.dir, `${id}.out`);
  const r = env.run(['run', '--bundle', env.bundle(c), id], { output: out });
  return { code: r.code, output: readFileSync(out, 'utf8') };
}

/** env.dir/private (0700, host root) holding a readable dir `vol` with a file, and a readable file. */
function privateSources(env: Env) {
  const priv = join(env.dir, 'private');
  mkdirSync(join(priv, 'vol'), { recursive: true });
  chmodSync(join(priv, 'vol'), 0o755);
  writeFileSync(join(priv, 'vol', 'data'), 'from a root-only path\n', { mode: 0o644 });
  writeFileSync(join(priv, 'group'), 'bound:x:4242:\n', { mode: 0o644 });
  chmodSync(priv, 0o700);
  return { priv, vol: join(priv, 'vol'), file: join(priv, 'group') };
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('sources below a 0700 host-root directory are mounted and readable', async (t) => {
    const env = testEnv(t);
    const { vol, file } = privateSources(env);
    const id = uniqueId('usbind');
    const script =
      'cat /tmp/data; cat /etc/group; grep -E " /tmp | /etc/group " /proc/self/mountinfo | cut -d" " -f5,6; echo fds=$(ls /proc/self/fd | tr "\\n" " ")';
    const c = usernsConfig(id, script, [
      { destination: '/tmp', type: 'bind', source: vol, options: ['rbind', 'ro'] },
      { destination: '/etc/group', type: 'bind', source: file, options: ['bind'] },
    ]);
    const r = run(env, c, id);
    t.equal(r.code, 0, r.output);
    t.match(r.output, /^from a root-only path$/m, 'the directory source is readable inside');
    t.match(r.output, /^bound:x:4242:$/m, 'the file source is readable inside');
    t.match(r.output, /^\/tmp ro,/m, 'the ro option holds');
    t.match(
      r.output,
      /^fds=0 1 2 3\s*$/m,
      'none of the source descriptors reaches the program (3 is ls reading the directory)',
    );
    env.done();
  });

  t.test("the host's locked mount flags and submounts stay locked", async (t) => {
    const env = testEnv(t);
    const { priv } = privateSources(env);
    const lk = join(priv, 'locked');
    mkdirSync(lk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'nosuid,nodev,mode=755', 'tsrun-lk', lk]);
    mkdirSync(join(lk, 'sub'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'tsrun-lksub', join(lk, 'sub')]);
    let mounted = true;
    const unmount = () => {
      if (mounted) execFileSync('umount', ['-R', lk]);
      mounted = false;
    };
    t.teardown(unmount);
    const id = uniqueId('uslock');
    const script = [
      'mount -o remount,bind,suid,dev /tmp 2>/dev/null && echo flags=dropped || echo flags=locked',
      'umount /tmp/sub 2>/dev/null && echo sub=unmounted || echo sub=locked',
    ].join('; ');
    const c = usernsConfig(id, script, [{ destination: '/tmp', type: 'bind', source: lk, options: ['rbind'] }]);
    for (const set of Object.values(c.process!.capabilities!)) (set as string[]).push('CAP_SYS_ADMIN');
    const r = run(env, c, id);
    t.equal(r.code, 0, r.output);
    t.match(r.output, /^flags=locked$/m, "root of the container cannot drop the host mount's nosuid/nodev");
    t.match(r.output, /^sub=locked$/m, 'nor unmount a submount the host put there');
    unmount(); // before the leftovers check
    env.done();
  });

  t.test('more sources than one message carries (stacked on one target)', async (t) => {
    const env = testEnv(t);
    const { vol } = privateSources(env);
    const id = uniqueId('usmany');
    const n = 70;
    const mounts = Array.from({ length: n }, () => ({
      destination: '/tmp',
      type: 'bind',
      source: vol,
      options: ['bind'],
    }));
    const c = usernsConfig(
      id,
      'cat /tmp/data; echo mounts=$(grep -c " /tmp " /proc/self/mountinfo); echo fds=$(ls /proc/self/fd | tr "\\n" " ")',
      mounts,
    );
    const r = run(env, c, id);
    t.equal(r.code, 0, r.output);
    t.match(r.output, /^from a root-only path$/m);
    t.match(r.output, new RegExp(`^mounts=${n}$`, 'm'), `all ${n} mounts made`);
    t.match(r.output, /^fds=0 1 2 3\s*$/m, 'no descriptor left over');
    env.done();
  });

  t.test('a source that does not exist names the mount and its path', async (t) => {
    const env = testEnv(t);
    const { priv } = privateSources(env);
    const id = uniqueId('usmissing');
    const missing = join(priv, 'missing');
    const c = usernsConfig(id, 'true', [{ destination: '/tmp', type: 'bind', source: missing, options: ['bind'] }]);
    const index = c.mounts!.length - 1;
    const r = run(env, c, id);
    t.equal(r.code, 1, 'run fails');
    t.match(r.output, `config.json: /mounts/${index}: mount ${missing} → /tmp: bind source: ENOENT`);
    env.done();
  });
}
