// runtime.md — Lifecycle, Errors and Operations.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { assert, eq, fail, mustFail, mustSucceed } from '../lib/check.mjs';
import { sh } from '../lib/config.mjs';
import { alive, cgroupDirs } from '../lib/host.mjs';
import { sleep } from '../lib/runtime.mjs';

const LC = 'runtime.md#lifecycle';
const OPS = 'runtime.md#operations';

function createOk(t, b, opts) {
  const c = t.create(b, opts);
  if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
  return t.state(b.id);
}

/** Assert nothing of a failed create survived: no state, no cgroup named after it. */
function assertNoContainer(t, b) {
  eq(t.state(b.id), null, `state ${b.id} after the failed operation`);
  const leftovers = [];
  for (const root of ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    const own = ownCgroup(root);
    if (own && fs.existsSync(path.join(own, b.cgroupsPath))) leftovers.push(path.join(own, b.cgroupsPath));
  }
  assert(leftovers.length === 0, `cgroups left behind: ${leftovers.join(', ')}`);
}

/** Our own cgroup directory under a hierarchy mount, or null. */
function ownCgroup(mount) {
  try {
    for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [hid, ctl, p] = line.split(':');
      if (mount.endsWith('/memory') && ctl === 'memory') return mount + p;
      if (mount.endsWith('/pids') && ctl === 'pids') return mount + p;
      if (mount.endsWith('/unified') && hid === '0') return mount + p;
    }
  } catch {}
  return null;
}

