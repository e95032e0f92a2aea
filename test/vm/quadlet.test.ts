// Quadlet's Notify=yes on a systemd host (issue 20, items 2 and 3), as root
// and rootless. podman 4.3 (Debian 12) has no Quadlet generator, so the test
// writes the service Quadlet 4.4 generates for a `.container` file with
// `Notify=yes` and `RunInit=no` (pkg/systemd/quadlet: Type=notify,
// NotifyAccess=all, Delegate=yes, KillMode=mixed, `podman run -d --replace
// --rm --cgroups=split --sdnotify=container --read-only --cap-drop=all
// --security-opt=no-new-privileges --log-driver passthrough`), with tsrun in
// place of the `--runtime /usr/bin/crun` Quadlet 4.4 puts there. `systemctl
// start` must wait for the container's own READY=1; stop removes the
// container. runc 1.1.5 beside tsrun. This is also the rootless case of
// `podman run --sdnotify=container` with podman's default (systemd) manager.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, uniqueId } from '../helpers/harness';
import { requireV2Host } from '../helpers/v2';
import { waitFor, sleep } from '../helpers/wait';
import { SD_NOTIFY } from '../helpers/notify';
import { sessionUser, type SessionUser } from '../helpers/vm-user';
import { sh, scratch, rootfsTar, which, type Cmd } from '../clients/client-env';

const TSRUN = join(REPO, 'dist', 'tsrun');
const IMAGE = 'localhost/busybox:quadlet';

/** Says its NOTIFY_SOCKET and /run's mode, waits for /shared/go, says READY=1, then runs until stopped. */
const SCRIPT = [
  'trap "exit 0" TERM',
  'stat -c %a /run > /shared/run-mode',
  'echo "$NOTIFY_SOCKET" > /shared/seen',
  'while [ ! -e /shared/go ]; do sleep 0.05; done',
  '/sd-notify READY=1',
  'while :; do sleep 0.1; done',
].join('; ');

/** Where the service runs: root's systemd, or a user's instance (rootless podman). */
interface Manager {
  label: string;
  /** systemctl with --user for a user. */
  systemctl(args: string[]): Cmd;
  /** `systemctl start`, not waited for. */
  start(unit: string): Promise<number | null>;
  /** The directory for the unit file. */
  unitDir: string;
  podman(args: string[]): Cmd;
  /** The runtime's state root podman passes: nothing of the container may be left there. */
  runtimeRoot: string;
  /** Where the test and the container meet: a directory the manager's podman can use. */
  dir: string;
}

function rootManager(t: Test): Manager {
  const dir = scratch(t, 'tsrun-vm-quadlet-');
  return {
    label: 'root',
    systemctl: (args) => sh('systemctl', args),
    start: (unit) => exited(spawn('systemctl', ['start', unit], { stdio: 'ignore' })),
    unitDir: '/run/systemd/system',
    podman: (args) => sh('podman', args, { timeout: 120000 }),
    runtimeRoot: '/run/tsrun',
    dir,
  };
}

