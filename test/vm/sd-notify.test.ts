// sd_notify on a systemd host (issue 20, item 2): a Type=notify service whose
// ExecStart is a foreground `run` becomes active only once the container said
// READY=1, and podman's --sdnotify=container (root, cgroupfs manager, tsrun as
// its runtime) passes the container's READY=1 on: there podman and conmon do
// the relaying and the runtime makes the container from their spec. runc 1.1.5
// beside tsrun.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, testConfig, testEnv, uniqueId, type Env } from '../helpers/harness';
import { runtimes, type Runtime } from '../helpers/runc';
import { requireV2Host } from '../helpers/v2';
import { waitFor, sleep } from '../helpers/wait';
import { FakeSystemd, notifyingConfig, spawnNotified, SD_NOTIFY } from '../helpers/notify';
import { sh, scratch, rootfsTar, which } from '../clients/client-env';

const TSRUN = join(REPO, 'dist', 'tsrun');

/** Says what it sees, waits for /shared/go, says READY=1, then runs until SIGTERM (it is pid 1: a trap). */
const SCRIPT = [
  'trap "exit 0" TERM',
  'echo "$NOTIFY_SOCKET" > /shared/seen',
  'while [ ! -e /shared/go ]; do sleep 0.05; done',
  '/sd-notify READY=1',
  'while :; do sleep 0.1; done',
].join('; ');

const prop = (unit: string, name: string) => sh('systemctl', ['show', '-p', name, '--value', unit]).stdout.trim();

/** A transient Type=notify service file, removed at teardown. */
function notifyUnit(t: Test, name: string, execStart: string): void {
  const file = `/run/systemd/system/${name}.service`;
  const text = ['[Service]', 'Type=notify', `ExecStart=${execStart}`, 'TimeoutStartSec=120', 'TimeoutStopSec=30'];
  writeFileSync(file, `${text.join('\n')}\n`);
  sh('systemctl', ['daemon-reload']);
  t.teardown(() => {
    sh('systemctl', ['stop', name]);
    rmSync(file, { force: true });
    sh('systemctl', ['daemon-reload']);
    sh('systemctl', ['reset-failed', name]);
  });
}

function sharedDir(env: Env, name: string): string {
  const d = join(env.dir, name);
  mkdirSync(d);
  return d;
}

async function serviceRun(t: Test, env: Env, rt: Runtime): Promise<void> {
  const id = uniqueId(`sdn-${rt.name}`);
  const shared = sharedDir(env, id);
  const config = notifyingConfig(testConfig(id, ['sh', '-c', SCRIPT]), shared);
  delete config.linux!.cgroupsPath; // beside the service's cgroup, as runc's default
  // systemd wants a path; runc's from PATH.
  const binary = rt.name === 'tsrun' ? TSRUN : sh('sh', ['-c', 'command -v runc']).stdout.trim();
  notifyUnit(t, id, `${binary} --root ${rt.root} run -b ${env.bundle(config)} ${id}`);
  const start = spawn('systemctl', ['start', id], { stdio: 'ignore' });
  const started = new Promise<number | null>((resolve) => start.on('exit', (code) => resolve(code)));
  await waitFor(() => existsSync(join(shared, 'seen')), { timeoutMs: 60000 });
  await sleep(1000);
  t.equal(start.exitCode, null, `${rt.name}: systemctl start waits for the container's READY`);
  t.equal(prop(id, 'ActiveState'), 'activating', `${rt.name}: the unit is activating`);
  writeFileSync(join(shared, 'go'), '');
  t.equal(await started, 0, `${rt.name}: systemctl start returns once the container is ready`);
  t.equal(prop(id, 'ActiveState'), 'active', `${rt.name}: the unit is active`);
  t.equal(prop(id, 'MainPID'), prop(id, 'ExecMainPID'), `${rt.name}: MAINPID is the run, which systemd started`);
  t.equal(sh('systemctl', ['stop', id]).code, 0, `${rt.name}: systemctl stop`);
  t.equal(prop(id, 'Result'), 'success', `${rt.name}: the run ended with the container's status 0`);
  t.notOk(existsSync(join(rt.root, id)), `${rt.name}: nothing left in --root`);
}

