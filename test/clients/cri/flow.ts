// The CRI test's flow, kubelet's side of a pod's life: a private containerd
// with its CRI plugin (daemons.sh start-containerd-cri), spoken to with a CRI
// client of our own (client.ts), runs a pod with its own network namespace,
// a container in it, its logs, ExecSync, UpdateContainerResources,
// ContainerStats, then stops and removes it all and checks that nothing is
// left. Two files run it: test/clients/cri.test.ts on this host (hybrid
// cgroups, the cgroupfs driver) and test/vm/cri-systemd.test.ts in the
// systemd + cgroup v2 VM (SystemdCgroup = true). What differs is the cgroup
// driver: the pod's cgroup_parent, where a container lands, how its limits
// read back, what must be gone at the end (CriCgroups).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { mountsUnder } from '../../helpers/harness';
import { waitFor } from '../../helpers/wait';
import { DAEMONS, sh, scratch, ociImageTar } from '../client-env';
import { criClient, type CriClient, type Msg } from './client';

export const NEEDED = [
  'containerd',
  'ctr',
  'containerd-shim-runc-v2',
  'umoci',
  'ip',
  '/usr/lib/cni/host-device',
  '/usr/lib/cni/static',
  '/usr/lib/cni/loopback',
];
const IMAGE = 'localhost/busybox:latest';
// The pod's infra container: the same busybox, waiting until it is told to stop.
const PAUSE = 'localhost/busybox:pause';
const PAUSE_CONFIG = [
  '--config.entrypoint',
  '/bin/sh',
  '--config.entrypoint',
  '-c',
  '--config.entrypoint',
  "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done",
];
const POD_IP = '192.0.2.2'; // daemons.sh's CNI network
export const MiB = 1024 * 1024;
/** The pod's metadata.uid (kubelet names the pod's cgroup after it). */
export const POD_UID = `uid-${process.pid}`;
/** The container's linux.resources as created, and as UpdateContainerResources changes them. */
export const CREATED = { memory_limit_in_bytes: 64 * MiB, cpu_shares: 512 };
export const UPDATED = { memory_limit_in_bytes: 128 * MiB, cpu_shares: 256, cpu_period: 100000, cpu_quota: 50000 };

/** How the CRI tests poll: the daemons and the shim take their time on a loaded machine. */
const POLL = { timeoutMs: 15000, intervalMs: 50 };

/** What the flow asks of the cgroup driver it runs with. */
export interface CriCgroups {
  /** daemons.sh start-containerd-cri's driver: systemd is SystemdCgroup = true. */
  driver: 'cgroupfs' | 'systemd';
  /** The pods' linux.cgroup_parent, as kubelet's cgroup driver of that name gives it. */
  parent: string;
  /** Checks that the sandbox's or container's (`what`) init `pid` landed in its cgroup below the parent. */
  placed(t: Test, id: string, pid: number, what: string): void;
  /** Checks the container's limits in its cgroup: CREATED, or UPDATED once updated. */
  limits(t: Test, id: string, phase: 'created' | 'updated'): void;
  /** Checks that nothing of the removed sandbox and containers (`ids`) is left below the parent. */
  gone(t: Test, ids: string[]): void;
}

/** A process's identity: its pid and start time, so a reused pid is not mistaken for it. */
function processId(pid: number): string | undefined {
  try {
    return `${pid}:${readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]}`;
  } catch {
    return undefined;
  }
}

/** Fail (once, saying why) instead of running a step whose pod or container an earlier step did not make. */
function missingFrom(t: { fail(msg: string): unknown }, id: string, what: string): boolean {
  if (!id) t.fail(`no ${what}: an earlier step failed`);
  return !id;
}

/** The JSON containerd returns as the verbose status's "info". */
const info = (res: Msg): Msg => JSON.parse(res.info?.info ?? '{}') as Msg;

/** What the steps share: the daemons' dir, the clients, the pod's config, and what earlier steps made. */
interface Cri {
  dir: string;
  tsrun: string;
  cg: CriCgroups;
  cri: CriClient;
  runtime(method: string, req?: Msg): Promise<Msg>;
  /** tsrun's state of a container in the shim's root. */
  tsrunState(id: string): Msg;
  /** Remember every process of a container (tsrun ps: the pids in its cgroup), to check that none is left. */
  remember(id: string): number[];
  processes: Set<string>;
  /** The runc shims containerd started for our socket. */
  shims(): string[];
  tsrunRoot: string;
  logDir: string;
  volume: string;
  namespaces: Msg;
  podConfig: Msg;
  started: string;
  podId: string;
  ctrId: string;
  netnsPath: string;
}

