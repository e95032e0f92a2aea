// sd_notify (issue 20, item 2): with NOTIFY_SOCKET in its environment, create
// or run gives the container a notify socket of its own (<state>/<id>/notify,
// mounted read-only at /run/notify, NOTIFY_SOCKET=/run/notify/notify.sock for
// its process); start (or run) waits for the container's READY=1 and passes it
// on to the caller's socket, with MAINPID. The test plays systemd; runc 1.1.5
// does the same beside tsrun on the same bundles.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, parseState, TSRUN, type Env } from '../../helpers/harness';
import { runtimes, type Runtime } from '../../helpers/runc';
import { waitFor, sleep } from '../../helpers/wait';
import { FakeSystemd, notifyingConfig, spawnNotified } from '../../helpers/notify';

/** The container: what it sees, a STATUS= (not passed on), then READY=1 once the test says so; `then` after it. */
const script = (then: string) =>
  [
    '{ echo "$NOTIFY_SOCKET"; grep " /run/notify " /proc/self/mountinfo | cut -d" " -f5,6; } > /shared/seen',
    '/sd-notify STATUS=starting',
    'while [ ! -e /shared/go ]; do sleep 0.05; done',
    '/sd-notify "$(printf "READY=1\\nSTATUS=up")"',
    then,
  ].join('; ');

const binary = (rt: Runtime) => (rt.name === 'tsrun' ? TSRUN : 'runc');

interface Case {
  id: string;
  bundle: string;
  shared: string;
  systemd: FakeSystemd;
}

function setUp(t: Test, env: Env, rt: Runtime, then: string): Case {
  const id = uniqueId('nfy');
  const shared = join(env.dir, `${id}-${rt.name}`);
  mkdirSync(shared);
  const bundle = env.bundle(notifyingConfig(testConfig(id, ['sh', '-c', script(then)]), shared));
  const systemd = new FakeSystemd(join(shared, 'systemd.sock'));
  t.teardown(() => systemd.close());
  return { id, bundle, shared, systemd };
}

/** What a runtime did, for comparison with the other: the container's view and what reached "systemd". */
async function waitReady(
  t: Test,
  rt: Runtime,
  c: Case,
  cmd: string[],
  mainPid: () => number,
): Promise<{ seen: string; got: string[] }> {
  const bg = spawnNotified(binary(rt), ['--root', rt.root, ...cmd], c.systemd.path, join(c.shared, 'out'));
  const seenFile = join(c.shared, 'seen');
  await waitFor(() => existsSync(seenFile) && readFileSync(seenFile, 'utf8').includes('\n'), { timeoutMs: 20000 });
  await sleep(300);
  t.equal(bg.child.exitCode, null, `${rt.name} ${cmd[0]}: still waiting for READY`);
  t.same(c.systemd.read(), [], `${rt.name}: nothing passed on before the container's READY (STATUS= is not)`);
  t.ok(existsSync(join(rt.root, c.id, 'notify', 'notify.sock')), `${rt.name}: the socket in the state dir`);
  writeFileSync(join(c.shared, 'go'), '');
  const pid = mainPid();
  t.equal(await bg.exited, 0, `${rt.name} ${cmd[0]}: exit 0 once READY came: ${bg.output()}`);
  await waitFor(() => c.systemd.read().length >= 2, { timeoutMs: 5000 }).catch(() => undefined);
  t.same(c.systemd.read(), ['READY=1\n', `MAINPID=${pid}\n`], `${rt.name}: READY=1, then MAINPID`);
  return { seen: readFileSync(seenFile, 'utf8'), got: c.systemd.got };
}

const statePid = (rt: Runtime, id: string) => () => parseState(rt.run(['state', id])).pid as number;

function deleted(t: Test, rt: Runtime, id: string): void {
  t.equal(rt.run(['delete', '--force', id]).code, 0, `${rt.name}: delete`);
  t.notOk(existsSync(join(rt.root, id)), `${rt.name}: no state dir (nor socket) left`);
}

