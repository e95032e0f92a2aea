// Recursive and non-recursive mount attributes on a bind mount with a
// submount, in real containers made by bin/tsrun: `ro` on an rbind makes
// only the top mount read-only (mount(2) remount), `rro` every mount below
// it (mount_setattr AT_RECURSIVE), as runc 1.1.5 does on this host.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, type Env } from '../../helpers/harness';

/** A host dir holding a file and a symlink, with a tmpfs submount `sub` holding the same. */
function volumeWithSubmount(t: { teardown(fn: () => void): unknown }): string {
  const vol = mkdtempSync(join(tmpdir(), 'tsrun-vol-'));
  mkdirSync(join(vol, 'sub'));
  execFileSync('mount', ['-t', 'tmpfs', 'tsrun-test-sub', join(vol, 'sub')]);
  t.teardown(() => {
    execFileSync('umount', ['-l', join(vol, 'sub')]);
    rmSync(vol, { recursive: true, force: true });
  });
  for (const dir of [vol, join(vol, 'sub')]) {
    writeFileSync(join(dir, 'file'), 'content\n');
    symlinkSync('file', join(dir, 'link'));
  }
  return vol;
}

/**
 * For /vol and /vol/sub: whether a write there works, whether a symlink
 * there is followed, and the mount's per-mount options from mountinfo.
 */
const PROBE = [
  'for d in /vol /vol/sub; do',
  '  if touch $d/new 2>/dev/null; then echo "$d write ok"; else echo "$d write refused"; fi',
  '  if cat $d/link >/dev/null 2>&1; then echo "$d symlink followed"; else echo "$d symlink refused"; fi',
  '  awk -v d=$d \'$5 == d { print d " opts " $6 }\' /proc/self/mountinfo',
  'done',
].join('\n');

function probe(
  t: { teardown(fn: () => void): unknown },
  env: Env,
  options: string[],
): { code: number | null; out: string } {
  const id = uniqueId('rec');
  const c = testConfig(id, ['sh', '-c', PROBE]);
  c.mounts!.push({ destination: '/vol', type: 'bind', source: volumeWithSubmount(t), options });
  const out = join(env.dir, `${id}.out`);
  const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
  return { code: r.code, out: readFileSync(out, 'utf8') };
}

function optsOf(out: string, dest: string): string[] {
  return (new RegExp(`^${dest} opts (\\S+)$`, 'm').exec(out)?.[1] ?? '').split(',');
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('rbind,ro: the top mount read-only, the submount still writable', async (t) => {
    const env = testEnv(t);
    const r = probe(t, env, ['rbind', 'ro']);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^\/vol write refused$/m);
    t.match(r.out, /^\/vol\/sub write ok$/m);
    t.ok(optsOf(r.out, '/vol').includes('ro'), 'mountinfo: /vol ro');
    t.ok(optsOf(r.out, '/vol/sub').includes('rw'), 'mountinfo: /vol/sub rw');
    env.done();
  });

  t.test('rbind,rro: every mount below read-only', async (t) => {
    const env = testEnv(t);
    const r = probe(t, env, ['rbind', 'rro']);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^\/vol write refused$/m);
    t.match(r.out, /^\/vol\/sub write refused$/m);
    t.ok(optsOf(r.out, '/vol').includes('ro'), 'mountinfo: /vol ro');
    t.ok(optsOf(r.out, '/vol/sub').includes('ro'), 'mountinfo: /vol/sub ro');
    env.done();
  });

  t.test('rrw clears what ro or rro set, on every mount: the later option wins', async (t) => {
    // runc 1.1.5 agrees for ro,rrw; for rro,rrw it passes both to mount_setattr and stays read-only (docs/conformance.md).
    for (const options of [
      ['rbind', 'ro', 'rrw'],
      ['rbind', 'rro', 'rrw'],
    ]) {
      const env = testEnv(t);
      const r = probe(t, env, options);
      t.equal(r.code, 0, r.out);
      t.match(r.out, /^\/vol write ok$/m, `${options}: /vol writable`);
      t.match(r.out, /^\/vol\/sub write ok$/m, `${options}: /vol/sub writable`);
      env.done();
    }
  });

  t.test('nosymfollow on the top mount, rnosymfollow on every mount, symfollow clears it', async (t) => {
    const env = testEnv(t);
    let r = probe(t, env, ['rbind', 'nosymfollow']);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^\/vol symlink refused$/m);
    t.match(r.out, /^\/vol\/sub symlink followed$/m);
    t.ok(optsOf(r.out, '/vol').includes('nosymfollow'), 'mountinfo: /vol nosymfollow');
    r = probe(t, env, ['rbind', 'rnosymfollow']);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^\/vol symlink refused$/m);
    t.match(r.out, /^\/vol\/sub symlink refused$/m);
    t.ok(optsOf(r.out, '/vol/sub').includes('nosymfollow'), 'mountinfo: /vol/sub nosymfollow');
    r = probe(t, env, ['rbind', 'nosymfollow', 'symfollow']);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^\/vol symlink followed$/m);
    t.notOk(optsOf(r.out, '/vol').includes('nosymfollow'), 'mountinfo: no nosymfollow');
    env.done();
  });

  t.test('rnoexec and rnosuid reach the submount too', async (t) => {
    const env = testEnv(t);
    const r = probe(t, env, ['rbind', 'rnoexec', 'rnosuid', 'rnodev']);
    t.equal(r.code, 0, r.out);
    for (const o of ['noexec', 'nosuid', 'nodev'])
      t.ok(optsOf(r.out, '/vol/sub').includes(o), `mountinfo: /vol/sub ${o}`);
    env.done();
  });
}