function criContext(dir: string, tsrun: string, cg: CriCgroups): Cri {
  const cri = criClient(join(dir, 'containerd.sock'));
  // The shim runs `tsrun --root <Root>/<namespace>`; CRI's namespace is k8s.io.
  const tsrunRoot = join(dir, 'tsrun-root', 'k8s.io');
  const processes = new Set<string>();
  // kubelet's defaults for a pod: the pod's own network and IPC namespaces, a pid namespace per container.
  const namespaces = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' };
  const logDir = join(dir, 'pod-logs');
  return {
    dir,
    tsrun,
    cg,
    cri,
    runtime: (method, req) => cri.call('RuntimeService', method, req),
    tsrunState: (id) => JSON.parse(sh(tsrun, ['--root', tsrunRoot, 'state', id]).stdout || '{}') as Msg,
    remember(id) {
      const ps = sh(tsrun, ['--root', tsrunRoot, 'ps', '--format', 'json', id]).stdout;
      const pids = JSON.parse(ps || '[]') as number[];
      for (const pid of pids) processes.add(processId(pid) ?? `${pid}:gone`);
      return pids;
    },
    processes,
    shims: () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${dir}/containerd.sock\0`);
          } catch {
            return false;
          }
        }),
    tsrunRoot,
    logDir,
    // A hostPath volume with HOST_TO_CONTAINER propagation: CRI wants its
    // source on a shared (or slave) mount, which / is not here, so it is a
    // shared bind mount of its own (daemons.sh stop unmounts it whatever happens).
    volume: join(dir, 'volume'),
    namespaces,
    podConfig: {
      metadata: { name: 'tsrun-pod', uid: POD_UID, namespace: 'default', attempt: 0 },
      hostname: 'tsrun-pod',
      log_directory: logDir,
      labels: { test: 'tsrun-cri' },
      linux: { cgroup_parent: cg.parent, security_context: { namespace_options: namespaces } },
    },
    started: '',
    podId: '',
    ctrId: '',
    netnsPath: '',
  };
}

/**
 * The whole flow as subtests of `t`, through `tsrun`; `cgroups` makes the
 * driver's side (its teardowns run after the daemons' stop).
 */
export function criFlow(t: Test, tsrun: string, cgroups: (t: Test) => CriCgroups): void {
  const dir = scratch(t, 'tsrun-cri-');
  const cg = cgroups(t);
  // Registered first: a start that fails half-way (after making the CNI device) is undone too.
  t.teardown(() => {
    execFileSync(DAEMONS, ['stop', dir]);
  });
  const c = criContext(dir, tsrun, cg);
  // Whatever failed: the pod goes before containerd does, and its netns file with it.
  t.teardown(async () => {
    if (c.podId) {
      await c.runtime('StopPodSandbox', { pod_sandbox_id: c.podId }).catch(() => undefined);
      await c.runtime('RemovePodSandbox', { pod_sandbox_id: c.podId }).catch(() => undefined);
    }
    c.cri.close();
    if (c.netnsPath && existsSync(c.netnsPath)) {
      sh('umount', [c.netnsPath]);
      sh('rm', ['-f', c.netnsPath]);
    }
  });
  for (const step of [startStep, imagesStep, podStep, containerStep, inPodStep, volumeStep, execStep]) step(t, c);
  for (const step of [updateStep, statsStep, removeStep]) step(t, c);
}

function startStep(t: Test, c: Cri): void {
  t.test(`containerd starts with its CRI plugin (cgroup driver ${c.cg.driver})`, async (t) => {
    // In a subtest, not at the top: a failure here must still reach the teardowns.
    const r = sh(DAEMONS, ['start-containerd-cri', c.dir, c.tsrun, PAUSE, c.cg.driver], { timeout: 120000 });
    t.equal(r.code, 0, `daemons.sh start-containerd-cri: ${r.stderr}`);
    if (r.code === 0) c.started = 'yes';
  });
}

function imagesStep(t: Test, c: Cri): void {
  t.test('images from a local OCI layout, seen by the CRI', async (t) => {
    if (missingFrom(t, c.started, 'containerd')) return;
    const tar = ociImageTar(c.dir, { pause: PAUSE_CONFIG });
    const r = sh('ctr', [
      ...['-a', join(c.dir, 'containerd.sock'), '-n', 'k8s.io'],
      ...['image', 'import', '--base-name', 'localhost/busybox', tar],
    ]);
    t.equal(r.code, 0, `ctr -n k8s.io image import: ${r.stderr}`);
    const v = await c.runtime('Version', { version: 'v1' });
    t.equal(v.runtime_name, 'containerd');
    t.equal(v.runtime_api_version, 'v1');
    for (const image of [IMAGE, PAUSE]) {
      const st = await c.cri.call('ImageService', 'ImageStatus', { image: { image } });
      t.ok(st.image?.repo_tags?.includes(image), `ImageStatus knows ${image}: ${JSON.stringify(st.image?.repo_tags)}`);
    }
  });
}

function podStep(t: Test, c: Cri): void {
  t.test('RunPodSandbox: handler tsrun, its own network namespace', async (t) => {
    if (missingFrom(t, c.started, 'containerd')) return;
    const res = await c.runtime('RunPodSandbox', { config: c.podConfig, runtime_handler: 'tsrun' });
    c.podId = res.pod_sandbox_id;
    t.ok(c.podId, 'a sandbox id');
    const st = await c.runtime('PodSandboxStatus', { pod_sandbox_id: c.podId, verbose: true });
    t.equal(st.status.state, 'SANDBOX_READY');
    t.equal(st.status.runtime_handler, 'tsrun');
    t.equal(st.status.network?.ip, POD_IP, "the CNI result's address");
    const i = info(st);
    const namespaces = (i.runtimeSpec?.linux?.namespaces ?? []) as Msg[];
    c.netnsPath = namespaces.find((n) => n.type === 'network')?.path ?? '';
    t.match(
      c.netnsPath,
      /^\/var\/run\/netns\/cni-/,
      "the spec's network namespace is containerd's bind-mounted netns file",
    );

    const state = c.tsrunState(c.podId);
    t.equal(state.status, 'running', "tsrun state in the shim's root: the pause container runs");
    t.equal(state.pid, i.pid, 'containerd and tsrun agree on its pid');
    t.ok(c.remember(c.podId).includes(state.pid), 'tsrun ps lists it');
    t.equal(c.shims().length, 1, 'one runc shim runs the pod');
    t.equal(
      statSync(`/proc/${state.pid}/ns/net`).ino,
      statSync(c.netnsPath).ino,
      'the pause process is in that network namespace',
    );
    c.cg.placed(t, c.podId, state.pid, "the sandbox's");
  });
}

function containerStep(t: Test, c: Cri): void {
  t.test('CreateContainer, StartContainer, logs', async (t) => {
    if (missingFrom(t, c.podId, 'pod')) return;
    mkdirSync(c.volume);
    execFileSync('mount', ['--bind', c.volume, c.volume]);
    execFileSync('mount', ['--make-rshared', c.volume]);
    const config: Msg = {
      metadata: { name: 'app', attempt: 0 },
      image: { image: IMAGE },
      command: ['/bin/sh', '-c'],
      args: ['echo hello from tsrun; echo to-stderr >&2; trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'],
      envs: [{ key: 'GREETING', value: 'hi' }],
      mounts: [{ container_path: '/volume', host_path: c.volume, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }],
      log_path: 'app/0.log',
      linux: { resources: CREATED, security_context: { namespace_options: c.namespaces } },
    };
    const res = await c.runtime('CreateContainer', { pod_sandbox_id: c.podId, config, sandbox_config: c.podConfig });
    c.ctrId = res.container_id;
    t.ok(c.ctrId, 'a container id');
    await c.runtime('StartContainer', { container_id: c.ctrId });
    const st = await c.runtime('ContainerStatus', { container_id: c.ctrId, verbose: true });
    t.equal(st.status.state, 'CONTAINER_RUNNING');
    t.equal(st.status.log_path, join(c.logDir, 'app/0.log'));
    const state = c.tsrunState(c.ctrId);
    t.equal(state.status, 'running');
    t.equal(state.pid, info(st).pid, 'containerd and tsrun agree on its pid');
    c.cg.placed(t, c.ctrId, state.pid, "the container's");
    await checkLogs(t, c, state.pid);
  });
}

/** CRI log format: "<RFC3339Nano time> <stream> <F|P> <line>"; and the processes the container's shell started. */
async function checkLogs(t: Test, c: Cri, pid: number): Promise<void> {
  const logFile = join(c.logDir, 'app/0.log');
  const log = await waitFor(() => {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    return /to-stderr/.test(text) && /hello from tsrun/.test(text) ? text : '';
  }, POLL);
  t.match(log, /^\d{4}-\d\d-\d\dT\S+ stdout F hello from tsrun$/m, 'stdout line in the CRI log');
  t.match(log, /^\d{4}-\d\d-\d\dT\S+ stderr F to-stderr$/m, 'stderr line in the CRI log');
  const pids = await waitFor(() => {
    const now = c.remember(c.ctrId);
    return now.length >= 2 ? now : undefined;
  }, POLL);
  t.ok(pids?.includes(pid), `tsrun ps lists its shell and the sleep it started: ${JSON.stringify(pids)}`);
}

/** ExecSync in the container: its exit code and output. */
async function exec(c: Cri, ...cmd: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await c.runtime('ExecSync', { container_id: c.ctrId, cmd, timeout: 20 });
  return { code: r.exit_code as number, out: String(r.stdout), err: String(r.stderr) };
}

function inPodStep(t: Test, c: Cri): void {
  t.test('the container is in the pod', async (t) => {
    if (missingFrom(t, c.ctrId, 'container')) return;
    const net = await exec(c, 'readlink', '/proc/self/ns/net');
    t.equal(
      net.out.trim(),
      `net:[${statSync(c.netnsPath).ino}]`,
      "the container joined the pod's network namespace (by its path)",
    );
    const addr = await exec(c, 'ip', '-o', '-4', 'addr', 'show', 'eth0');
    t.match(addr.out, new RegExp(`inet ${POD_IP.replace(/\./g, '\\.')}/24`), "the pod's eth0 and address, seen inside");
    const pause = c.tsrunState(c.podId).pid as number;
    const ipc = await exec(c, 'readlink', '/proc/self/ns/ipc');
    t.equal(ipc.out.trim(), `ipc:[${statSync(`/proc/${pause}/ns/ipc`).ino}]`, "the pod's IPC namespace");
    const pid = await exec(c, 'readlink', '/proc/self/ns/pid');
    t.not(
      pid.out.trim(),
      `pid:[${statSync(`/proc/${pause}/ns/pid`).ino}]`,
      "its own pid namespace (CONTAINER), not the pause's",
    );
    t.not(pid.out.trim(), `pid:[${statSync('/proc/self/ns/pid').ino}]`, "nor the host's");
    const env = await exec(c, 'sh', '-c', 'echo $GREETING; hostname');
    t.equal(env.out, 'hi\ntsrun-pod\n', "the config's env and the pod's hostname");
  });
}

function volumeStep(t: Test, c: Cri): void {
  t.test('HOST_TO_CONTAINER volume: rslave, host mounts propagate in', async (t) => {
    if (missingFrom(t, c.ctrId, 'container')) return;
    const spec = info(await c.runtime('ContainerStatus', { container_id: c.ctrId, verbose: true })).runtimeSpec as Msg;
    t.equal(
      spec?.linux?.rootfsPropagation,
      'rslave',
      "CRI asked for an rslave rootfs (the volume's propagation needs it)",
    );
    const mountinfo = async () => (await exec(c, 'cat', '/proc/self/mountinfo')).out;
    const line = (text: string, target: string) => text.split('\n').find((l) => l.split(' ')[4] === target) ?? '';
    t.match(line(await mountinfo(), '/volume'), / master:\d+/, 'the volume is a slave mount in the container');
    const late = join(c.volume, 'late');
    mkdirSync(late);
    execFileSync('mount', ['-t', 'tmpfs', 'tsrun-cri-late', late]);
    t.ok(
      await waitFor(async () => line(await mountinfo(), '/volume/late'), POLL),
      'a mount made on the host afterwards appears in the container',
    );
    execFileSync('umount', [late]);
    t.ok(await waitFor(async () => !line(await mountinfo(), '/volume/late'), POLL), 'and its unmount too');
  });
}

function execStep(t: Test, c: Cri): void {
  t.test('ExecSync: stdout, stderr, exit code', async (t) => {
    if (missingFrom(t, c.ctrId, 'container')) return;
    const r = await exec(c, 'sh', '-c', 'echo out-line; echo err-line >&2; exit 3');
    t.equal(r.out, 'out-line\n');
    t.equal(r.err, 'err-line\n');
    t.equal(r.code, 3);
    t.equal((await exec(c, 'true')).code, 0, 'exit code 0');
  });
}

function updateStep(t: Test, c: Cri): void {
  t.test('UpdateContainerResources reaches the cgroup', async (t) => {
    if (missingFrom(t, c.ctrId, 'container')) return;
    c.cg.limits(t, c.ctrId, 'created');
    await c.runtime('UpdateContainerResources', { container_id: c.ctrId, linux: UPDATED });
    c.cg.limits(t, c.ctrId, 'updated');
    const st = await c.runtime('ContainerStatus', { container_id: c.ctrId });
    t.equal(
      st.status.resources?.linux?.memory_limit_in_bytes,
      UPDATED.memory_limit_in_bytes,
      'ContainerStatus reports the new limit',
    );
    t.equal(c.tsrunState(c.ctrId).status, 'running', 'the container still runs');
  });
}

function statsStep(t: Test, c: Cri): void {
  t.test("ContainerStats: the shim's metrics of the container's cgroup", async (t) => {
    if (missingFrom(t, c.ctrId, 'container')) return;
    const { stats } = await c.runtime('ContainerStats', { container_id: c.ctrId });
    t.equal(stats?.attributes?.id, c.ctrId, 'the stats of that container');
    t.equal(stats?.attributes?.metadata?.name, 'app', 'its metadata');
    t.ok(
      stats?.cpu?.usage_core_nano_seconds?.value > 0,
      `cpu time used: ${stats?.cpu?.usage_core_nano_seconds?.value}`,
    );
    const ws = stats?.memory?.working_set_bytes?.value;
    t.ok(ws > 0, `a working set: ${ws}`);
    t.ok(stats?.memory?.usage_bytes?.value >= ws, 'usage includes the working set');
    t.equal(
      ws + stats?.memory?.available_bytes?.value,
      UPDATED.memory_limit_in_bytes,
      'working set + available = the updated limit: read from the container cgroup',
    );
  });
}

function removeStep(t: Test, c: Cri): void {
  t.test('stop and remove everything; nothing is left', async (t) => {
    if (missingFrom(t, c.ctrId, 'container')) return;
    await c.runtime('StopContainer', { container_id: c.ctrId, timeout: 10 });
    const st = await c.runtime('ContainerStatus', { container_id: c.ctrId });
    t.equal(st.status.state, 'CONTAINER_EXITED');
    t.equal(st.status.exit_code, 0, 'SIGTERM reached the trap: exit 0, not a kill');
    await c.runtime('RemoveContainer', { container_id: c.ctrId });
    await c.runtime('StopPodSandbox', { pod_sandbox_id: c.podId });
    t.equal((await c.runtime('PodSandboxStatus', { pod_sandbox_id: c.podId })).status.state, 'SANDBOX_NOTREADY');
    t.notOk(existsSync(c.netnsPath), 'StopPodSandbox removed the netns file');
    await c.runtime('RemovePodSandbox', { pod_sandbox_id: c.podId });

    t.same((await c.runtime('ListContainers')).containers, [], 'CRI lists no container');
    t.same((await c.runtime('ListPodSandbox')).items, [], 'CRI lists no pod');
    await waitFor(() => c.shims().length === 0, POLL);
    t.same(c.shims(), [], "the pod's shim exited");
    t.same(
      [...c.processes].filter((p) => processId(Number(p.split(':')[0])) === p),
      [],
      'no process of the pod is left',
    );
    t.same(existsSync(c.tsrunRoot) ? readdirSync(c.tsrunRoot) : [], [], "no state left in the shim's tsrun root");
    execFileSync('umount', [c.volume]);
    t.same(mountsUnder([c.dir]), [], 'no mount left under the test dir (rootfs, shm, volume)');
    c.cg.gone(t, [c.podId, c.ctrId]);
    c.podId = '';
  });
}