/** The container's view: its NOTIFY_SOCKET, and /run/notify read-only, nosuid, nodev, noexec. */
function checkSeen(t: Test, name: string, seen: string): void {
  const [sock, mount] = seen.trim().split('\n');
  t.equal(sock, '/run/notify/notify.sock', `${name}: NOTIFY_SOCKET in the container`);
  t.match(mount, /^\/run\/notify ro,/, `${name}: /run/notify mounted read-only`);
  for (const o of ['nosuid', 'nodev', 'noexec']) t.match(mount, o, `${name}: /run/notify ${o}`);
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test("run -d waits for the container's READY=1 and passes it on with MAINPID its init", async (t) => {
    const env = testEnv(t);
    const views = [];
    for (const rt of runtimes(t, env)) {
      const c = setUp(t, env, rt, 'exec sleep 300');
      const view = await waitReady(t, rt, c, ['run', '-d', '-b', c.bundle, c.id], statePid(rt, c.id));
      checkSeen(t, rt.name, view.seen);
      views.push(view);
      deleted(t, rt, c.id);
    }
    if (views.length === 2) t.same(views[0], { ...views[1], got: views[0].got }, 'tsrun as runc 1.1.5');
    env.done();
  });

  t.test('create, then start with NOTIFY_SOCKET: start waits and passes READY=1 on', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const c = setUp(t, env, rt, 'exec sleep 300');
      const created = spawnNotified(
        binary(rt),
        ['--root', rt.root, 'create', '-b', c.bundle, c.id],
        c.systemd.path,
        join(c.shared, 'out'),
      );
      t.equal(await created.exited, 0, `${rt.name} create: ${created.output()}`);
      t.ok(existsSync(join(rt.root, c.id, 'notify')), `${rt.name}: create made the notify dir`);
      t.notOk(existsSync(join(rt.root, c.id, 'notify', 'notify.sock')), `${rt.name}: the socket waits for start`);
      checkSeen(t, rt.name, (await waitReady(t, rt, c, ['start', c.id], statePid(rt, c.id))).seen);
      deleted(t, rt, c.id);
    }
    env.done();
  });

  t.test('run in the foreground: MAINPID is the run itself, which waits for the container', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const c = setUp(t, env, rt, 'while [ ! -e /shared/stop ]; do sleep 0.05; done; exit 7');
      const bg = spawnNotified(
        binary(rt),
        ['--root', rt.root, 'run', '-b', c.bundle, c.id],
        c.systemd.path,
        join(c.shared, 'out'),
      );
      await waitFor(() => existsSync(join(c.shared, 'seen')), { timeoutMs: 20000 });
      writeFileSync(join(c.shared, 'go'), '');
      await waitFor(() => c.systemd.read().length >= 2, { timeoutMs: 10000 }).catch(() => undefined);
      t.same(c.systemd.read(), ['READY=1\n', `MAINPID=${bg.child.pid}\n`], `${rt.name}: READY=1, MAINPID of the run`);
      writeFileSync(join(c.shared, 'stop'), '');
      t.equal(await bg.exited, 7, `${rt.name} run: the container's exit status`);
      t.notOk(existsSync(join(rt.root, c.id)), `${rt.name}: nothing left after the run`);
    }
    env.done();
  });

  t.test('in a user namespace, the container (root mapped to 100000) reaches its socket', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId('nfy');
      const shared = join(env.dir, `${id}-${rt.name}`);
      mkdirSync(shared);
      const config = notifyingConfig(testConfig(id, ['sh', '-c', '/sd-notify READY=1 && exec sleep 300']), shared);
      config.linux!.namespaces!.push({ type: 'user' });
      config.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      config.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      const systemd = new FakeSystemd(join(shared, 'systemd.sock'));
      t.teardown(() => systemd.close());
      const cmd = ['--root', rt.root, 'run', '-d', '-b', env.bundle(config), id];
      const bg = spawnNotified(binary(rt), cmd, systemd.path, join(shared, 'out'));
      t.equal(await bg.exited, 0, `${rt.name} run -d: ${bg.output()}`);
      const pid = statePid(rt, id)();
      t.same(systemd.read(), ['READY=1\n', `MAINPID=${pid}\n`], `${rt.name}: READY=1 from the user namespace`);
      deleted(t, rt, id);
    }
    env.done();
  });

  t.test('bad input: NOTIFY_SOCKET nobody listens on; start with it after create without', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const nowhere = join(env.dir, `${rt.name}-nowhere.sock`);
      const [a, b] = [uniqueId('nfy'), uniqueId('nfy')];
      const config = (id: string) => env.bundle(testConfig(id, ['sleep', '300']));
      const out = join(env.dir, `${rt.name}-out`);
      const runD = spawnNotified(binary(rt), ['--root', rt.root, 'run', '-d', '-b', config(a), a], nowhere, out);
      t.equal(await runD.exited, 0, `${rt.name} run -d: the container runs whatever became of READY`);
      t.equal(parseState(rt.run(['state', a])).status, 'running', `${rt.name}: running`);
      // runc 1.1.5 says nothing; tsrun warns.
      if (rt.name === 'tsrun') t.match(runD.output(), `NOTIFY_SOCKET ${nowhere}: connect(`, 'tsrun: a warning');
      deleted(t, rt, a);
      const created = spawnNotified(binary(rt), ['--root', rt.root, 'create', '-b', config(b), b], nowhere, out);
      t.equal(await created.exited, 0, `${rt.name} create: the socket is not used yet`);
      const started = spawnNotified(
        binary(rt),
        ['--root', rt.root, 'start', b],
        nowhere,
        join(env.dir, `${rt.name}-start`),
      );
      t.equal(await started.exited, 1, `${rt.name} start fails`);
      t.match(started.output(), nowhere, `${rt.name}: the error names the socket: ${started.output()}`);
      t.equal(parseState(rt.run(['state', b])).status, 'running', `${rt.name}: after starting the container`);
      deleted(t, rt, b);

      const c = uniqueId('nfy');
      t.equal(rt.run(['create', '-b', config(c), c], { output: out }).code, 0, `${rt.name}: create without`);
      const late = spawnNotified(
        binary(rt),
        ['--root', rt.root, 'start', c],
        nowhere,
        join(env.dir, `${rt.name}-late`),
      );
      t.equal(await late.exited, 1, `${rt.name} start with NOTIFY_SOCKET after a create without fails`);
      t.match(late.output(), join(rt.root, c, 'notify', 'notify.sock'), `${rt.name}: naming its socket`);
      t.equal(parseState(rt.run(['state', c])).status, 'created', `${rt.name}: the container stays created`);
      deleted(t, rt, c);
    }
    env.done();
  });

  // runc 1.1.5 waits forever here (its run -d for a zombie init, its foreground run
  // for READY, deaf to signals): tsrun stops waiting when the init ends (docs/conformance.md).
  t.test('a container that ends without READY: run -d and run return (tsrun only)', async (t) => {
    const env = testEnv(t);
    const rt = runtimes(t, env)[0];
    for (const cmd of [['run', '-d'], ['run']]) {
      const id = uniqueId('nfy');
      const shared = join(env.dir, id);
      mkdirSync(shared);
      const systemd = new FakeSystemd(join(shared, 'systemd.sock'));
      t.teardown(() => systemd.close());
      const bundle = env.bundle(testConfig(id, ['sh', '-c', 'sleep 0.5; exit 3']));
      const bg = spawnNotified(TSRUN, ['--root', rt.root, ...cmd, '-b', bundle, id], systemd.path, join(shared, 'out'));
      t.equal(await bg.exited, cmd.length === 2 ? 0 : 3, `${cmd.join(' ')}: returns: ${bg.output()}`);
      t.same(systemd.read(), [], `${cmd.join(' ')}: nothing passed on`);
      if (cmd.length === 2) deleted(t, rt, id);
    }
    env.done();
  });
}