export const clauses = [
  {
    id: 'lifecycle.create.program-not-run',
    spec: LC,
    quote:
      'While the resources requested in the config.json MUST be created, the user-specified program (from process) MUST NOT be run at this time.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = sh('echo ran > /out/ran');
      createOk(t, b);
      await sleep(300);
      eq(t.out(b, 'ran'), null, '/out/ran after create (program must not have run)');
      mustSucceed(t.start(b.id), 'start');
      await t.waitStatus(b.id, 'stopped');
      eq(t.out(b, 'ran'), 'ran\n', '/out/ran after start');
    },
  },
  {
    id: 'lifecycle.create.config-changes-ignored',
    spec: LC,
    quote: 'Any updates to config.json after this step MUST NOT affect the container.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = sh('echo original > /out/which');
      createOk(t, b);
      b.config.process.args = sh('echo modified > /out/which');
      b.config.hostname = 'modified';
      t.writeConfig(b);
      mustSucceed(t.start(b.id), 'start');
      await t.waitStatus(b.id, 'stopped');
      eq(t.out(b, 'which'), 'original\n', 'program that ran');
    },
  },
  {
    id: 'lifecycle.create.error-if-environment-fails',
    spec: LC,
    quote:
      'If the runtime is unable to create the environment specified in the config.json, it MUST generate an error.',
    async run(t) {
      const b = t.bundle();
      b.config.mounts.push({ destination: '/mnt/a', type: 'no-such-filesystem', source: 'none' });
      mustFail(t.create(b), 'create with an unmountable filesystem type');
    },
  },
  {
    id: 'errors.failed-create-leaves-nothing',
    spec: 'runtime.md#errors',
    quote:
      'Unless otherwise stated, generating an error MUST leave the state of the environment as if the operation were never attempted',
    async run(t) {
      const b = t.bundle();
      b.config.mounts.push({ destination: '/mnt/a', type: 'no-such-filesystem', source: 'none' });
      mustFail(t.create(b), 'create with an unmountable filesystem type');
      assertNoContainer(t, b);
    },
  },
  {
    id: 'lifecycle.destroy',
    spec: LC,
    quote: '12. The container MUST be destroyed by undoing the steps performed during create phase (step 2).',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      b.config.linux.resources.pids = { limit: 100 };
      const s = createOk(t, b);
      const dirs = cgroupDirs(s.pid).filter((d) => d.dir.includes(b.cgroupsPath));
      assert(dirs.length > 0, `no cgroup of the container contains its cgroupsPath ${b.cgroupsPath}`);
      mustSucceed(t.kill(b.id, 'KILL'), 'kill');
      await t.waitStatus(b.id, 'stopped');
      mustSucceed(t.delete(b.id), 'delete');
      assert(!alive(s.pid), `container init ${s.pid} still alive after delete`);
      const left = dirs.filter((d) => fs.existsSync(d.dir)).map((d) => d.dir);
      assert(left.length === 0, `cgroups left after delete: ${left.join(', ')}`);
      eq(t.state(b.id), null, 'state after delete');
    },
  },
  {
    id: 'ops.state.requires-id',
    spec: OPS,
    quote: 'This operation MUST generate an error if it is not provided the ID of a container.',
    run(t) {
      mustFail(t.rt.exec(['state']), 'state without an id');
    },
  },
  {
    id: 'ops.state.unknown-id',
    spec: OPS,
    quote: 'Attempting to query a container that does not exist MUST generate an error.',
    run(t) {
      mustFail(t.rt.exec(['state', t.newId()]), 'state of a container that does not exist');
    },
  },
  {
    id: 'ops.state.is-json-state',
    spec: OPS,
    quote: 'This operation MUST return the state of a container as specified in the State section.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      createOk(t, b);
      const s = t.state(b.id);
      for (const k of ['ociVersion', 'id', 'status', 'bundle'])
        assert(typeof s[k] === 'string', `state.${k} missing or not a string: ${JSON.stringify(s)}`);
      assert(typeof s.pid === 'number', 'state.pid missing');
    },
  },
  {
    id: 'ops.create.requires-id',
    spec: OPS,
    quote:
      'This operation MUST generate an error if it is not provided a path to the bundle and the container ID to associate with the container.',
    run(t) {
      const b = t.bundle();
      t.writeConfig(b);
      mustFail(t.rt.exec(['create', '--bundle', b.dir], { stdio: ['ignore', 'pipe', 'pipe'] }), 'create without an id');
    },
  },
  {
    id: 'ops.create.requires-bundle',
    spec: OPS,
    quote:
      'This operation MUST generate an error if it is not provided a path to the bundle and the container ID to associate with the container.',
    run(t) {
      const b = t.bundle();
      // No --bundle: runc's CLI then uses the working directory, which has no config.json.
      const empty = fs.mkdtempSync(path.join(t.dir, 'empty-'));
      t.ids.push(b.id);
      mustFail(t.rt.exec(['create', b.id], { cwd: empty }), 'create with no bundle (cwd has no config.json)');
      eq(t.state(b.id), null, 'state after the failed create');
    },
  },
  {
    id: 'ops.create.duplicate-id',
    spec: OPS,
    quote:
      'If the ID provided is not unique across all containers within the scope of the runtime ... the implementation MUST generate an error and a new container MUST NOT be created.',
    async run(t) {
      const a = t.bundle();
      a.config.process.args = ['/bin/sleep', '1000'];
      const s1 = createOk(t, a);
      const b = t.bundle();
      b.config.process.args = sh('echo second > /out/ran');
      mustFail(t.create(b, { id: a.id }), 'second create with the same id');
      const s2 = t.state(a.id);
      eq(s2?.status, 'created', 'status of the first container');
      eq(s2?.pid, s1.pid, 'pid of the first container');
      eq(s2?.bundle, fs.realpathSync(a.dir), 'bundle of the first container');
    },
  },
  {
    id: 'ops.create.invalid-id',
    spec: OPS,
    quote:
      'If the ID provided ... is not valid in any other way, the implementation MUST generate an error and a new container MUST NOT be created.',
    run(t) {
      const b = t.bundle();
      const bad = `../escape-${process.pid}`;
      mustFail(t.create(b, { id: bad }), `create with id ${bad}`);
      const escaped = path.join(t.rt.stateRoot, bad);
      const exists = fs.existsSync(escaped);
      if (exists) fs.rmSync(escaped, { recursive: true, force: true });
      assert(!exists, `create left ${escaped} behind`);
    },
  },
  {
    id: 'ops.create.applies-config',
    spec: OPS,
    quote: 'All of the properties configured in config.json except for process MUST be applied.',
    run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      b.config.hostname = 'applied-at-create';
      const s = createOk(t, b);
      const r = spawnSync('nsenter', ['--target', String(s.pid), '--uts', 'hostname'], { encoding: 'utf8' });
      eq(r.stdout.trim(), 'applied-at-create', 'hostname in the created (not started) container');
    },
  },
  {
    id: 'ops.create.unappliable-property',
    spec: OPS,
    quote:
      'If the runtime cannot apply a property as specified in the configuration, it MUST generate an error and a new container MUST NOT be created.',
    run(t) {
      const b = t.bundle();
      b.config.linux.sysctl = { 'kernel.no_such_sysctl_conformance': '1' };
      mustFail(t.create(b), 'create with a sysctl that does not exist');
      assertNoContainer(t, b);
    },
  },
  {
    id: 'ops.start.requires-id',
    spec: OPS,
    quote: 'This operation MUST generate an error if it is not provided the container ID.',
    run(t) {
      mustFail(t.rt.exec(['start']), 'start without an id');
    },
  },
  {
    id: 'ops.start.runs-process',
    spec: OPS,
    quote: 'This operation MUST run the user-specified program as specified by process.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sh', '-c', 'echo "$0 $1" > /out/args', 'zero', 'one'];
      await t.run(b);
      eq(t.out(b, 'args'), 'zero one\n', 'what the program wrote');
    },
  },
  {
    id: 'ops.start.running-container',
    spec: OPS,
    quote:
      'Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = sh('echo x >> /out/starts; exec sleep 1000');
      createOk(t, b);
      mustSucceed(t.start(b.id), 'first start');
      const s1 = t.state(b.id);
      mustFail(t.start(b.id), 'start of a running container');
      await sleep(200);
      const s2 = t.state(b.id);
      eq(s2?.status, 'running', 'status after the second start');
      eq(s2?.pid, s1.pid, 'pid after the second start');
      eq(t.out(b, 'starts'), 'x\n', 'times the program ran');
    },
  },
  {
    id: 'ops.start.stopped-container',
    spec: OPS,
    quote:
      'Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = sh('echo x >> /out/starts');
      createOk(t, b);
      mustSucceed(t.start(b.id), 'first start');
      await t.waitStatus(b.id, 'stopped');
      mustFail(t.start(b.id), 'start of a stopped container');
      await sleep(100);
      eq(t.state(b.id)?.status, 'stopped', 'status after the second start');
      eq(t.out(b, 'starts'), 'x\n', 'times the program ran');
    },
  },
  {
    id: 'ops.start.requires-process',
    spec: OPS,
    quote: 'This operation MUST generate an error if process was not set.',
    run(t) {
      const b = t.bundle();
      delete b.config.process;
      const c = t.create(b);
      // A runtime may refuse at create already; either way start must not succeed.
      if (c.code === 0) mustFail(t.start(b.id), 'start of a container without process');
    },
  },
  {
    id: 'ops.kill.requires-id',
    spec: OPS,
    quote: 'This operation MUST generate an error if it is not provided the container ID.',
    run(t) {
      mustFail(t.rt.exec(['kill']), 'kill without an id');
    },
  },
  {
    id: 'ops.kill.stopped-container',
    spec: OPS,
    quote:
      'Attempting to send a signal to a container that is neither created nor running MUST have no effect on the container and MUST generate an error.',
    async run(t) {
      const b = t.bundle();
      createOk(t, b);
      mustSucceed(t.start(b.id), 'start');
      await t.waitStatus(b.id, 'stopped');
      mustFail(t.kill(b.id, 'KILL'), 'kill of a stopped container');
      eq(t.state(b.id)?.status, 'stopped', 'status after the kill');
    },
  },
  {
    id: 'ops.kill.sends-signal',
    spec: OPS,
    quote: 'This operation MUST send the specified signal to the container process.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = sh(
        'trap "echo USR1 > /out/sig; exit 0" USR1; echo ready > /out/ready; while :; do sleep 0.05; done',
      );
      createOk(t, b);
      mustSucceed(t.start(b.id), 'start');
      for (let i = 0; i < 200 && t.out(b, 'ready') === null; i++) await sleep(10);
      mustSucceed(t.kill(b.id, 'USR1'), 'kill USR1');
      await t.waitStatus(b.id, 'stopped');
      eq(t.out(b, 'sig'), 'USR1\n', 'signal the process saw');
    },
  },
  {
    id: 'ops.kill.created-container',
    spec: OPS,
    quote: 'This operation MUST send the specified signal to the container process.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = sh('echo ran > /out/ran');
      const s = createOk(t, b);
      mustSucceed(t.kill(b.id, 'KILL'), 'kill KILL of a created container');
      await t.waitStatus(b.id, 'stopped');
      assert(!alive(s.pid), `pid ${s.pid} still alive`);
      eq(t.out(b, 'ran'), null, '/out/ran (the program must never have run)');
    },
  },
  {
    id: 'ops.delete.requires-id',
    spec: OPS,
    quote: 'This operation MUST generate an error if it is not provided the container ID.',
    run(t) {
      mustFail(t.rt.exec(['delete']), 'delete without an id');
    },
  },
  {
    id: 'ops.delete.running-container',
    spec: OPS,
    quote:
      'Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      const s = createOk(t, b);
      mustSucceed(t.start(b.id), 'start');
      mustFail(t.delete(b.id), 'delete of a running container');
      eq(t.state(b.id)?.status, 'running', 'status after the delete');
      assert(alive(s.pid), 'container process killed by the failed delete');
    },
  },
  {
    id: 'ops.delete.created-container',
    spec: OPS,
    quote:
      'Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      const s = createOk(t, b);
      mustFail(t.delete(b.id), 'delete of a created container');
      eq(t.state(b.id)?.status, 'created', 'status after the delete');
      assert(alive(s.pid), 'container process killed by the failed delete');
    },
  },
  {
    id: 'ops.delete.keeps-foreign-resources',
    spec: OPS,
    quote: 'Note that resources associated with the container, but not created by this container, MUST NOT be deleted.',
    async run(t) {
      const b = t.bundle();
      const data = path.join(b.dir, 'data');
      fs.mkdirSync(data);
      fs.writeFileSync(path.join(data, 'keep'), 'keep');
      b.config.mounts.push({ destination: '/mnt/a', type: 'bind', source: data, options: ['bind', 'rw'] });
      await t.run(b);
      eq(fs.readFileSync(path.join(data, 'keep'), 'utf8'), 'keep', 'bind-mount source content after delete');
      eq(fs.readFileSync(path.join(b.rootfs, 'bin/busybox')).length > 0, true, 'rootfs content after delete');
    },
  },
];
