// Root clients on a systemd + cgroup v2 host with the cgroupfs driver
// (issue 19, item 5): containerd 1.6 (ctr --runc-binary), dockerd 20.10
// (--exec-opt native.cgroupdriver=cgroupfs, --add-runtime) and podman 4.3
// (--cgroup-manager cgroupfs) drive dist/tsrun with the cgroup paths each
// client makes by default. Their limits must land in the v2 files, and
// run, exec, stats and update work where the client has them. Then dockerd
// and podman with their defaults on a systemd host, the systemd cgroup
// driver (--systemd-cgroup, issue 20). dockerd and podman pass their default
// AppArmor profiles (docker-default, containers-default-VERSION), under which
// the container and exec'd processes run (issue 20, item 4;
// test/vm/apparmor.test.ts for the rest). The VM has no network: images are
// imported from the test rootfs.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types';
import { REPO, type TestLike } from '../helpers/harness';
import { apparmorOf, cgroupDir, cgroupFile, cgroupOf, requireV2Host } from '../helpers/v2';
import { waitForSync } from '../helpers/wait';
import { DAEMONS, clientDirs, dockerOn, sh, ociImageTar, rootfsTar } from '../clients/client-env';

const TSRUN = join(REPO, 'dist', 'tsrun');
const MiB = 1 << 20;

/**
 * A client's default cgroup parent (/default, /docker, /libpod_parent) is
 * made by the runtime and outlives the container, as with runc: removed at
 * teardown when the test made it, after the teardowns registered later
 * (the daemons' stop, which ends what a failed test left running).
 */
function clientParent(t: TestLike, path: string): string {
  if (existsSync(cgroupDir(path))) return path;
  t.teardown(() => {
    const removeTree = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(d, e.name));
      rmdirSync(d);
    };
    removeTree(cgroupDir(path));
  });
  return path;
}

/** The task's pid once ctr lists it in STATUS (RUNNING, STOPPED). */
function ctrTaskPid(ctr: (a: string[]) => { stdout: string }, id: string, status: string): number {
  const ls = waitForSync(() => ctr(['task', 'ls']).stdout, {
    intervalMs: 100,
    done: (out) => new RegExp(`^${id}\\s+\\d+\\s+${status}`, 'm').test(out),
  });
  const m = new RegExp(`^${id}\\s+(\\d+)\\s+${status}`, 'm').exec(ls);
  return m ? Number(m[1]) : NaN;
}

