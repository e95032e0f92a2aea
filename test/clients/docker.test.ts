// dockerd 20.10 with `--add-runtime tsrun=bin/tsrun` and `docker run
// --runtime tsrun`: dockerd → containerd → runc shim → tsrun. A private
// containerd and dockerd run for the duration of this file only.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, TSRUN } from '../helpers/harness';
import { DAEMONS, missing, which, sh, scratch, rootfsTar, cgroupParent, cgroupsLeft } from './client-env';
import { drive, SHELL_SESSION, SHELL_SESSION_SIZE, checkShellSession } from '../helpers/pty';

const NEEDED = ['dockerd', 'containerd', 'containerd-shim-runc-v2'];
const IMAGE = 'localhost/busybox:tsrun';

// The docker.io package's client matches its daemon; another docker in PATH may be newer.
const DOCKER = which('/usr/bin/docker', 'docker');

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (missing(NEEDED).length > 0 || !DOCKER) {
  t.plan(
    0,
    `needs ${[...missing(NEEDED), ...(DOCKER ? [] : ['docker'])].join(', ')} (Debian: apt-get install docker.io containerd; hack/setup.sh installs them)`,
  );
} else {
  const dir = scratch(t, 'tsrun-dkr-');
  const cgParent = cgroupParent(t, 'tsrun-docker');
  execFileSync(DAEMONS, ['start-containerd', dir]);
  t.teardown(() => {
    execFileSync(DAEMONS, ['stop', dir]);
  });
  execFileSync(DAEMONS, ['start-dockerd', dir, TSRUN]);
  const docker = (args: string[], opts: { input?: string; timeout?: number } = {}) =>
    sh(DOCKER, ['-H', `unix://${join(dir, 'docker.sock')}`, ...args], opts);
  const runFlags = ['--runtime', 'tsrun', '--network', 'none', '--cgroup-parent', cgParent];
  // dockerd gives every runtime the shim's root under its exec-root (20.10: runtime-runc/moby).
  const tsrunRoot = join(dir, 'docker', 'exec', 'runtime-runc', 'moby');

  t.test('docker import', async (t) => {
    const r = sh('sh', [
      '-c',
      `"$0" -H "unix://$1" import - ${IMAGE} < "$2"`,
      DOCKER,
      join(dir, 'docker.sock'),
      rootfsTar(dir),
    ]);
    t.equal(r.code, 0, `docker import: ${r.stderr}`);
  });

  t.test('docker run: output and exit status', async (t) => {
    const hi = docker(['run', '--rm', ...runFlags, IMAGE, 'echo', 'hi']);
    t.equal(hi.code, 0, `docker run --runtime tsrun: ${hi.stderr}`);
    t.equal(hi.stdout, 'hi\n');
    const fail = docker(['run', '--rm', ...runFlags, IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 42']);
    t.equal(fail.code, 42, "the container's exit status is docker's");
    t.equal(fail.stdout, 'out\n');
    t.match(fail.stderr, /err/);
    const stdin = docker(['run', '--rm', '-i', ...runFlags, IMAGE, 'sh', '-c', 'read l; echo "got:$l"'], {
      input: 'line\n',
    });
    t.equal(stdin.stdout, 'got:line\n', 'docker run -i feeds stdin');
  });

  t.test('docker run -d, inspect, stop, logs, rm', async (t) => {
    const run = docker([
      'run',
      '-d',
      ...runFlags,
      IMAGE,
      'sh',
      '-c',
      'echo up; trap "echo term; exit 0" TERM; while :; do sleep 0.05; done',
    ]);
    t.equal(run.code, 0, `docker run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    t.equal(docker(['inspect', '-f', '{{.State.Status}}', id]).stdout.trim(), 'running');
    const st = sh(TSRUN, ['--root', tsrunRoot, 'state', id]);
    t.equal(st.code, 0, `tsrun state in dockerd's runtime root: ${st.stderr}`);
    t.equal((JSON.parse(st.stdout || '{}') as { status?: string }).status, 'running');
    t.ok(cgroupsLeft(cgParent, id).length > 0, 'the container has its cgroup below --cgroup-parent');

    const exec = docker(['exec', id, 'echo', 'in-exec']);
    t.equal(exec.code, 0, `docker exec: ${exec.stderr}`);
    t.equal(exec.stdout, 'in-exec\n', 'docker exec: output');
    t.equal(docker(['exec', id, 'sh', '-c', 'exit 7']).code, 7, "docker exec: the process's exit status");
    const opts = docker([
      'exec',
      '--user',
      '1000:1001',
      '--env',
      'FOO=bar',
      '--workdir',
      '/bin',
      id,
      'sh',
      '-c',
      'echo "$(id -u):$(id -g) $FOO $(pwd)"',
    ]);
    t.equal(opts.stdout, '1000:1001 bar /bin\n', `docker exec --user --env --workdir: ${opts.stderr}`);

    const started = Date.now();
    const stop = docker(['stop', '-t', '10', id]);
    t.equal(stop.code, 0, `docker stop: ${stop.stderr}`);
    t.ok(Date.now() - started < 8000, 'SIGTERM reached the program (no 10 s grace-period SIGKILL)');
    t.equal(docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout.trim(), 'exited 0');
    t.equal(docker(['logs', id]).stdout, 'up\nterm\n', 'docker logs has the output');
    t.equal(docker(['rm', id]).code, 0, 'docker rm');
    t.same(cgroupsLeft(cgParent, id), [], "the container's cgroup is gone");
  });

  t.test('docker run -it: a terminal through the console socket', async (t) => {
    const r = drive(
      [DOCKER, '-H', `unix://${join(dir, 'docker.sock')}`, 'run', '-it', '--rm', ...runFlags, IMAGE, 'sh'],
      SHELL_SESSION,
      SHELL_SESSION_SIZE,
    );
    checkShellSession(t, r, 'docker');
  });

  t.test('docker exec -it: a terminal through the console socket', async (t) => {
    const run = docker(['run', '-d', ...runFlags, IMAGE, 'sleep', '300']);
    t.equal(run.code, 0, `docker run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    const r = drive(
      [DOCKER, '-H', `unix://${join(dir, 'docker.sock')}`, 'exec', '-it', id, 'sh'],
      SHELL_SESSION,
      SHELL_SESSION_SIZE,
    );
    checkShellSession(t, r, 'docker exec');
    t.equal(docker(['rm', '-f', id]).code, 0);
  });

  t.test('nothing left behind', async (t) => {
    t.equal(docker(['ps', '-aq']).stdout.trim(), '', 'docker has no container');
    t.same(existsSync(tsrunRoot) ? readdirSync(tsrunRoot) : [], [], "no state left in dockerd's tsrun root");
  });
}
