// podman 4.3 with `--runtime bin/tsrun`: podman → conmon → tsrun, with
// podman's storage, run root and tmpdir in a private scratch dir.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, TSRUN } from '../helpers/harness';
import { missing, sh, scratch, rootfsTar, cgroupParent, cgroupsLeft } from './client-env';
import { drive, SHELL_SESSION, SHELL_SESSION_SIZE, checkShellSession } from '../helpers/pty';

const NEEDED = ['podman', 'conmon'];
const IMAGE = 'localhost/busybox:tsrun';
// podman does not pass --root: tsrun's default state dir is used.
const TSRUN_DEFAULT_ROOT = '/run/tsrun';

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (missing(NEEDED).length > 0) {
  t.plan(0, `needs ${missing(NEEDED).join(', ')} (Debian: apt-get install podman conmon; hack/setup.sh installs them)`);
} else {
  const dir = scratch(t, 'tsrun-pdm-');
  const cgParent = cgroupParent(t, 'tsrun-podman');
  const global = [
    '--root',
    join(dir, 'storage'),
    '--runroot',
    join(dir, 'run'),
    '--tmpdir',
    join(dir, 'tmp'),
    '--storage-driver',
    'vfs',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'file',
    '--runtime',
    TSRUN,
  ];
  const podman = (args: string[], opts: { input?: string; timeout?: number } = {}) =>
    sh('podman', [...global, ...args], opts);
  // The host's hard nofile limit is below podman's default of 1048576 (runc fails the same way).
  const runFlags = [
    '--network',
    'none',
    '--ulimit',
    'nofile=4096:4096',
    '--ulimit',
    'nproc=4096:4096',
    '--cgroup-parent',
    cgParent,
  ];
  t.teardown(() => {
    podman(['rm', '--all', '--force', '--time', '0']);
  });

  t.test('podman import', async (t) => {
    const r = podman(['import', rootfsTar(dir), IMAGE]);
    t.equal(r.code, 0, `podman import: ${r.stderr}`);
  });

  t.test('podman run: output and exit status', async (t) => {
    const r = podman(['run', '--rm', ...runFlags, IMAGE, 'sh', '-c', 'echo hi from podman; echo err >&2; exit 6']);
    t.equal(r.code, 6, `the container's exit status is podman's: ${r.stderr}`);
    t.equal(r.stdout, 'hi from podman\n');
    t.match(r.stderr, /err/);
    const lim = podman(['run', '--rm', ...runFlags, IMAGE, 'sh', '-c', 'ulimit -n; ulimit -Hn']);
    t.equal(lim.stdout, '4096\n4096\n', '--ulimit reached the container');
    const stdin = podman(['run', '--rm', '-i', ...runFlags, IMAGE, 'sh', '-c', 'read l; echo "got:$l"'], {
      input: 'line\n',
    });
    t.equal(stdin.stdout, 'got:line\n', 'podman run -i feeds stdin');
  });

  t.test('podman run -d, inspect, stop, logs, rm', async (t) => {
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
    const st = sh(TSRUN, ['--root', TSRUN_DEFAULT_ROOT, 'state', id]);
    t.equal(st.code, 0, `tsrun state in its default root: ${st.stderr}`);
    t.equal((JSON.parse(st.stdout || '{}') as { status?: string }).status, 'running');
    t.ok(cgroupsLeft(cgParent, `libpod-${id}`).length > 0, 'the container has its cgroup below --cgroup-parent');

    const ex = podman(['exec', '--env', 'X=1', id, 'sh', '-c', 'echo "in-exec $X"; exit 3']);
    t.equal(ex.code, 3, `podman exec: the process's exit status: ${ex.stderr}`);
    t.equal(ex.stdout, 'in-exec 1\n', 'podman exec: output and --env');

    const started = Date.now();
    const stop = podman(['stop', '-t', '10', id]);
    t.equal(stop.code, 0, `podman stop: ${stop.stderr}`);
    t.ok(Date.now() - started < 8000, 'SIGTERM reached the program (no grace-period SIGKILL)');
    t.equal(podman(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout.trim(), 'exited 0');
    t.equal(podman(['logs', id]).stdout, 'up\nterm\n', 'podman logs has the output');
    t.equal(podman(['rm', id]).code, 0, 'podman rm');
    t.notOk(existsSync(join(TSRUN_DEFAULT_ROOT, id)), 'no tsrun state left');
    t.same(cgroupsLeft(cgParent, `libpod-${id}`), [], "the container's cgroup is gone");
  });

  t.test('podman run -it: a terminal through conmon', async (t) => {
    const r = drive(
      ['podman', ...global, 'run', '-it', '--rm', ...runFlags, IMAGE, 'sh'],
      SHELL_SESSION,
      SHELL_SESSION_SIZE,
    );
    checkShellSession(t, r, 'podman');
  });

  t.test('nothing left behind', async (t) => {
    t.equal(podman(['ps', '-aq']).stdout.trim(), '', 'podman has no container');
  });
}