if (requireV2Host(t)) {
  const clientDir = clientDirs(t, 'tsrun-vm-clients-');

  t.test('containerd: ctr --runc-binary with its default cgroupsPath /NAMESPACE/ID', async (t) => {
    const dir = clientDir('containerd');
    const parent = clientParent(t, '/default');
    execFileSync(DAEMONS, ['start-containerd', dir]);
    t.teardown(() => execFileSync(DAEMONS, ['stop', dir]));
    const ctr = (args: string[]) => sh('ctr', ['-a', join(dir, 'containerd.sock'), ...args]);
    const runcRoot = join(dir, 'tsrun-root');
    const flags = ['--runc-binary', TSRUN, '--runc-root', runcRoot];
    const image = 'localhost/busybox:latest';
    const im = ctr(['image', 'import', '--base-name', 'localhost/busybox', ociImageTar(dir)]);
    t.equal(im.code, 0, `ctr image import: ${im.stderr}`);

    const fg = ctr(['run', '--rm', ...flags, image, 'fg', 'sh', '-c', 'echo hi; cat /proc/self/cgroup; exit 3']);
    t.equal(fg.code, 3, `ctr run: the exit status: ${fg.stderr}`);
    t.equal(fg.stdout, `hi\n0::${parent}/fg\n`, 'ctr run: output; the container is in /default/fg (no cgroupns)');

    const id = 'c1';
    const run = ctr([
      'run',
      '-d',
      ...flags,
      '--memory-limit',
      String(64 * MiB),
      '--cpus',
      '0.5',
      image,
      id,
      'sleep',
      '600',
    ]);
    t.equal(run.code, 0, `ctr run -d: ${run.stderr}`);
    const pid = ctrTaskPid(ctr, id, 'RUNNING');
    const cg = `${parent}/${id}`;
    t.equal(cgroupOf(pid), cg, `the task is in ${cg}`);
    t.equal(cgroupFile(cg, 'memory.max'), String(64 * MiB), '--memory-limit: memory.max');
    t.equal(cgroupFile(cg, 'cpu.max'), '50000 100000', '--cpus 0.5: cpu.max');
    const st = sh(TSRUN, ['--root', join(runcRoot, 'default'), 'state', id]);
    t.equal(JSON.parse(st.stdout || '{}').pid, pid, `tsrun state in the shim's root agrees: ${st.stderr}`);

    const ex = ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo in-exec; cat /proc/self/cgroup; exit 5']);
    t.equal(ex.code, 5, `ctr task exec: the exit status: ${ex.stderr}`);
    t.equal(ex.stdout, `in-exec\n0::${cg}\n`, 'ctr task exec: output; the process joined the cgroup');
    const metrics = ctr(['task', 'metrics', id]);
    t.match(
      metrics.stdout,
      new RegExp(`^memory\\.usage_limit\\s+${64 * MiB}\\s*$`, 'm'),
      'ctr task metrics: v2 memory',
    );
    t.match(metrics.stdout, /^cpu\.usage_usec\s+[1-9]\d*\s*$/m, 'ctr task metrics: v2 cpu');
    // containerd 1.6's ctr has no `task update` ("No help topic for 'update'").

    t.equal(ctr(['task', 'kill', '-s', 'KILL', id]).code, 0, 'ctr task kill');
    ctrTaskPid(ctr, id, 'STOPPED');
    t.equal(ctr(['task', 'delete', id]).code, 0, 'ctr task delete');
    t.equal(ctr(['container', 'delete', id]).code, 0, 'ctr container delete');
    t.notOk(existsSync(cgroupDir(cg)), 'the cgroup is gone');
    t.same(readdirSync(join(runcRoot, 'default')), [], "no state left in the shim's tsrun root");
  });

  t.test('dockerd with native.cgroupdriver=cgroupfs and --add-runtime tsrun: /docker/ID', async (t) => {
    const dir = clientDir('docker');
    const parent = clientParent(t, '/docker');
    const image = 'localhost/busybox:tsrun';
    const docker = dockerOn(t, dir, TSRUN, ['--exec-opt', 'native.cgroupdriver=cgroupfs'], image);
    const info = docker(['info', '--format', '{{.CgroupDriver}} {{.CgroupVersion}}']);
    t.equal(info.stdout.trim(), 'cgroupfs 2', `docker info: the cgroupfs driver on cgroup v2: ${info.stderr}`);
    // With docker's default AppArmor profile, docker-default (test/vm/apparmor.test.ts).
    const runFlags = ['--runtime', 'tsrun', '--network', 'none'];

    const fg = docker(['run', '--rm', ...runFlags, image, 'sh', '-c', 'echo hi; exit 3']);
    t.equal(fg.code, 3, `docker run: the exit status: ${fg.stderr}`);
    t.equal(fg.stdout, 'hi\n', 'docker run: output');

    const limits = ['--memory', '64m', '--pids-limit', '20', '--cpus', '0.5', '--cpu-shares', '512'];
    const run = docker(['run', '-d', ...runFlags, ...limits, image, 'sleep', '600']);
    t.equal(run.code, 0, `docker run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    const pid = Number(docker(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    const cg = `${parent}/${id}`;
    t.equal(cgroupOf(pid), cg, `the container is in ${cg}`);
    const bundle = join(dir, 'containerd', 'state', 'io.containerd.runtime.v2.task', 'moby', id);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
    t.equal(config.process?.apparmorProfile, 'docker-default', 'dockerd passed its AppArmor profile');
    t.equal(apparmorOf(pid), 'docker-default (enforce)', 'the container runs under it');
    t.equal(cgroupFile(cg, 'memory.max'), String(64 * MiB), '--memory: memory.max');
    t.equal(cgroupFile(cg, 'memory.swap.max'), String(64 * MiB), "docker's default swap (twice --memory): swap.max");
    t.equal(cgroupFile(cg, 'pids.max'), '20', '--pids-limit: pids.max');
    t.equal(cgroupFile(cg, 'cpu.max'), '50000 100000', '--cpus 0.5: cpu.max');
    t.equal(cgroupFile(cg, 'cpu.weight'), '20', "--cpu-shares 512: cpu.weight (runc's conversion)");
    const st = sh(TSRUN, ['--root', join(dir, 'docker', 'exec', 'runtime-runc', 'moby'), 'state', id]);
    t.equal(JSON.parse(st.stdout || '{}').pid, pid, `tsrun state in dockerd's runtime root agrees: ${st.stderr}`);

    const ex = docker(['exec', id, 'sh', '-c', 'echo in-exec; cat /proc/self/cgroup /proc/self/attr/current; exit 5']);
    t.equal(ex.code, 5, `docker exec: the exit status: ${ex.stderr}`);
    t.equal(
      ex.stdout,
      'in-exec\n0::/\ndocker-default (enforce)\n',
      'docker exec: output; in the container cgroup namespace, under docker-default',
    );
    const stats = docker(['stats', '--no-stream', '--format', '{{.MemUsage}} {{.PIDs}}', id]);
    t.match(stats.stdout, /^\S+ \/ 64MiB 1$/m, `docker stats: memory and its limit, pids (${stats.stderr})`);
    const up = docker([
      'update',
      '--memory',
      '128m',
      '--memory-swap',
      '256m',
      '--pids-limit',
      '40',
      '--cpus',
      '1.5',
      id,
    ]);
    t.equal(up.code, 0, `docker update: ${up.stderr}`);
    t.equal(cgroupFile(cg, 'memory.max'), String(128 * MiB), 'docker update: memory.max');
    t.equal(
      cgroupFile(cg, 'memory.swap.max'),
      String(128 * MiB),
      'docker update: swap.max (--memory-swap less --memory)',
    );
    t.equal(cgroupFile(cg, 'pids.max'), '40', 'docker update: pids.max');
    t.equal(cgroupFile(cg, 'cpu.max'), '150000 100000', 'docker update: cpu.max');
    t.match(
      docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]).stdout,
      /\/ 128MiB$/m,
      'docker stats: the new limit',
    );

    t.equal(docker(['rm', '--force', id]).code, 0, 'docker rm --force');
    t.notOk(existsSync(cgroupDir(cg)), 'the cgroup is gone');
  });

  t.test('dockerd with its default on a systemd host, the systemd cgroup driver: docker-ID.scope', async (t) => {
    const dir = clientDir('docker-systemd');
    const image = 'localhost/busybox:tsrun';
    const docker = dockerOn(t, dir, TSRUN, [], image);
    const info = docker(['info', '--format', '{{.CgroupDriver}} {{.CgroupVersion}}']);
    t.equal(info.stdout.trim(), 'systemd 2', `docker info: the systemd driver on cgroup v2: ${info.stderr}`);
    const runFlags = ['--runtime', 'tsrun', '--network', 'none'];
    const run = docker(['run', '-d', ...runFlags, '--memory', '64m', '--pids-limit', '20', image, 'sleep', '600']);
    t.equal(run.code, 0, `docker run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    const pid = Number(docker(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    const scope = `/system.slice/docker-${id}.scope`;
    t.equal(cgroupOf(pid), scope, `the container is in systemd's ${scope}`);
    t.equal(cgroupFile(scope, 'memory.max'), String(64 * MiB), '--memory: memory.max');
    t.equal(cgroupFile(scope, 'pids.max'), '20', '--pids-limit: pids.max');
    const ex = docker(['exec', id, 'sh', '-c', 'echo in-exec; exit 5']);
    t.equal(ex.code, 5, `docker exec: the exit status: ${ex.stderr}`);
    t.equal(ex.stdout, 'in-exec\n', 'docker exec: output');
    const stats = docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
    t.match(stats.stdout, /\/ 64MiB$/m, `docker stats: the limit (${stats.stderr})`);
    const up = docker(['update', '--memory', '128m', '--memory-swap', '256m', '--pids-limit', '40', id]);
    t.equal(up.code, 0, `docker update: ${up.stderr}`);
    t.equal(cgroupFile(scope, 'memory.max'), String(128 * MiB), 'docker update: memory.max');
    t.equal(cgroupFile(scope, 'pids.max'), '40', 'docker update: pids.max');
    t.equal(docker(['pause', id]).code, 0, 'docker pause');
    t.equal(cgroupFile(scope, 'cgroup.freeze'), '1', 'frozen');
    t.equal(docker(['unpause', id]).code, 0, 'docker unpause');
    t.equal(docker(['rm', '--force', id]).code, 0, 'docker rm --force');
    t.notOk(existsSync(cgroupDir(scope)), 'the scope is gone');
  });

  t.test('podman: its default systemd manager (machine.slice), then cgroupfs (/libpod_parent)', async (t) => {
    const dir = clientDir('podman');
    const global = ['--root', join(dir, 'pstorage'), '--runroot', join(dir, 'prun'), '--runtime', TSRUN];
    const podman = (args: string[]) => sh('podman', [...global, ...args]);
    const image = 'localhost/busybox:tsrun';
    const im = podman(['import', rootfsTar(dir), image]);
    t.equal(im.code, 0, `podman import: ${im.stderr}`);
    // podman's default for root under systemd: the systemd manager, tsrun's --systemd-cgroup (issue 20).
    const sd = podman(['run', '-d', '--network', 'none', image, 'sleep', '600']);
    t.equal(sd.code, 0, `with the systemd cgroup manager: ${sd.stderr}`);
    const sdId = sd.stdout.trim();
    const sdPid = Number(podman(['inspect', '-f', '{{.State.Pid}}', sdId]).stdout.trim());
    const scope = `/machine.slice/libpod-${sdId}.scope`;
    t.equal(cgroupOf(sdPid), scope, `the container is in systemd's ${scope}`);
    const sdEx = podman(['exec', sdId, 'sh', '-c', 'echo in-exec; exit 5']);
    t.equal(sdEx.code, 5, `podman exec: the exit status: ${sdEx.stderr}`);
    t.equal(sdEx.stdout, 'in-exec\n', 'podman exec: output');
    t.equal(podman(['stop', '--time', '1', sdId]).code, 0, 'podman stop');
    t.equal(podman(['inspect', '-f', '{{.State.Status}}', sdId]).stdout.trim(), 'exited', 'exited');
    t.notOk(existsSync(cgroupDir(scope)), 'the scope is gone with the container');
    t.equal(podman(['rm', sdId]).code, 0, 'podman rm');

    const cgfs = (args: string[]) => podman(['--cgroup-manager', 'cgroupfs', ...args]);
    const parent = clientParent(t, '/libpod_parent');
    const fg = cgfs(['run', '--rm', '--network', 'none', image, 'sh', '-c', 'echo hi; exit 3']);
    t.equal(fg.code, 3, `podman run: the exit status: ${fg.stderr}`);
    t.equal(fg.stdout, 'hi\n', 'podman run: output');

    const limits = ['--memory', '64m', '--pids-limit', '20', '--cpus', '0.5'];
    const run = cgfs(['run', '-d', '--network', 'none', ...limits, image, 'sleep', '600']);
    t.equal(run.code, 0, `podman run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    const pid = Number(cgfs(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    const cg = `${parent}/libpod-${id}`;
    t.equal(cgroupOf(pid), cg, `the container is in ${cg}`);
    const profile = cgfs(['inspect', '-f', '{{.AppArmorProfile}}', id]).stdout.trim();
    t.match(profile, /^containers-default-\d+(\.\d+)*$/, 'podman passed its AppArmor profile');
    t.equal(apparmorOf(pid), `${profile} (enforce)`, 'the container runs under it');
    t.equal(cgroupFile(cg, 'memory.max'), String(64 * MiB), '--memory: memory.max');
    t.equal(cgroupFile(cg, 'pids.max'), '20', '--pids-limit: pids.max');
    t.equal(cgroupFile(cg, 'cpu.max'), '50000 100000', '--cpus 0.5: cpu.max');

    const ex = cgfs(['exec', id, 'sh', '-c', 'echo in-exec; cat /proc/self/attr/current; exit 5']);
    t.equal(ex.code, 5, `podman exec: the exit status: ${ex.stderr}`);
    t.equal(ex.stdout, `in-exec\n${profile} (enforce)\n`, 'podman exec: output, under the same profile');
    t.equal(cgroupFile(cg, 'cgroup.procs').split('\n').length, 1, 'the exec left nothing in the cgroup');
    const stats = cgfs(['stats', '--no-stream', '--format', '{{.MemUsage}} {{.PIDs}}', id]);
    t.match(stats.stdout, /^\S+ \/ 67\.11MB 1$/m, `podman stats: memory and its limit, pids (${stats.stderr})`);
    // podman 4.3's update has no --pids-limit.
    const up = cgfs(['update', '--memory', '128m', '--memory-reservation', '32m', '--cpus', '1.5', id]);
    t.equal(up.code, 0, `podman update: ${up.stderr}`);
    t.equal(cgroupFile(cg, 'memory.max'), String(128 * MiB), 'podman update: memory.max');
    t.equal(cgroupFile(cg, 'memory.low'), String(32 * MiB), 'podman update --memory-reservation: memory.low');
    t.equal(cgroupFile(cg, 'cpu.max'), '150000 100000', 'podman update: cpu.max');

    t.equal(cgfs(['rm', '--force', '--time', '0', id]).code, 0, 'podman rm --force');
    t.notOk(existsSync(cgroupDir(cg)), 'the cgroup is gone');
  });
}