/**
 * podman 4.3 mounts its own notify directory at /run/notify and conmon
 * (--sdnotify-socket) binds the socket there and relays: the runtime only
 * makes the container from that spec (no NOTIFY_SOCKET of its own). `run -d`
 * returns at once, podman sends MAINPID=conmon, conmon READY=1 once the
 * container said it. Returns the messages with the numbers masked.
 */
async function podmanNotify(
  t: Test,
  dir: string,
  runtime: string,
  image: string,
  manager: 'cgroupfs' | 'systemd',
): Promise<string[]> {
  const shared = join(dir, `shared-${runtime.replace(/\W/g, '')}-${manager}`);
  mkdirSync(shared);
  const systemd = new FakeSystemd(join(shared, 'systemd.sock'));
  t.teardown(() => systemd.close());
  const global = ['--root', join(dir, 'pstorage'), '--runroot', join(dir, 'prun'), '--runtime', runtime];
  const podman = (args: string[]) => sh('podman', [...global, '--cgroup-manager', manager, ...args]);
  const name = uniqueId('sdn-podman');
  const volumes = ['-v', `${shared}:/shared`, '-v', `${SD_NOTIFY}:/sd-notify:ro`];
  const args = [...global, '--cgroup-manager', manager, 'run', '-d', '--sdnotify=container', '--network', 'none'];
  const run = spawnNotified(
    'podman',
    [...args, '--name', name, ...volumes, image, 'sh', '-c', SCRIPT],
    systemd.path,
    join(shared, 'podman.out'),
  );
  t.teardown(() => podman(['rm', '--force', '--time', '0', name]));
  t.equal(await run.exited, 0, `${runtime}: podman run -d: ${run.output()}`);
  const seen = join(shared, 'seen');
  await waitFor(() => existsSync(seen) && readFileSync(seen, 'utf8').endsWith('\n'), { timeoutMs: 60000 });
  t.equal(readFileSync(join(shared, 'seen'), 'utf8'), '/run/notify/notify.sock\n', `${runtime}: NOTIFY_SOCKET inside`);
  await sleep(1000);
  const conmon = podman(['inspect', '--format', '{{.State.ConmonPid}}', name]).stdout.trim();
  t.same(systemd.read(), [`MAINPID=${conmon}`], `${runtime}: MAINPID conmon's, no READY=1 before the container's`);
  writeFileSync(join(shared, 'go'), '');
  await waitFor(() => systemd.read().length > 1, { timeoutMs: 30000 }).catch(() => undefined);
  t.same(systemd.read(), [`MAINPID=${conmon}`, 'READY=1'], `${runtime}: the container's READY=1 passed on`);
  t.equal(podman(['rm', '--force', '--time', '0', name]).code, 0, `${runtime}: podman rm`);
  return systemd.got.map((m) => m.replace(/\d+/g, 'N'));
}

if (requireV2Host(t)) {
  t.test('a Type=notify service running `run`: active once the container sent READY=1', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) await serviceRun(t, env, rt);
    env.done();
  });

  t.test('podman run --sdnotify=container (root; cgroupfs, then systemd) with tsrun as its runtime', async (t) => {
    const dir = scratch(t, 'tsrun-vm-sdnotify-');
    const image = 'localhost/busybox:sdnotify';
    const im = sh('podman', [
      '--root',
      join(dir, 'pstorage'),
      '--runroot',
      join(dir, 'prun'),
      'import',
      rootfsTar(dir),
      image,
    ]);
    t.equal(im.code, 0, `podman import: ${im.stderr}`);
    const runc = which('runc');
    // podman's default manager under systemd is systemd: tsrun's --systemd-cgroup (issue 20, item 3).
    for (const manager of ['cgroupfs', 'systemd'] as const) {
      const tsrun = await podmanNotify(t, dir, TSRUN, image, manager);
      if (runc) t.same(tsrun, await podmanNotify(t, dir, runc, image, manager), `${manager}: the same as runc 1.1.5`);
    }
  });
}
