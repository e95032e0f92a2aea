// hack/vm/run.sh's contract (docs/vm.md), from the host: what it says when a
// package is missing, the command's stdout, stderr and status passed through,
// and that nothing is left running or on disk after a failure, a timeout or
// SIGTERM. Each run gets its own TMPDIR, so "nothing left" is checkable.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, cleanEnv } from '../../helpers/harness';
import { isRoot } from '../../helpers/root';
import { skipBecause } from '../../helpers/skip';
import { waitFor } from '../../helpers/wait';

// Six VM boots of ~25 s each on an idle host; more beside other tests.
t.setTimeout(900000);

const RUN = join(REPO, 'hack', 'vm', 'run.sh');
const BUILD = join(REPO, 'hack', 'vm', 'build-image.sh');

/** A PATH holding only these host programs. */
function pathWith(dir: string, programs: string[]): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const p of programs) symlinkSync(`/usr/bin/${p}`, join(bin, p));
  return bin;
}

/** Processes whose command line mentions `text` (qemu's names the run's temporary directory). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function vmRun(t: Pick<Test, 'teardown'>, args: string[], env: Record<string, string> = {}) {
  const tmp = mkdtempSync(join(tmpdir(), 'tsrun-vmtest-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const r = spawnSync(RUN, args, { encoding: 'utf8', env: cleanEnv({ TMPDIR: tmp, ...env }), timeout: 600000 });
  return { ...r, tmp, left: () => ({ files: readdirSync(tmp), procs: processesMentioning(tmp) }) };
}

t.test('missing host packages are named, with how to get them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-vmtest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(RUN, ['--', 'true'], {
    encoding: 'utf8',
    env: { PATH: pathWith(dir, ['dirname', 'cat', 'sha256sum', 'cut']) },
  });
  t.equal(r.status, 1);
  t.match(r.stderr, 'missing packages: qemu-system-x86 qemu-utils (hack/setup.sh installs them)');
  const cache = join(dir, 'cache');
  const b = spawnSync(BUILD, [], {
    encoding: 'utf8',
    env: { PATH: join(dir, 'bin'), TSRUN_VM_CACHE: cache },
  });
  t.equal(b.status, 1);
  t.match(b.stderr, /missing packages: mmdebstrap e2fsprogs \(hack\/setup\.sh installs them\)/);
  t.same(readdirSync(dir), ['bin'], 'nothing made, not even the cache directory');
  const u = spawnSync(RUN, ['true'], { encoding: 'utf8' });
  t.equal(u.status, 2, 'no "--": usage');
  t.match(u.stderr, /usage: hack\/vm\/run\.sh \[--user NAME\] -- CMD/);
});

if (!isRoot) {
  skipBecause(t, 'the VM runs need root: the image is built as root (hack/vm/build-image.sh)');
} else {
  t.test("the command's stdout, stderr and status come back apart", async (t) => {
    const r = vmRun(t, ['--', 'sh', '-c', 'echo out; echo err >&2; cat /sys/fs/cgroup/cgroup.controllers; exit 7']);
    t.equal(r.status, 7, 'the exit status');
    t.match(r.stdout, /^out\n.*\bmemory\b.*\bpids\b/s, 'stdout, from a cgroup v2 host');
    t.equal(r.stderr, 'err\n');
    t.same(r.left(), { files: [], procs: [] }, 'no qemu, no temporary directory');
  });

  t.test('--user: the command runs as that user, in its delegated cgroup', async (t) => {
    const script =
      'id -un; id -u; c=$(sed -n "s/^0:://p" /proc/self/cgroup); echo "$c"; ' +
      'cat "/sys/fs/cgroup${c%/*/*}/cgroup.controllers"; grep "^tester:" /etc/subuid; echo "$XDG_RUNTIME_DIR"';
    const r = vmRun(t, ['--user', 'tester', '--', 'sh', '-c', script]);
    t.equal(r.status, 0, r.stderr);
    const [name, uid, cgroup, controllers, subuid, runtimeDir] = r.stdout.trim().split('\n');
    t.equal(name, 'tester');
    t.not(uid, '0');
    t.match(cgroup, new RegExp(`^/user\\.slice/user-${uid}\\.slice/user@${uid}\\.service/`), 'below user@UID.service');
    t.match(controllers, /\bmemory\b.*\bpids\b/, 'memory and pids delegated');
    t.match(subuid, /^tester:\d+:65536$/, 'subordinate ids');
    t.equal(runtimeDir, `/run/user/${uid}`);
    t.same(r.left(), { files: [], procs: [] });
  });

  t.test('a VM that does not boot fails fast with the console, leaving nothing', async (t) => {
    const start = Date.now();
    const r = vmRun(t, ['--', 'true'], { TSRUN_VM_MEM: '96' });
    t.equal(r.status, 125);
    t.match(r.stderr, /the VM did not boot; the console's last lines/);
    t.match(r.stderr, /Kernel panic/);
    t.ok(Date.now() - start < 60000, `within a minute (${Date.now() - start} ms)`);
    t.same(r.left(), { files: [], procs: [] });
  });

  t.test('a runner killed inside (CMD killing its own cgroup) ends the VM at once: 125', async (t) => {
    const start = Date.now();
    const r = vmRun(t, ['--', 'sh', '-c', 'kill -9 $PPID; sleep 600'], { TSRUN_VM_TIMEOUT: '300' });
    t.equal(r.status, 125);
    t.match(r.stderr, /the VM stopped \(qemu status 0\) without the command's status/);
    t.match(r.stderr, /Failed to start .*tsrun VM test runner/);
    t.ok(Date.now() - start < 200000, `not at the timeout (${Date.now() - start} ms)`);
    t.same(r.left(), { files: [], procs: [] });
  });

  t.test('the timeout stops the VM: 124', async (t) => {
    const r = vmRun(t, ['--', 'sleep', '600'], { TSRUN_VM_TIMEOUT: '5' });
    t.equal(r.status, 124);
    t.match(r.stderr, /timed out after 5 s \(TSRUN_VM_TIMEOUT\)/);
    t.same(r.left(), { files: [], procs: [] });
  });

  t.test('SIGTERM: 143, and qemu is gone', async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'tsrun-vmtest-'));
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
    const child = spawn(RUN, ['--', 'sleep', '600'], { env: cleanEnv({ TMPDIR: tmp }), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const qemuOfRun = () =>
      processesMentioning(join(tmp, 'tsrun-vm.')).filter((p) => commandOf(p)?.startsWith('qemu-system'));
    const qemu = await waitFor(() => qemuOfRun().length > 0, { timeoutMs: 60000 });
    t.ok(qemu, 'qemu started');
    child.kill('SIGTERM');
    t.equal(await exited, 143);
    t.same(processesMentioning(tmp), [], 'no process of the run left');
    t.same(readdirSync(tmp), [], 'no temporary directory left');
  });
}
