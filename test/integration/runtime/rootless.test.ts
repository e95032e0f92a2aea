// Rootless containers (issue 11): an unprivileged user runs `tsrun spec
// --rootless` bundles, multi-range maps through newuidmap/newgidmap, and gets
// clear errors for what it may not do — beside runc 1.1 where runc is here.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../../src/spec/types';
import { isRoot, ROOT_REASON, sharedRootfs, cgroupPathsOf } from '../../helpers/harness';
import { makeRootlessUser, type RootlessUser } from '../../helpers/rootless-user';

const haveRunc = spawnSync('runc', ['--version']).status === 0;
const haveSetpriv = spawnSync('setpriv', ['--version']).status === 0;
if (!isRoot || !haveSetpriv) {
  t.plan(0, !isRoot ? `${ROOT_REASON} (and a throw-away user)` : 'setpriv (util-linux) is missing');
  process.exit(0);
}

let n = 0;
const uid = () => `rl-${process.pid}-${++n}`;

/** `spec --rootless` as the user, with the given changes; returns the bundle dir. */
function bundle(u: RootlessUser, edit: (c: Spec) => void = () => {}): string {
  const b = join(u.dir, `b${++n}`);
  mkdirSync(b);
  chownSync(b, u.uid, u.gid);
  const r = u.run(u.tsrun, ['spec', '--rootless'], { cwd: b });
  if (r.code !== 0) throw new Error(`spec --rootless: ${r.stderr}`);
  const c = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Spec;
  c.root = { path: sharedRootfs(), readonly: true };
  c.process!.terminal = false;
  edit(c);
  writeFileSync(join(b, 'config.json'), JSON.stringify(c, null, 2));
  chownSync(join(b, 'config.json'), u.uid, u.gid);
  return b;
}

const stateRoot = (u: RootlessUser) => join(u.runtimeDir, 'tsrun');
const leftovers = (u: RootlessUser) => (existsSync(stateRoot(u)) ? readdirSync(stateRoot(u)) : []);
const withArgs = (args: string[]) => (c: Spec) => (c.process!.args = args);
const SHOW = [
  'sh',
  '-c',
  'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; grep CapEff /proc/self/status',
];