function userManager(user: SessionUser): Manager {
  const unitDir = join(`/home/${user.name}`, '.config', 'systemd', 'user');
  mkdirSync(unitDir, { recursive: true });
  for (const d of ['.config', '.config/systemd', '.config/systemd/user'])
    chownSync(join(`/home/${user.name}`, d), user.uid, user.gid);
  const session = join(REPO, 'hack', 'vm', 'user-session.sh');
  return {
    label: 'rootless',
    systemctl: (args) => user.run('systemctl', ['--user', ...args]),
    start: (unit) =>
      exited(spawn(session, [user.name, 'systemctl', '--user', 'start', unit], { stdio: 'ignore', cwd: user.dir })),
    unitDir,
    podman: (args) => user.run('podman', args, { timeout: 120000 }),
    runtimeRoot: `/run/user/${user.uid}/tsrun`,
    dir: user.dir,
  };
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/** An ExecStart word, as Quadlet writes one: systemd's specifiers (%) and variables ($) escaped, quoted. */
function unitWord(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s;"'\\]/.test(arg) ? `'${escaped}'` : escaped;
}

/** The [Service] Quadlet 4.4 generates for a .container with Notify=yes, RunInit=no, Volume= and Exec=. */
function quadletService(runtime: string, volumes: string[], exec: string[]): string {
  const podmanRun = [
    '/usr/bin/podman run --name=systemd-%N --cidfile=%t/%N.cid --replace --rm -d',
    `--log-driver passthrough --pull=never --runtime ${runtime} --cgroups=split --sdnotify=container`,
    '--security-opt=no-new-privileges --cap-drop=all --read-only',
    ...volumes.map((v) => `-v ${v}`),
    IMAGE,
    ...exec.map(unitWord),
  ].join(' ');
  return [
    '[Unit]',
    'RequiresMountsFor=%t/containers',
    '[Service]',
    'Environment=PODMAN_SYSTEMD_UNIT=%n',
    'KillMode=mixed',
    'ExecStartPre=-rm -f %t/%N.cid',
    'ExecStopPost=-/usr/bin/podman rm -f -i --cidfile=%t/%N.cid',
    'ExecStopPost=-rm -f %t/%N.cid',
    'Delegate=yes',
    'Type=notify',
    'NotifyAccess=all',
    'SyslogIdentifier=%N',
    `ExecStart=${podmanRun}`,
    'TimeoutStartSec=150',
    '',
  ].join('\n');
}

/** One Quadlet-style service with `runtime`: systemd waits for the container's READY=1; stop leaves nothing. */
async function quadlet(t: Test, m: Manager, runtime: string, name: string): Promise<void> {
  const what = `${m.label} ${runtime === TSRUN ? 'tsrun' : 'runc'}`;
  const shared = join(m.dir, name);
  mkdirSync(shared);
  chownSync(shared, ...ownerOf(m.dir));
  const unitFile = join(m.unitDir, `${name}.service`);
  writeFileSync(
    unitFile,
    quadletService(runtime, [`${shared}:/shared`, `${SD_NOTIFY}:/sd-notify:ro`], ['sh', '-c', SCRIPT]),
  );
  t.teardown(() => {
    m.systemctl(['stop', name]);
    rmSync(unitFile, { force: true });
    m.systemctl(['daemon-reload']);
    m.systemctl(['reset-failed', name]);
  });
  m.systemctl(['daemon-reload']);
  const prop = (p: string) => m.systemctl(['show', '-p', p, '--value', name]).stdout.trim();

  const started = m.start(name);
  await waitFor(() => existsSync(join(shared, 'seen')) || prop('ActiveState') === 'failed', { timeoutMs: 120000 });
  if (!t.ok(existsSync(join(shared, 'seen')), `${what}: the container runs`))
    return void t.comment(m.systemctl(['status', '--no-pager', name]).stdout);
  t.equal(readFileSync(join(shared, 'seen'), 'utf8'), '/run/notify/notify.sock\n', `${what}: NOTIFY_SOCKET inside`);
  t.equal(readFileSync(join(shared, 'run-mode'), 'utf8'), '1777\n', `${what}: --read-only's /run, tmpfs's 1777`);
  await sleep(1000);
  t.equal(prop('ActiveState'), 'activating', `${what}: activating until the container's READY=1`);
  writeFileSync(join(shared, 'go'), '');
  t.equal(await started, 0, `${what}: systemctl start returns once the container is ready`);
  t.equal(prop('ActiveState'), 'active', `${what}: the unit is active`);
  const id = m.podman(['inspect', '--format', '{{.Id}}', `systemd-${name}`]).stdout.trim();
  const conmon = m.podman(['inspect', '--format', '{{.State.ConmonPid}}', id]).stdout.trim();
  const pid = m.podman(['inspect', '--format', '{{.State.Pid}}', id]).stdout.trim();
  t.equal(prop('MainPID'), conmon, `${what}: MAINPID is conmon's`);
  // --cgroups=split: conmon stays in the service's cgroup, the container gets one below it.
  const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().replace(/^0::/, '');
  t.equal(cgroup, `${prop('ControlGroup')}/libpod-payload-${id}`, `${what}: the container below the service`);
  t.equal(m.systemctl(['stop', name]).code, 0, `${what}: systemctl stop`);
  t.not(prop('ActiveState'), 'active', `${what}: stopped`);
  t.not(m.podman(['container', 'exists', id]).code, 0, `${what}: the container is gone (--rm)`);
  if (runtime === TSRUN) {
    t.ok(existsSync(m.runtimeRoot), `${what}: podman's state root for tsrun, ${m.runtimeRoot}`);
    t.notOk(existsSync(m.runtimeRoot) && readdirSync(m.runtimeRoot).includes(id), `${what}: no state left there`);
  }
}

function ownerOf(dir: string): [number, number] {
  const s = statSync(dir);
  return [s.uid, s.gid];
}

async function bothRuntimes(t: Test, m: Manager): Promise<void> {
  const tar = rootfsTar(m.dir);
  chownSync(tar, ...ownerOf(m.dir));
  const im = m.podman(['import', tar, IMAGE]);
  t.equal(im.code, 0, `${m.label}: podman import: ${im.stderr}`);
  await quadlet(t, m, TSRUN, uniqueId('qt'));
  const runc = which('runc');
  if (runc) await quadlet(t, m, runc, uniqueId('qr'));
}

if (requireV2Host(t)) {
  t.test('the service Quadlet generates for Notify=yes, as root', async (t) => {
    await bothRuntimes(t, rootManager(t));
  });

  t.test('the service Quadlet generates for Notify=yes, in a user instance (rootless podman)', async (t) => {
    await bothRuntimes(t, userManager(sessionUser(t, 'tsrun-ql')));
  });
}
