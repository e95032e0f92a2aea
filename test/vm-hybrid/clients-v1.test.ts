// Clients with the systemd cgroup driver on a hybrid host (issue 20, items 1
// and 3), as on kubeadm nodes still on cgroup v1: dockerd 20.10 told
// `native.cgroupdriver=systemd` (its default on v1 is cgroupfs; kubeadm's
// guides set systemd) and podman 4.3 with its default systemd manager drive
// dist/tsrun; each container lands in its client's scope in every v1
// hierarchy, with its limits in the v1 files and as the unit's properties.
import t from 'tap';
import { join } from 'node:path';
import { REPO } from '../helpers/harness';
import { dirsLeft, procCgroups, requireHybridSystemdHost, v1Value } from '../helpers/hybrid';
import { unitProps } from '../helpers/systemd-scope';
import { clientDirs, dockerOn, sh, rootfsTar } from '../clients/client-env';

const TSRUN = join(REPO, 'dist', 'tsrun');
const MiB = 1 << 20;

if (requireHybridSystemdHost(t)) {
  const clientDir = clientDirs(t, 'tsrun-vm-clients-v1-');

  t.test('dockerd with native.cgroupdriver=systemd on cgroup v1: docker-ID.scope', async (t) => {
    const dir = clientDir('docker');
    const image = 'localhost/busybox:tsrun';
    const docker = dockerOn(t, dir, TSRUN, ['--exec-opt', 'native.cgroupdriver=systemd'], image);
    const info = docker(['info', '--format', '{{.CgroupDriver}} {{.CgroupVersion}}']);
    t.equal(info.stdout.trim(), 'systemd 1', `docker info: the systemd driver on cgroup v1: ${info.stderr}`);
    const flags = ['--runtime', 'tsrun', '--network', 'none', '--memory', '64m', '--pids-limit', '20', '--cpus', '0.5'];
    const run = docker(['run', '-d', ...flags, image, 'sleep', '600']);
    t.equal(run.code, 0, `docker run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    const pid = Number(docker(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    const unit = `docker-${id}.scope`;
    const scope = `/system.slice/${unit}`;
    const cgroups = procCgroups(pid);
    for (const key of ['memory', 'pids', 'cpu,cpuacct', 'freezer', 'cpuset', 'name=systemd', ''])
      t.equal(cgroups.get(key), scope, `the container is in ${scope}: ${key || 'cgroup2'}`);
    t.equal(v1Value('memory', scope, 'memory.limit_in_bytes'), String(64 * MiB), '--memory');
    t.equal(v1Value('pids', scope, 'pids.max'), '20', '--pids-limit');
    t.equal(v1Value('cpu', scope, 'cpu.cfs_quota_us'), '50000', '--cpus 0.5');
    t.match(unitProps(unit, ['MemoryLimit', 'TasksMax']), { MemoryLimit: String(64 * MiB), TasksMax: '20' }, 'unit');
    const ex = docker(['exec', id, 'sh', '-c', 'echo in-exec; exit 5']);
    t.equal(ex.code, 5, `docker exec: the exit status: ${ex.stderr}`);
    t.equal(ex.stdout, 'in-exec\n', 'docker exec: output');
    const up = docker(['update', '--memory', '128m', '--memory-swap', '256m', id]);
    t.equal(up.code, 0, `docker update: ${up.stderr}`);
    t.equal(v1Value('memory', scope, 'memory.limit_in_bytes'), String(128 * MiB), 'docker update: the file');
    t.equal(unitProps(unit, ['MemoryLimit']).MemoryLimit, String(128 * MiB), 'docker update: the unit');
    t.equal(docker(['pause', id]).code, 0, 'docker pause');
    t.equal(v1Value('freezer', scope, 'freezer.state'), 'FROZEN', 'frozen');
    t.equal(docker(['unpause', id]).code, 0, 'docker unpause');
    t.equal(v1Value('freezer', scope, 'freezer.state'), 'THAWED', 'thawed');
    t.equal(docker(['rm', '--force', id]).code, 0, 'docker rm --force');
    t.same(dirsLeft(scope), [], 'no directory left in any hierarchy');
    t.match(unitProps(unit, ['LoadState']), { LoadState: 'not-found' }, 'no unit left');
  });

  t.test('podman with its default systemd manager on cgroup v1: machine.slice/libpod-ID.scope', async (t) => {
    const dir = clientDir('podman');
    const global = ['--root', join(dir, 'pstorage'), '--runroot', join(dir, 'prun'), '--runtime', TSRUN];
    const podman = (args: string[]) => sh('podman', [...global, ...args]);
    const image = 'localhost/busybox:tsrun';
    const im = podman(['import', rootfsTar(dir), image]);
    t.equal(im.code, 0, `podman import: ${im.stderr}`);
    const run = podman(['run', '-d', '--network', 'none', '--memory', '64m', image, 'sleep', '600']);
    t.equal(run.code, 0, `podman run -d: ${run.stderr}`);
    const id = run.stdout.trim();
    const pid = Number(podman(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    const scope = `/machine.slice/libpod-${id}.scope`;
    t.equal(procCgroups(pid).get('memory'), scope, `the container is in ${scope}`);
    t.equal(v1Value('memory', scope, 'memory.limit_in_bytes'), String(64 * MiB), '--memory');
    const ex = podman(['exec', id, 'sh', '-c', 'echo in-exec; exit 5']);
    t.equal(ex.code, 5, `podman exec: the exit status: ${ex.stderr}`);
    t.equal(ex.stdout, 'in-exec\n', 'podman exec: output');
    t.equal(podman(['stop', '--time', '1', id]).code, 0, 'podman stop');
    t.same(dirsLeft(scope), [], 'the scope is gone with the container, in every hierarchy');
    t.equal(podman(['rm', id]).code, 0, 'podman rm');
  });
}
