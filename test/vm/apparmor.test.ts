// AppArmor as on every Debian and Ubuntu host (issue 20, item 4): the VM's
// kernel has it as its LSM and the image Debian's apparmor package. A test
// profile that denies one read is loaded with apparmor_parser; tsrun and
// runc 1.1.5 on the same bundles put the container's process and exec'd ones
// under it (/proc/PID/attr/current says "(enforce)", and the read fails that
// works unconfined), as root and rootless; a profile that is not loaded is
// refused with nothing left. dockerd's docker-default and root podman's
// containers-default profiles are checked in test/vm/clients.test.ts
// (their daemons and images are set up there already).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Spec } from '../../src/spec/types';
import { REPO, parseState, testConfig, testEnv, uniqueId, type TestLike } from '../helpers/harness';
import { hasRunc, runtimes } from '../helpers/runc';
import { apparmorOf, cgroupDir, cgroupOf, requireV2Host } from '../helpers/v2';
import { rootlessBundle, sessionUser } from '../helpers/vm-user';
import { scratch } from '../clients/client-env';

const TSRUN = join(REPO, 'dist', 'tsrun');
const PROFILE = 'tsrun-vm-deny';
const NOT_LOADED = 'tsrun-vm-not-loaded';
// In the container: a bind mount of a host file the profile may not read.
const SECRET = '/secret';
// What a process prints with `sh -c PROBE`: its profile, the secret or cat's refusal, cat's status.
const PROBE = `cat /proc/self/attr/current; cat ${SECRET}; echo "read: $?"`;
const confined = `${PROFILE} (enforce)\nread: 1\n`;
const DENIED = `cat: can't open '${SECRET}': Permission denied\n`;

/** The test profile: everything but reading SECRET. Loaded from a file the test writes; removed at teardown. */
function loadProfile(t: TestLike, dir: string): void {
  const file = join(dir, `${PROFILE}.profile`);
  const rules = ['file', 'capability', 'network', 'signal', 'ptrace', 'unix', `deny ${SECRET} r`];
  writeFileSync(
    file,
    `profile ${PROFILE} flags=(attach_disconnected,mediate_deleted) {\n${rules.map((r) => `  ${r},\n`).join('')}}\n`,
  );
  execFileSync('apparmor_parser', ['-r', file]);
  t.teardown(() => execFileSync('apparmor_parser', ['-R', file]));
}

/** A host file holding "secret", readable by uid (and root), mounted read-only at SECRET. */
function withSecret(c: Spec, dir: string, uid = 0, gid = 0): void {
  const file = join(dir, 'secret');
  writeFileSync(file, 'secret\n');
  chownSync(file, uid, gid);
  c.mounts = [...(c.mounts ?? []), { destination: SECRET, type: 'bind', source: file, options: ['rbind', 'ro'] }];
}

