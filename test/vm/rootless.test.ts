// Rootless on a systemd + cgroup v2 host (issue 19, item 4): a non-root user
// with a systemd user session (user@UID.service, whose cgroup systemd
// delegates to the user: cpu memory pids) runs `tsrun --rootless true` on a
// `tsrun spec --rootless` bundle with memory and pids limits, which the
// kernel enforces, and updates them; runc 1.1.5 does the same on the same
// bundle in the same session; with --systemd-cgroup in a scope of the user's
// systemd instance (issue 20). Then rootless podman drives tsrun, with its
// defaults (the systemd manager) and with the cgroupfs manager.
import t from 'tap';
import { chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO } from '../helpers/harness';
import { hasRunc } from '../helpers/runc';
import { cgroupDir, cgroupFile, cgroupOf, requireV2Host } from '../helpers/v2';
import { rootlessBundle, sessionUser, type SessionUser } from '../helpers/vm-user';
import { rootfsTar } from '../clients/client-env';

const TSRUN = join(REPO, 'dist', 'tsrun');
const MEMORY = 128 << 20;
const PIDS = 20;
const IMAGE = 'localhost/busybox:rootless';

/** A `tsrun spec --rootless` bundle with the test's limits. */
function limitedBundle(user: SessionUser, args: string[], name = 'bundle'): string {
  return rootlessBundle(user, name, args, (c) => {
    c.linux!.resources = { memory: { limit: MEMORY }, pids: { limit: PIDS } };
  });
}

/** tsrun, and runc beside it when installed, each run as the user with --rootless true. */
function rootlessRuntimes(user: SessionUser) {
  return (hasRunc ? [['tsrun', TSRUN] as const, ['runc', 'runc'] as const] : [['tsrun', TSRUN] as const]).map(
    ([name, bin]) => ({
      name,
      rt: (args: string[], output?: string) => user.run(bin, ['--rootless', 'true', ...args], { output }),
    }),
  );
}

/** `key N` of a flat-keyed cgroup file (pids.events, memory.events). */
function keyed(cg: string, file: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(cgroupFile(cg, file));
  return m ? Number(m[1]) : NaN;
}

