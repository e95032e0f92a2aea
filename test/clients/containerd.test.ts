// containerd 1.6 drives tsrun through its runc shim (containerd-shim-runc-v2)
// exactly as it drives runc: `ctr run --runc-binary bin/tsrun`. A private
// containerd runs for the duration of this file only.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, TSRUN } from '../helpers/harness';
import { DAEMONS, missing, sh, scratch, ociImageTar, cgroupParent, cgroupsLeft } from './client-env';
import { drive, SHELL_SESSION, SHELL_SESSION_SIZE, checkShellSession } from '../helpers/pty';
import { waitForSync } from '../helpers/wait';

const NEEDED = ['containerd', 'ctr', 'containerd-shim-runc-v2', 'umoci'];
const IMAGE = 'localhost/busybox:latest';

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (missing(NEEDED).length > 0) {
  t.plan(
    0,
    `needs ${missing(NEEDED).join(', ')} (Debian: apt-get install containerd umoci; hack/setup.sh installs them)`,
  );
} else {
  const dir = scratch(t, 'tsrun-ctd-');
  const cgParent = cgroupParent(t, 'tsrun-ctr');
  execFileSync(DAEMONS, ['start-containerd', dir]);
  t.teardown(() => {
    execFileSync(DAEMONS, ['stop', dir]);
  });
  // The shim runs `tsrun --root <runc-root>/<namespace>`.
  const runcRoot = join(dir, 'tsrun-root');
  const tsrunRoot = join(runcRoot, 'default');
  const ctr = (args: string[], opts: { timeout?: number } = {}) =>
    sh('ctr', ['-a', join(dir, 'containerd.sock'), ...args], opts);
  const runFlags = (id: string) => ['--runc-binary', TSRUN, '--runc-root', runcRoot, '--cgroup', `${cgParent}/${id}`];

  t.test('image import', async (t) => {
    const r = ctr(['image', 'import', '--base-name', 'localhost/busybox', ociImageTar(dir)]);
    t.equal(r.code, 0, `ctr image import: ${r.stderr}`);
  });

  t.test('ctr run: output and exit status', async (t) => {
    const r = ctr([
      'run',
      '--rm',
      ...runFlags('out'),
      IMAGE,
      'out',
      'sh',
      '-c',
      'echo hello from tsrun; echo to-stderr >&2; exit 4',
    ]);
    t.equal(r.code, 4, `the container's exit status is ctr's: ${r.stderr}`);
    t.equal(r.stdout, 'hello from tsrun\n', 'stdout through the shim');
    t.match(r.stderr, /to-stderr/, 'stderr through the shim');
    t.same(cgroupsLeft(cgParent, 'out'), [], "the container's cgroup is gone");
  });

  t.test('ctr run -d, state, task kill, task delete', async (t) => {
    const id = 'detached';
    const r = ctr([
      'run',
      '-d',
      ...runFlags(id),
      IMAGE,
      id,
      'sh',
      '-c',
      'trap "exit 9" TERM; while :; do sleep 0.05; done',
    ]);
    t.equal(r.code, 0, `ctr run -d: ${r.stderr}`);
    const tasks = ctr(['task', 'ls']).stdout;
    const m = new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, 'm').exec(tasks);
    t.ok(m, `task listed as RUNNING: ${tasks}`);
    const st = sh(TSRUN, ['--root', tsrunRoot, 'state', id]);
    t.equal(st.code, 0, `tsrun state in the shim's root: ${st.stderr}`);
    const state = JSON.parse(st.stdout || '{}') as Record<string, unknown>;
    t.equal(state.status, 'running');
    t.equal(String(state.pid), m?.[1], 'containerd and tsrun agree on the pid');
    t.ok(cgroupsLeft(cgParent, id).length > 0, 'the container has its cgroup below the given parent');

    const ex = ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo in-exec; exit 5']);
    t.equal(ex.code, 5, `ctr task exec: the process's exit status: ${ex.stderr}`);
    t.equal(ex.stdout, 'in-exec\n', 'ctr task exec: output through the shim');
    const exT = drive(
      ['ctr', '-a', join(dir, 'containerd.sock'), 'task', 'exec', '-t', '--exec-id', 'e2', id, 'sh'],
      SHELL_SESSION,
      SHELL_SESSION_SIZE,
    );
    checkShellSession(t, exT, 'ctr task exec -t');

    t.equal(ctr(['task', 'kill', id]).code, 0, 'ctr task kill (SIGTERM)');
    const listed = waitForSync(() => ctr(['task', 'ls']).stdout, { intervalMs: 50, done: (ls) => /STOPPED/.test(ls) });
    t.match(listed, new RegExp(`^${id}\\s+\\d+\\s+STOPPED`, 'm'), 'the trap ran and the task stopped');
    const del = ctr(['task', 'delete', id]);
    t.equal(del.code, 0, 'ctr task delete');
    t.match(del.stderr, /exit code 9/, 'containerd got the exit status');
    t.equal(ctr(['container', 'delete', id]).code, 0, 'ctr container delete');
    t.same(cgroupsLeft(cgParent, id), [], "the container's cgroup is gone");
  });

  t.test('ctr run -t: a terminal through the console socket', async (t) => {
    const r = drive(
      ['ctr', '-a', join(dir, 'containerd.sock'), 'run', '-t', '--rm', ...runFlags('tty'), IMAGE, 'tty', 'sh'],
      SHELL_SESSION,
      SHELL_SESSION_SIZE,
    );
    checkShellSession(t, r, 'ctr');
    t.match(r.output, /\/dev\/pts\/0\r*\n/, 'stdio is a pty of the container');
    t.equal(r.termiosRestored, true, "ctr restored the caller's terminal");
  });

  // The shim reads the last error line of tsrun's --log (JSON) to say why
  // create failed; without it, containerd says only "unknown".
  t.test('a failing create: ctr shows the message tsrun logged', async (t) => {
    // Raised before tsrun parsed its flags: --log must get it all the same.
    const wrapper = join(dir, 'tsrun-bad-create');
    writeFileSync(
      wrapper,
      `#!/bin/sh\ncase " $* " in *" create "*) exec ${TSRUN} --no-such-global-flag "$@";; esac\nexec ${TSRUN} "$@"\n`,
      { mode: 0o755 },
    );
    const cases: [string, string[], string[], RegExp][] = [
      [
        'a netns path that does not exist',
        ['--with-ns', 'network:/nonexistent/netns'],
        ['true'],
        /OCI runtime create failed: [^\n]*\/linux\/namespaces\/\d+\/path: [^\n]*\/nonexistent\/netns[^\n]*: unknown/,
      ],
      [
        'an error in the container init',
        [],
        ['/no/such/program'],
        /OCI runtime create failed: exec: "\/no\/such\/program": stat \/no\/such\/program: no such file or directory: unknown/,
      ],
      [
        'an unknown flag',
        ['--runc-binary', wrapper],
        ['true'],
        /OCI runtime create failed: Unknown arguments?: no-such-global-flag[^\n]*: unknown/,
      ],
    ];
    for (const [what, flags, args, pattern] of cases) {
      const id = `fails-${cases.findIndex((c) => c[0] === what)}`;
      const r = ctr(['run', '--rm', ...runFlags(id), ...flags, IMAGE, id, ...args]);
      t.not(r.code, 0, `${what}: ctr run fails`);
      t.match(r.stderr, pattern, `${what}: tsrun's own message reaches ctr`);
      t.same(cgroupsLeft(cgParent, id), [], `${what}: no cgroup left`);
    }
  });

  t.test('nothing left behind', async (t) => {
    t.same(ctr(['container', 'ls', '-q']).stdout.trim(), '', 'containerd has no container');
    t.same(existsSync(tsrunRoot) ? readdirSync(tsrunRoot) : [], [], "no state left in the shim's tsrun root");
  });
}
