// Rootless podman 4.3 with `--runtime tsrun`: an unprivileged user with its own
// storage (vfs), run root and subordinate ids. podman makes the user
// namespace itself (newuidmap) and calls tsrun inside it as its root, so this
// is tsrun rootless "as root in a user namespace", the way podman users run it.
import t from 'tap';
import { chownSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { isRoot, ROOT_REASON } from '../helpers/harness';
import { makeRootlessUser } from '../helpers/rootless-user';
import { missing, rootfsTar } from './client-env';
import { drive, SHELL_SESSION, SHELL_SESSION_SIZE, checkShellSession } from '../helpers/pty';

const NEEDED = ['podman', 'conmon', 'newuidmap', 'newgidmap', 'setpriv', 'useradd'];
const IMAGE = 'localhost/busybox:rootless';

if (!isRoot) {
  t.plan(0, `${ROOT_REASON} (it makes a throw-away user)`);
} else if (missing(NEEDED).length > 0) {
  t.plan(
    0,
    `needs ${missing(NEEDED).join(', ')} (Debian: podman conmon uidmap util-linux passwd; hack/setup.sh installs them)`,
  );
} else {
  const user = makeRootlessUser();
  // podman leaves a pause process holding its user namespace: the user's processes go first.
  t.teardown(() => {
    spawnSync('pkill', ['-KILL', '-u', String(user.uid)]);
    user.remove();
  });
  const global = [
    '--root',
    join(user.dir, 'storage'),
    '--runroot',
    join(user.runtimeDir, 'run'),
    '--storage-driver',
    'vfs',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'file',
    '--runtime',
    user.tsrun,
  ];
  const podman = (args: string[]) => user.run('podman', [...global, ...args], { timeout: 120000 });
  const runFlags = ['--network', 'none', '--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

  t.test('podman import as the user', async (t) => {
    const tar = rootfsTar(user.dir);
    chownSync(tar, user.uid, user.gid);
    const r = podman(['import', tar, IMAGE]);
    t.equal(r.code, 0, `podman import: ${r.stderr}`);
  });

  t.test('podman run: output, exit status, root of the user namespace', async (t) => {
    const r = podman([
      'run',
      '--rm',
      ...runFlags,
      IMAGE,
      'sh',
      '-c',
      'echo hi from rootless podman; id -u; cat /proc/self/uid_map; exit 7',
    ]);
    t.equal(r.code, 7, `the container's exit status: ${r.stderr}`);
    t.match(r.stdout, /^hi from rootless podman\n0\n/, 'uid 0 inside');
    t.match(
      r.stdout,
      new RegExp(`^\\s*0\\s+${user.uid}\\s+1$`, 'm'),
      "container root is the user's own uid on the host",
    );
  });

  t.test('podman run -it as the user: a terminal through conmon', async (t) => {
    const r = drive(
      user.argv('podman', [...global, 'run', '-it', '--rm', ...runFlags, IMAGE, 'sh']),
      SHELL_SESSION,
      SHELL_SESSION_SIZE,
    );
    checkShellSession(t, r, 'rootless podman');
  });

  t.test('podman run -d, exec, stop, logs, rm', async (t) => {
    const run = podman([
      'run',
      '-d',
      ...runFlags,
      IMAGE,
      'sh',
      '-c',
      'echo up; trap "echo term; exit 0" TERM; while :; do sleep 0.05; done',
    ]);
    t.equal(run.code, 0, `podman run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    t.equal(podman(['inspect', '-f', '{{.State.Status}}', id]).stdout.trim(), 'running');
    const ex = podman(['exec', id, 'sh', '-c', 'echo in-exec; exit 3']);
    t.equal(ex.code, 3, `podman exec: the process's status: ${ex.stderr}`);
    t.equal(ex.stdout, 'in-exec\n');
    t.equal(podman(['stop', '-t', '10', id]).code, 0, 'stop');
    t.equal(podman(['logs', id]).stdout, 'up\nterm\n', 'SIGTERM reached the trap');
    t.equal(podman(['rm', id]).code, 0, 'rm');
    t.equal(podman(['ps', '-a', '-q']).stdout, '', 'no container left');
    const inits = spawnSync('pgrep', ['-u', String(user.uid), '-f', 'tsrun init'], { encoding: 'utf8' });
    t.equal(inits.stdout, '', 'no tsrun init of the user left');
  });
}