t.test('rootless', async (t) => {
  const u = makeRootlessUser();
  t.teardown(() => {
    for (const id of leftovers(u)) u.run(u.tsrun, ['delete', '--force', id]);
    u.remove();
  });

  t.test('spec --rootless runs unchanged as the user; state under $XDG_RUNTIME_DIR/tsrun', async (t) => {
    const b = bundle(u, withArgs(SHOW));
    const r = u.run(u.tsrun, ['run', '-b', b, uid()]);
    t.equal(r.code, 0, `tsrun run exits 0 (${r.stderr.trim()})`);
    t.match(
      r.stdout,
      new RegExp(`^\\s*0\\s+${u.uid}\\s+1\\n\\s*0\\s+${u.gid}\\s+1\\ndeny\\n0\\n`),
      'own ids mapped to 0, setgroups denied, uid 0 inside',
    );
    t.match(r.stderr, /level=warning msg="rootless: no writable cgroup/, 'warned about running without cgroups');
    t.ok(statSync(stateRoot(u)).mode & 0o1000, 'the state root is sticky (XDG rule)');
    t.equal(statSync(stateRoot(u)).uid, u.uid, 'and the user owns it');
    t.same(leftovers(u), [], 'no state left');
    if (haveRunc) {
      const rr = u.run('runc', ['run', '-b', b, uid()]);
      t.equal(rr.code, 0, 'runc runs the same bundle');
      t.equal(r.stdout, rr.stdout, 'with the same view from inside');
    }
  });

  t.test('create, state, start, delete as the user, with the default --root', async (t) => {
    const id = uid();
    const b = bundle(u, withArgs(['sleep', '30']));
    t.equal(u.run(u.tsrun, ['create', '-b', b, id]).code, 0, 'create');
    t.ok(existsSync(join(stateRoot(u), id)), 'state dir under $XDG_RUNTIME_DIR/tsrun');
    const st = JSON.parse(u.run(u.tsrun, ['state', id]).stdout) as { status: string; pid: number };
    t.equal(st.status, 'created');
    t.equal(statSync(`/proc/${st.pid}`).uid, u.uid, 'the init runs as the user on the host');
    t.equal(u.run(u.tsrun, ['start', id]).code, 0, 'start');
    t.match(u.run(u.tsrun, ['list']).stdout, new RegExp(`${id}\\s+\\d+\\s+running`), 'list shows it running');
    // Without any cgroup, events judges liveness by the init alone: it streams until stopped.
    const ev = u.run('timeout', ['1', u.tsrun, 'events', '--interval', '100ms', id]);
    t.equal(ev.code, 124, `events still streaming after 1 s (${ev.stderr.trim()})`);
    t.match(ev.stdout, /"type":"stats"/, 'stats lines');
    t.equal(u.run(u.tsrun, ['kill', id, 'KILL']).code, 0, 'kill');
    const del = u.run(u.tsrun, ['delete', '--force', id]);
    t.equal(del.code, 0, `delete (${del.stderr.trim()})`);
    t.same(leftovers(u), [], 'no state left');
  });

  t.test('several ranges go through newuidmap/newgidmap', async (t) => {
    const more = (c: Spec) => {
      c.linux!.uidMappings!.push({ containerID: 1, hostID: u.subStart, size: u.subCount });
      c.linux!.gidMappings!.push({ containerID: 1, hostID: u.subStart, size: u.subCount });
      c.process!.args = SHOW;
    };
    const b = bundle(u, more);
    const r = u.run(u.tsrun, ['run', '-b', b, uid()]);
    t.equal(r.code, 0, `tsrun run exits 0 (${r.stderr.trim()})`);
    const map = (host: number) =>
      new RegExp(`^\\s*0\\s+${host}\\s+1\\n\\s*1\\s+${u.subStart}\\s+${u.subCount}\\n`, 'm');
    t.match(r.stdout, map(u.uid), 'uid_map has both ranges');
    t.match(r.stdout, /\nallow\n/, 'setgroups stays allowed (newgidmap wrote gid_map)');
    if (haveRunc) {
      const rr = u.run('runc', ['run', '-b', b, uid()]);
      t.equal(rr.code, 0, 'runc runs it too');
      t.equal(r.stdout, rr.stdout, 'the same maps as runc');
    }
    t.same(leftovers(u), [], 'no state left');
  });

  t.test('bad input: each error names its field, flag or file, and nothing is left', async (t) => {
    const over = bundle(u, (c) => {
      c.linux!.uidMappings!.push({ containerID: 1, hostID: u.subStart, size: u.subCount + 1 });
      c.linux!.gidMappings!.push({ containerID: 1, hostID: u.subStart, size: u.subCount });
    });
    let r = u.run(u.tsrun, ['run', '-b', over, uid()]);
    t.not(r.code, 0, 'mappings beyond /etc/subuid fail');
    t.match(
      r.stderr,
      /config\.json: \/linux\/uidMappings\/1: host uids .* are not the caller's: \/etc\/subuid grants/,
      `names the mapping and /etc/subuid: ${r.stderr.trim()}`,
    );

    const multi = bundle(u, (c) => {
      c.linux!.uidMappings!.push({ containerID: 1, hostID: u.subStart, size: 10 });
      c.linux!.gidMappings!.push({ containerID: 1, hostID: u.subStart, size: 10 });
    });
    r = u.run(u.tsrun, ['run', '-b', multi, uid()], { env: { PATH: '/nonexistent' } });
    t.not(r.code, 0, 'a missing newuidmap fails');
    t.match(
      r.stderr,
      /config\.json: \/linux\/uidMappings: .*needs newuidmap, which is not in PATH \(Debian: apt-get install uidmap\)/,
      `names the tool: ${r.stderr.trim()}`,
    );

    const plain = bundle(u, withArgs(['true']));
    const locked = join(u.dir, 'locked');
    mkdirSync(locked, { mode: 0o755 }); // root's: the user cannot write it
    r = u.run(u.tsrun, ['--root', join(locked, 'state'), 'run', '-b', plain, uid()]);
    t.not(r.code, 0, 'an unwritable state root fails');
    t.match(
      r.stderr,
      new RegExp(
        `--root ${locked}/state: cannot create the container's state directory: mkdir ${locked}/state: EACCES`,
      ),
      `names --root: ${r.stderr.trim()}`,
    );
    t.same(readdirSync(locked), [], 'nothing made there');

    r = u.run(u.tsrun, ['run', '-b', plain, uid()], { env: { XDG_RUNTIME_DIR: '' } });
    t.match(
      r.stderr,
      /--root \/run\/tsrun: .*EACCES \(as an unprivileged user, set XDG_RUNTIME_DIR or pass --root/,
      `without XDG_RUNTIME_DIR: /run/tsrun, with a hint: ${r.stderr.trim()}`,
    );

    const noUserns = bundle(u, (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((ns) => ns.type !== 'user');
      delete c.linux!.uidMappings;
      delete c.linux!.gidMappings;
    });
    r = u.run(u.tsrun, ['run', '-b', noUserns, uid()]);
    t.match(
      r.stderr,
      /config\.json: \/linux\/namespaces: a rootless container needs a user namespace/,
      `no user namespace: named: ${r.stderr.trim()}`,
    );

    const oom = bundle(u, (c) => (c.process!.oomScoreAdj = -500));
    r = u.run(u.tsrun, ['run', '-b', oom, uid()]);
    t.match(
      r.stderr,
      /config\.json: \/process\/oomScoreAdj: -500 is below the caller's own 0/,
      'a lower oomScoreAdj: named',
    );

    const rwSys = bundle(u, (c) => {
      const sys = c.mounts!.find((m) => m.destination === '/sys')!;
      sys.options = sys.options!.filter((o) => o !== 'ro');
    });
    r = u.run(u.tsrun, ['run', '-b', rwSys, uid()]);
    t.match(
      r.stderr,
      /config\.json: \/mounts\/\d+\/options: a writable bind of the host's \/sys needs real root/,
      'a writable /sys: named',
    );

    const limited = bundle(u, (c) => (c.linux!.resources = { memory: { limit: 64 << 20 } }));
    r = u.run(u.tsrun, ['run', '-b', limited, uid()]);
    t.not(r.code, 0, 'a limit without a writable cgroup fails');
    t.match(
      r.stderr,
      /linux\.resources\.memory\.limit: cannot be applied rootless: no cgroup the caller may write \(mkdir \/sys\/fs\/cgroup\/memory\/.*: EACCES\)/,
      `names the limit: ${r.stderr.trim()}`,
    );

    t.same(leftovers(u), [], 'no state left by any of them');
    // Zombies are left out: an init reparented to this host's pid 1 waits there to be reaped.
    const procs = spawnSync('ps', ['-u', String(u.uid), '-o', 'pid=,stat=,args='], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.trim() && !/^\s*\d+\s+Z/.test(l));
    t.same(procs, [], 'no live process of the user left');
  });

  t.test('a delegated memory cgroup: the limit is applied there', async (t) => {
    // What a delegating manager does: a cgroup the user owns, the caller already inside it.
    const [deleg] = cgroupPathsOf(`tsrun-rl-${process.pid}`).filter((d) => d.startsWith('/sys/fs/cgroup/memory/'));
    mkdirSync(deleg);
    chownSync(deleg, u.uid, u.gid);
    for (const f of ['cgroup.procs', 'tasks']) chownSync(join(deleg, f), u.uid, u.gid);
    t.teardown(() => {
      try {
        rmdirSync(join(deleg, 'c'));
      } catch {
        // not made, or removed by delete
      }
      rmdirSync(deleg);
    });
    const id = uid();
    const b = bundle(u, (c) => {
      c.linux!.resources = { memory: { limit: 64 << 20 } };
      c.linux!.cgroupsPath = `${deleg.replace('/sys/fs/cgroup/memory', '')}/c`;
      c.process!.args = ['sleep', '30'];
    });
    const r = u.run(u.tsrun, ['create', '-b', b, id]);
    t.equal(r.code, 0, `create (${r.stderr.trim()})`);
    t.match(
      r.stderr,
      /rootless: no writable cgroup, the container runs outside cpu/,
      'the other hierarchies are left out, with a warning',
    );
    t.notMatch(r.stderr, /outside [^(]*memory/, 'but not memory');
    t.equal(
      readFileSync(join(deleg, 'c', 'memory.limit_in_bytes'), 'utf8').trim(),
      String(64 << 20),
      'the limit is in the delegated cgroup',
    );
    const st = JSON.parse(u.run(u.tsrun, ['state', id]).stdout) as { pid: number };
    t.match(
      readFileSync(`/proc/${st.pid}/cgroup`, 'utf8'),
      new RegExp(`memory:${deleg.replace('/sys/fs/cgroup/memory', '')}/c\\n`),
      'the init is in it',
    );
    t.equal(u.run(u.tsrun, ['delete', '--force', id]).code, 0, 'delete');
    t.notOk(existsSync(join(deleg, 'c')), 'delete removed the container cgroup');
    t.same(leftovers(u), [], 'no state left');
  });
});