if (requireV2Host(t)) {
  const user = sessionUser(t, 'tsrun-rl');
  const own = user.run('cat', ['/proc/self/cgroup']).stdout.trim().replace(/^0::/, '');
  const appSlice = dirname(own);

  t.test('the user session: a transient service below the delegated user@UID.service', async (t) => {
    t.match(own, new RegExp(`^${user.manager.replace(/\./g, '\\.')}/app\\.slice/run-[^/]+\\.service$`), own);
    t.equal(statSync(cgroupDir(user.manager)).uid, user.uid, 'the user owns user@UID.service (delegated)');
    t.equal(statSync(cgroupDir(appSlice)).uid, user.uid, 'and app.slice, where its containers go');
    t.match(cgroupFile(user.manager, 'cgroup.controllers'), /\bmemory\b.*\bpids\b/, 'memory and pids delegated');
  });

  t.test('tsrun --rootless true run: limits enforced and updated, as runc', async (t) => {
    const bundle = limitedBundle(user, ['sleep', '600']);
    const forkBundle = limitedBundle(
      user,
      [
        'sh',
        '-c',
        // The loop in a shell of its own (ash exits at a failed fork); after it only builtins: no fork is left.
        'read -r c </proc/self/cgroup; d=/sys/fs/cgroup${c#0::}; ' +
          `sh -c 'for i in $(seq ${4 * PIDS}); do sleep 30 & done'; ` +
          'while read -r l; do echo "$l"; done <$d/pids.events; read -r n <$d/pids.current; echo current $n',
      ],
      'forks',
    );
    for (const { name, rt } of rootlessRuntimes(user)) {
      const id = `rl-${name}`;
      const out = join(user.dir, `${id}.out`);
      const r = rt(['run', '-d', '--bundle', bundle, id], out);
      t.equal(r.code, 0, `${name} run -d: ${r.stderr}`);
      t.notMatch(r.stderr, /warn/, `${name}: no warning (the cgroup is writable)`);
      const st = rt(['state', id]);
      const pid = JSON.parse(st.stdout).pid as number;
      if (!t.ok(pid > 0, `${name}: running`)) t.comment(st.stdout, st.stderr, readFileSync(out, 'utf8'));
      const cg = `${appSlice}/${id}`;
      t.equal(cgroupOf(pid), cg, `${name}: the init is in ${cg} (the parent of the caller's cgroup, as runc)`);
      t.equal(cgroupFile(cg, 'memory.max'), String(MEMORY), `${name}: memory.max`);
      t.equal(cgroupFile(cg, 'pids.max'), String(PIDS), `${name}: pids.max`);

      const alive = (what: string) => {
        const now = JSON.parse(rt(['state', id]).stdout || '{}') as { status?: string };
        if (!t.equal(now.status, 'running', `${name}: still running after ${what}`))
          t.comment(cgroupFile(cg, 'memory.events'), cgroupFile(cg, 'pids.events'));
      };
      const mnt = rt(['exec', id, 'grep', ' /sys/fs/cgroup ', '/proc/self/mountinfo']);
      t.match(
        mnt.stdout,
        /^\S+ \S+ \S+ \/ \/sys\/fs\/cgroup ro,.* - cgroup2 /m,
        `${name}: the host's cgroup2, read-only`,
      );
      const up = rt(['update', '--memory', String(2 * MEMORY), '--pids-limit', String(2 * PIDS), id]);
      t.equal(up.code, 0, `${name} update: ${up.stderr}`);
      t.equal(cgroupFile(cg, 'memory.max'), String(2 * MEMORY), `${name} update: memory.max`);
      t.equal(cgroupFile(cg, 'pids.max'), String(2 * PIDS), `${name} update: pids.max`);
      const hog = rt(['exec', id, 'tail', '-n', '1', '/dev/zero']);
      t.equal(hog.code, 137, `${name}: a memory hog is killed (SIGKILL): ${hog.stderr}`);
      t.ok(keyed(cg, 'memory.events', 'oom_kill') > 0, `${name}: memory.events counts the OOM kill`);
      alive('the OOM kill');

      t.equal(rt(['delete', '--force', id]).code, 0, `${name} delete --force`);
      t.notOk(existsSync(cgroupDir(cg)), `${name}: the cgroup is gone`);

      // A fork loop in a container of its own (its cgroup read from inside: it is gone once run returns).
      const loop = rt(['run', '--bundle', forkBundle, `${id}-forks`], join(user.dir, `${id}-forks.out`));
      const said = readFileSync(join(user.dir, `${id}-forks.out`), 'utf8');
      t.equal(loop.code, 0, `${name}: the fork loop ran: ${said}`);
      t.match(said, /can't fork/, `${name}: forks beyond pids.max are refused`);
      // Not anchored at the line start: the loop shell's "can't fork" lines (stderr, the same file) can run into
      // them (seen with runc: "sh: max 1").
      t.match(said, /\bmax [1-9]\d*$/m, `${name}: pids.events counts the refusals`);
      t.match(said, /\bcurrent ([1-9]|1\d|20)$/m, `${name}: pids.current stays within pids.max`);
    }
  });

  t.test("--rootless true --systemd-cgroup: a scope of the user's systemd instance, as runc", async (t) => {
    const bundle = limitedBundle(user, ['sleep', '600'], 'sd-bundle');
    for (const { name, rt } of rootlessRuntimes(user)) {
      const id = `rlsd-${name}`;
      const r = rt(['--systemd-cgroup', 'run', '-d', '--bundle', bundle, id], join(user.dir, `${id}.out`));
      t.equal(r.code, 0, `${name} --systemd-cgroup run -d: ${r.stderr}`);
      const pid = JSON.parse(rt(['state', id]).stdout || '{}').pid as number;
      const scope = `${user.manager}/user.slice/runc-${id}.scope`;
      t.equal(cgroupOf(pid), scope, `${name}: in ${scope}`);
      t.equal(cgroupFile(scope, 'memory.max'), String(MEMORY), `${name}: memory.max`);
      t.equal(cgroupFile(scope, 'pids.max'), String(PIDS), `${name}: pids.max`);
      const up = rt(['update', '--memory', String(2 * MEMORY), id]);
      t.equal(up.code, 0, `${name} update: ${up.stderr}`);
      t.equal(cgroupFile(scope, 'memory.max'), String(2 * MEMORY), `${name} update: memory.max`);
      t.equal(rt(['delete', '--force', id]).code, 0, `${name} delete --force`);
      t.notOk(existsSync(cgroupDir(scope)), `${name}: the scope's cgroup is gone`);
    }
  });

  t.test('rootless podman drives tsrun: with its defaults (systemd manager), then with cgroupfs', async (t) => {
    const tar = rootfsTar(user.dir);
    chownSync(tar, user.uid, user.gid);
    const podman = (args: string[]) => user.run('podman', ['--runtime', TSRUN, ...args]);
    const im = podman(['import', tar, IMAGE]);
    t.equal(im.code, 0, `podman import: ${im.stderr}`);
    // podman's default for a user: the systemd manager, tsrun's --systemd-cgroup with the user's instance.
    const sd = podman(['run', '-d', '--memory', String(MEMORY), IMAGE, 'sleep', '600']);
    t.equal(sd.code, 0, `with the systemd cgroup manager: ${sd.stderr}`);
    const sdId = sd.stdout.trim();
    const sdPid = Number(podman(['inspect', '-f', '{{.State.Pid}}', sdId]).stdout.trim());
    const scope = `${user.manager}/user.slice/libpod-${sdId}.scope`;
    t.equal(cgroupOf(sdPid), scope, `a scope of the user's instance: ${scope}`);
    t.equal(cgroupFile(scope, 'memory.max'), String(MEMORY), 'its memory.max');
    const sdEx = podman(['exec', sdId, 'sh', '-c', 'echo in-exec; exit 5']);
    t.equal(sdEx.code, 5, `podman exec: the exit status: ${sdEx.stderr}`);
    t.equal(sdEx.stdout, 'in-exec\n', 'podman exec: output');
    t.equal(podman(['stop', '--time', '1', sdId]).code, 0, 'podman stop');
    t.notOk(existsSync(cgroupDir(scope)), 'the scope is gone with the container');
    t.equal(podman(['rm', sdId]).code, 0, 'podman rm');

    const cgfs = (args: string[]) => podman(['--cgroup-manager', 'cgroupfs', ...args]);
    const fg = cgfs(['run', '--rm', IMAGE, 'sh', '-c', 'echo hi; id -u; exit 3']);
    t.equal(fg.code, 3, `podman run: the exit status: ${fg.stderr}`);
    t.equal(fg.stdout, 'hi\n0\n', 'podman run: output, root inside');
    const run = cgfs(['run', '-d', '--memory', String(MEMORY), '--pids-limit', String(PIDS), IMAGE, 'sleep', '600']);
    t.equal(run.code, 0, `podman run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    const pid = Number(cgfs(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    const cg = `${appSlice}/${id}`;
    t.equal(cgroupOf(pid), cg, `the container is in ${cg}`);
    t.equal(cgroupFile(cg, 'memory.max'), String(MEMORY), 'memory.max');
    t.equal(cgroupFile(cg, 'pids.max'), String(PIDS), 'pids.max');
    const ex = cgfs(['exec', id, 'sh', '-c', 'echo in-exec; exit 5']);
    t.equal(ex.code, 5, `podman exec: the exit status: ${ex.stderr}`);
    t.equal(ex.stdout, 'in-exec\n', 'podman exec: output');
    // The AppArmor profile podman passed, if any, is the one the container's processes run under.
    const profile = cgfs(['inspect', '-f', '{{.AppArmorProfile}}', id]).stdout.trim();
    t.equal(
      cgfs(['exec', id, 'cat', '/proc/self/attr/current']).stdout.trim(),
      profile ? `${profile} (enforce)` : 'unconfined',
      `AppArmor: podman passed ${profile ? `"${profile}"` : 'no profile'}`,
    );
    const stats = cgfs(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
    t.match(stats.stdout, /\/ 134\.2MB/, `podman stats: the limit (${stats.stderr})`);
    const up = cgfs(['update', '--memory', String(2 * MEMORY), id]);
    t.equal(up.code, 0, `podman update: ${up.stderr}`);
    t.equal(cgroupFile(cg, 'memory.max'), String(2 * MEMORY), 'podman update: memory.max');
    t.equal(cgfs(['rm', '--force', '--time', '0', id]).code, 0, 'podman rm --force');
    t.notOk(existsSync(cgroupDir(cg)), 'the cgroup is gone');
  });
}