if (requireV2Host(t)) {
  const dir = scratch(t, 'tsrun-vm-apparmor-');
  loadProfile(t, dir);
  const own = cgroupOf('self');

  t.test('the host: AppArmor is the LSM, the test profile is loaded in enforce mode', async (t) => {
    t.match(readFileSync('/sys/kernel/security/lsm', 'utf8'), /(^|,)apparmor(,|$)/, 'apparmor in the LSM list');
    t.equal(readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim(), 'Y');
    t.match(readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8'), `${PROFILE} (enforce)\n`);
    t.equal(apparmorOf(process.pid), 'unconfined', 'the test itself runs unconfined');
  });

  t.test('a loaded profile confines the process and exec, unless exec asks for another (as runc)', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const fgId = uniqueId(rt.name);
      const fg = testConfig(fgId, ['sh', '-c', PROBE]);
      fg.process!.apparmorProfile = PROFILE;
      withSecret(fg, env.dir);
      const r = rt.run(['run', '--bundle', env.bundle(fg), fgId], { output: join(env.dir, `${fgId}.out`) });
      t.equal(r.code, 0, `${rt.name} run: ${r.stderr}`);
      t.equal(r.stdout, `${PROFILE} (enforce)\n${DENIED}read: 1\n`, `${rt.name} run: confined, the read refused`);

      const id = uniqueId(rt.name);
      const c = testConfig(id, ['sleep', '600']);
      c.process!.apparmorProfile = PROFILE;
      withSecret(c, env.dir);
      const d = rt.run(['run', '-d', '--bundle', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.equal(d.code, 0, `${rt.name} run -d: ${d.stderr}`);
      t.equal(
        apparmorOf(parseState(rt.run(['state', id])).pid as number),
        `${PROFILE} (enforce)`,
        `${rt.name}: the init`,
      );
      const inherited = rt.run(['exec', id, 'sh', '-c', PROBE]);
      t.equal(inherited.stdout, confined, `${rt.name} exec: the container's profile, the read refused`);
      t.equal(inherited.stderr, DENIED, `${rt.name} exec: cat says why`);
      const other = rt.run(['exec', '--apparmor', 'unconfined', id, 'sh', '-c', PROBE]);
      t.equal(other.stdout, 'unconfined\nsecret\nread: 0\n', `${rt.name} exec --apparmor unconfined: the read works`);
      const bad = rt.run(['exec', '--apparmor', NOT_LOADED, id, 'true']);
      t.not(bad.code, 0, `${rt.name} exec --apparmor ${NOT_LOADED}: refused`);
      t.match(bad.stderr, notLoadedMessage(rt.name), `${rt.name} exec: saying why (${bad.stderr.trim()})`);
      t.equal(parseState(rt.run(['state', id])).status, 'running', `${rt.name}: the container still runs`);
      t.equal(rt.run(['delete', '--force', id]).code, 0, `${rt.name} delete`);
    }
    env.done();
  });

  t.test('a profile that is not loaded: a clear error, no state or cgroup left (as runc)', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(rt.name);
      const c = testConfig(id, ['true']);
      c.process!.apparmorProfile = NOT_LOADED;
      const r = rt.run(['run', '--bundle', env.bundle(c), id]);
      t.not(r.code, 0, `${rt.name} run: fails`);
      t.match(r.stderr, notLoadedMessage(rt.name), `${rt.name}: says why (${r.stderr.trim()})`);
      t.not(rt.run(['state', id]).code, 0, `${rt.name}: no container ${id}`);
      t.notOk(existsSync(rt.root) && readdirSync(rt.root).includes(id), `${rt.name}: no state dir`);
      const cg = join(dirname(own), c.linux!.cgroupsPath!);
      t.notOk(existsSync(cgroupDir(cg)), `${rt.name}: no cgroup ${cg}`);
    }
    env.done();
  });

  t.test('rootless (a user session): the profile confines the process and exec, as runc', async (t) => {
    const user = sessionUser(t, 'tsrun-aa');
    const bundle = rootlessBundle(user, 'bundle', ['sleep', '600'], (c) => {
      c.process!.apparmorProfile = PROFILE;
      withSecret(c, user.dir, user.uid, user.gid);
    });
    for (const [name, bin] of hasRunc
      ? [
          ['tsrun', TSRUN],
          ['runc', 'runc'],
        ]
      : [['tsrun', TSRUN]]) {
      const rt = (args: string[], output?: string) => user.run(bin, ['--rootless', 'true', ...args], { output });
      const id = `aa-${name}`;
      const pidFile = join(user.dir, `${id}.pid`);
      const d = rt(['run', '-d', '--pid-file', pidFile, '--bundle', bundle, id], join(user.dir, `${id}.out`));
      t.equal(d.code, 0, `${name} run -d: ${d.stderr}`);
      t.equal(apparmorOf(Number(readFileSync(pidFile, 'utf8'))), `${PROFILE} (enforce)`, `${name}: the init`);
      const ex = rt(['exec', id, 'sh', '-c', PROBE]);
      t.equal(ex.stdout, confined, `${name} exec: confined, the read refused (${ex.stderr.trim()})`);
      t.equal(rt(['delete', '--force', id]).code, 0, `${name} delete`);
    }
  });
}

/** Each runtime's words for a profile the kernel does not have. */
function notLoadedMessage(runtime: string): RegExp {
  return runtime === 'runc'
    ? /apparmor failed to apply profile: write \/proc\/self\/attr\/apparmor\/exec: no such file or directory/
    : new RegExp(
        `apparmor profile "${NOT_LOADED}" \\(process\\.apparmorProfile\\): ` +
          `write\\(/proc/thread-self/attr/apparmor/exec, "exec ${NOT_LOADED}"\\): ENOENT: ` +
          'no profile of that name is loaded',
      );
}
