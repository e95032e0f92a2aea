// Kubernetes reaches a low-level runtime only through containerd's CRI
// plugin and the runc shim: a RuntimeClass handler names a runtime in
// containerd's config whose BinaryName is tsrun. This test is kubelet's side
// of that: a private containerd with its CRI plugin (daemons.sh
// start-containerd-cri), spoken to with a CRI client of our own
// (cri/client.ts), runs a pod with its own network namespace, a container in
// it, its logs, ExecSync, UpdateContainerResources, then stops and removes
// it all and checks that nothing is left.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, TSRUN, mountsUnder } from '../helpers/harness';
import { DAEMONS, missing, sh, scratch, ociImageTar, cgroupParent, cgroupsLeft } from './client-env';
import { criClient, type Msg } from './cri/client';
import { waitFor } from '../helpers/wait';

const NEEDED = [
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
const MiB = 1024 * 1024;

/** How the CRI tests poll: the daemons and the shim take their time on a loaded machine. */
const POLL = { timeoutMs: 15000, intervalMs: 50 };

/** A process's identity: its pid and start time, so a reused pid is not mistaken for it. */
function processId(pid: number): string | undefined {
  try {
    return `${pid}:${readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]}`;
  } catch {
    return undefined;
  }
}

/** Every cgroup dir below `parent` in every hierarchy (the cgroups the runtime made and left). */
function cgroupsBelow(parent: string): string[] {
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const top = join('/sys/fs/cgroup', h, parent);
    if (!existsSync(top)) continue;
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) {
          found.push(join(d, e.name));
          walk(join(d, e.name));
        }
      }
    };
    walk(top);
  }
  return found;
}

/** Fail (once, saying why) instead of running a step whose pod or container an earlier step did not make. */
function missingFrom(t: { fail(msg: string): unknown }, id: string, what: string): boolean {
  if (!id) t.fail(`no ${what}: an earlier step failed`);
  return !id;
}

/** The JSON containerd returns as the verbose status's "info". */
const info = (res: Msg): Msg => JSON.parse(res.info?.info ?? '{}') as Msg;

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (missing(NEEDED).length > 0) {
  t.plan(
    0,
    `needs ${missing(NEEDED).join(', ')} (Debian: apt-get install containerd umoci iproute2 containernetworking-plugins; hack/setup.sh installs them)`,
  );
} else {
  const dir = scratch(t, 'tsrun-cri-');
  const cgParent = cgroupParent(t, 'tsrun-cri');
  // Registered first: a start that fails half-way (after making the CNI device) is undone too.
  t.teardown(() => {
    execFileSync(DAEMONS, ['stop', dir]);
  });
  const cri = criClient(join(dir, 'containerd.sock'));
  const runtime = (method: string, req?: Msg) => cri.call('RuntimeService', method, req);
  // The shim runs `tsrun --root <Root>/<namespace>`; CRI's namespace is k8s.io.
  const tsrunRoot = join(dir, 'tsrun-root', 'k8s.io');
  const tsrunState = (id: string): Msg =>
    JSON.parse(sh(TSRUN, ['--root', tsrunRoot, 'state', id]).stdout || '{}') as Msg;
  /** Remember every process of a container (tsrun ps: the pids in its cgroup), to check at the end that none is left. */
  const processes = new Set<string>();
  const remember = (id: string) => {
    const pids = JSON.parse(sh(TSRUN, ['--root', tsrunRoot, 'ps', '--format', 'json', id]).stdout || '[]') as number[];
    for (const pid of pids) processes.add(processId(pid) ?? `${pid}:gone`);
    return pids;
  };
  const shims = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${dir}/containerd.sock\0`);
        } catch {
          return false;
        }
      });

  const logDir = join(dir, 'pod-logs');
  // A hostPath volume with HOST_TO_CONTAINER propagation: CRI wants its
  // source on a shared (or slave) mount, which / is not here, so it is a
  // shared bind mount of its own (daemons.sh stop unmounts it whatever happens).
  const volume = join(dir, 'volume');
  // kubelet's defaults for a pod: the pod's own network and IPC namespaces, a pid namespace per container.
  const namespaces = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' };
  const podConfig: Msg = {
    metadata: { name: 'tsrun-pod', uid: `uid-${process.pid}`, namespace: 'default', attempt: 0 },
    hostname: 'tsrun-pod',
    log_directory: logDir,
    labels: { test: 'tsrun-cri' },
    linux: {
      cgroup_parent: cgParent,
      security_context: { namespace_options: namespaces },
    },
  };
  let podId = '';
  let ctrId = '';
  let netnsPath = '';

  // Whatever failed: the pod goes before containerd does, and its netns file with it.
  t.teardown(async () => {
    if (podId) {
      await runtime('StopPodSandbox', { pod_sandbox_id: podId }).catch(() => undefined);
      await runtime('RemovePodSandbox', { pod_sandbox_id: podId }).catch(() => undefined);
    }
    cri.close();
    if (netnsPath && existsSync(netnsPath)) {
      sh('umount', [netnsPath]);
      sh('rm', ['-f', netnsPath]);
    }
  });

  let started = '';
  t.test('containerd starts with its CRI plugin', async (t) => {
    // In a subtest, not at the top: a failure here must still reach the teardowns.
    const r = sh(DAEMONS, ['start-containerd-cri', dir, TSRUN, PAUSE], { timeout: 120000 });
    t.equal(r.code, 0, `daemons.sh start-containerd-cri: ${r.stderr}`);
    if (r.code === 0) started = 'yes';
  });

  t.test('images from a local OCI layout, seen by the CRI', async (t) => {
    if (missingFrom(t, started, 'containerd')) return;
    const r = sh('ctr', [
      '-a',
      join(dir, 'containerd.sock'),
      '-n',
      'k8s.io',
      'image',
      'import',
      '--base-name',
      'localhost/busybox',
      ociImageTar(dir, { pause: PAUSE_CONFIG }),
    ]);
    t.equal(r.code, 0, `ctr -n k8s.io image import: ${r.stderr}`);
    const v = await runtime('Version', { version: 'v1' });
    t.equal(v.runtime_name, 'containerd');
    t.equal(v.runtime_api_version, 'v1');
    for (const image of [IMAGE, PAUSE]) {
      const st = await cri.call('ImageService', 'ImageStatus', { image: { image } });
      t.ok(st.image?.repo_tags?.includes(image), `ImageStatus knows ${image}: ${JSON.stringify(st.image?.repo_tags)}`);
    }
  });

  t.test('RunPodSandbox: handler tsrun, its own network namespace', async (t) => {
    if (missingFrom(t, started, 'containerd')) return;
    const res = await runtime('RunPodSandbox', { config: podConfig, runtime_handler: 'tsrun' });
    podId = res.pod_sandbox_id;
    t.ok(podId, 'a sandbox id');
    const st = await runtime('PodSandboxStatus', { pod_sandbox_id: podId, verbose: true });
    t.equal(st.status.state, 'SANDBOX_READY');
    t.equal(st.status.runtime_handler, 'tsrun');
    t.equal(st.status.network?.ip, POD_IP, "the CNI result's address");
    const i = info(st);
    netnsPath = ((i.runtimeSpec?.linux?.namespaces ?? []) as Msg[]).find((n) => n.type === 'network')?.path ?? '';
    t.match(
      netnsPath,
      /^\/var\/run\/netns\/cni-/,
      "the spec's network namespace is containerd's bind-mounted netns file",
    );

    const state = tsrunState(podId);
    t.equal(state.status, 'running', "tsrun state in the shim's root: the pause container runs");
    t.equal(state.pid, i.pid, 'containerd and tsrun agree on its pid');
    t.ok(remember(podId).includes(state.pid), 'tsrun ps lists it');
    t.equal(shims().length, 1, 'one runc shim runs the pod');
    t.equal(
      statSync(`/proc/${state.pid}/ns/net`).ino,
      statSync(netnsPath).ino,
      'the pause process is in that network namespace',
    );
    t.ok(cgroupsLeft(cgParent, podId).length > 0, "the sandbox's cgroup is below the pod's cgroup_parent");
  });

  t.test('CreateContainer, StartContainer, logs', async (t) => {
    if (missingFrom(t, podId, 'pod')) return;
    mkdirSync(volume);
    execFileSync('mount', ['--bind', volume, volume]);
    execFileSync('mount', ['--make-rshared', volume]);
    const config: Msg = {
      metadata: { name: 'app', attempt: 0 },
      image: { image: IMAGE },
      command: ['/bin/sh', '-c'],
      args: ['echo hello from tsrun; echo to-stderr >&2; trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'],
      envs: [{ key: 'GREETING', value: 'hi' }],
      mounts: [{ container_path: '/volume', host_path: volume, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }],
      log_path: 'app/0.log',
      linux: {
        resources: { memory_limit_in_bytes: 64 * MiB, cpu_shares: 512 },
        security_context: { namespace_options: namespaces },
      },
    };
    const res = await runtime('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: podConfig });
    ctrId = res.container_id;
    t.ok(ctrId, 'a container id');
    await runtime('StartContainer', { container_id: ctrId });
    const st = await runtime('ContainerStatus', { container_id: ctrId, verbose: true });
    t.equal(st.status.state, 'CONTAINER_RUNNING');
    t.equal(st.status.log_path, join(logDir, 'app/0.log'));
    const state = tsrunState(ctrId);
    t.equal(state.status, 'running');
    t.equal(state.pid, info(st).pid, 'containerd and tsrun agree on its pid');
    t.ok(cgroupsLeft(cgParent, ctrId).length > 0, "the container's cgroup is below the pod's cgroup_parent");

    // CRI log format: "<RFC3339Nano time> <stream> <F|P> <line>".
    const logFile = join(logDir, 'app/0.log');
    const log = await waitFor(() => {
      const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      return /to-stderr/.test(text) && /hello from tsrun/.test(text) ? text : '';
    }, POLL);
    t.match(log, /^\d{4}-\d\d-\d\dT\S+ stdout F hello from tsrun$/m, 'stdout line in the CRI log');
    t.match(log, /^\d{4}-\d\d-\d\dT\S+ stderr F to-stderr$/m, 'stderr line in the CRI log');
    const pids = await waitFor(() => {
      const now = remember(ctrId);
      return now.length >= 2 ? now : undefined;
    }, POLL);
    t.ok(pids?.includes(state.pid), `tsrun ps lists its shell and the sleep it started: ${JSON.stringify(pids)}`);
  });

  t.test('the container is in the pod', async (t) => {
    if (missingFrom(t, ctrId, 'container')) return;
    const exec = async (...cmd: string[]) => {
      const r = await runtime('ExecSync', { container_id: ctrId, cmd, timeout: 20 });
      return { code: r.exit_code as number, out: String(r.stdout), err: String(r.stderr) };
    };
    const net = await exec('readlink', '/proc/self/ns/net');
    t.equal(
      net.out.trim(),
      `net:[${statSync(netnsPath).ino}]`,
      "the container joined the pod's network namespace (by its path)",
    );
    const addr = await exec('ip', '-o', '-4', 'addr', 'show', 'eth0');
    t.match(addr.out, new RegExp(`inet ${POD_IP.replace(/\./g, '\\.')}/24`), "the pod's eth0 and address, seen inside");
    const pause = tsrunState(podId).pid as number;
    const ipc = await exec('readlink', '/proc/self/ns/ipc');
    t.equal(ipc.out.trim(), `ipc:[${statSync(`/proc/${pause}/ns/ipc`).ino}]`, "the pod's IPC namespace");
    const pid = await exec('readlink', '/proc/self/ns/pid');
    t.not(
      pid.out.trim(),
      `pid:[${statSync(`/proc/${pause}/ns/pid`).ino}]`,
      "its own pid namespace (CONTAINER), not the pause's",
    );
    t.not(pid.out.trim(), `pid:[${statSync('/proc/self/ns/pid').ino}]`, "nor the host's");
    const env = await exec('sh', '-c', 'echo $GREETING; hostname');
    t.equal(env.out, 'hi\ntsrun-pod\n', "the config's env and the pod's hostname");
  });

  t.test('HOST_TO_CONTAINER volume: rslave, host mounts propagate in', async (t) => {
    if (missingFrom(t, ctrId, 'container')) return;
    const spec = info(await runtime('ContainerStatus', { container_id: ctrId, verbose: true })).runtimeSpec as Msg;
    t.equal(
      spec?.linux?.rootfsPropagation,
      'rslave',
      "CRI asked for an rslave rootfs (the volume's propagation needs it)",
    );
    const mountinfo = async () =>
      String(
        (await runtime('ExecSync', { container_id: ctrId, cmd: ['cat', '/proc/self/mountinfo'], timeout: 20 })).stdout,
      );
    const line = (text: string, target: string) => text.split('\n').find((l) => l.split(' ')[4] === target) ?? '';
    t.match(line(await mountinfo(), '/volume'), / master:\d+/, 'the volume is a slave mount in the container');
    const late = join(volume, 'late');
    mkdirSync(late);
    execFileSync('mount', ['-t', 'tmpfs', 'tsrun-cri-late', late]);
    t.ok(
      await waitFor(async () => line(await mountinfo(), '/volume/late'), POLL),
      'a mount made on the host afterwards appears in the container',
    );
    execFileSync('umount', [late]);
    t.ok(await waitFor(async () => !line(await mountinfo(), '/volume/late'), POLL), 'and its unmount too');
  });

  t.test('ExecSync: stdout, stderr, exit code', async (t) => {
    if (missingFrom(t, ctrId, 'container')) return;
    const r = await runtime('ExecSync', {
      container_id: ctrId,
      cmd: ['sh', '-c', 'echo out-line; echo err-line >&2; exit 3'],
      timeout: 20,
    });
    t.equal(String(r.stdout), 'out-line\n');
    t.equal(String(r.stderr), 'err-line\n');
    t.equal(r.exit_code, 3);
    const ok = await runtime('ExecSync', { container_id: ctrId, cmd: ['true'], timeout: 20 });
    t.equal(ok.exit_code, 0, 'exit code 0');
  });

  t.test('UpdateContainerResources reaches the cgroup', async (t) => {
    if (missingFrom(t, ctrId, 'container')) return;
    const memory = join('/sys/fs/cgroup/memory', cgParent, ctrId);
    const cpu = join('/sys/fs/cgroup/cpu', cgParent, ctrId);
    const read = (f: string) => readFileSync(f, 'utf8').trim();
    t.equal(read(join(memory, 'memory.limit_in_bytes')), String(64 * MiB), 'the limit it was created with');
    t.equal(read(join(cpu, 'cpu.shares')), '512', 'the shares it was created with');
    await runtime('UpdateContainerResources', {
      container_id: ctrId,
      linux: { memory_limit_in_bytes: 128 * MiB, cpu_shares: 256, cpu_period: 100000, cpu_quota: 50000 },
    });
    t.equal(read(join(memory, 'memory.limit_in_bytes')), String(128 * MiB), 'memory.limit_in_bytes updated');
    t.equal(read(join(cpu, 'cpu.shares')), '256', 'cpu.shares updated');
    t.equal(read(join(cpu, 'cpu.cfs_period_us')), '100000', 'cpu.cfs_period_us updated');
    t.equal(read(join(cpu, 'cpu.cfs_quota_us')), '50000', 'cpu.cfs_quota_us updated');
    const st = await runtime('ContainerStatus', { container_id: ctrId });
    t.equal(st.status.resources?.linux?.memory_limit_in_bytes, 128 * MiB, 'ContainerStatus reports the new limit');
    t.equal(tsrunState(ctrId).status, 'running', 'the container still runs');
  });

  t.test('stop and remove everything; nothing is left', async (t) => {
    if (missingFrom(t, ctrId, 'container')) return;
    await runtime('StopContainer', { container_id: ctrId, timeout: 10 });
    const st = await runtime('ContainerStatus', { container_id: ctrId });
    t.equal(st.status.state, 'CONTAINER_EXITED');
    t.equal(st.status.exit_code, 0, 'SIGTERM reached the trap: exit 0, not a kill');
    await runtime('RemoveContainer', { container_id: ctrId });
    await runtime('StopPodSandbox', { pod_sandbox_id: podId });
    t.equal((await runtime('PodSandboxStatus', { pod_sandbox_id: podId })).status.state, 'SANDBOX_NOTREADY');
    t.notOk(existsSync(netnsPath), 'StopPodSandbox removed the netns file');
    await runtime('RemovePodSandbox', { pod_sandbox_id: podId });

    t.same((await runtime('ListContainers')).containers, [], 'CRI lists no container');
    t.same((await runtime('ListPodSandbox')).items, [], 'CRI lists no pod');
    await waitFor(() => shims().length === 0, POLL);
    t.same(shims(), [], "the pod's shim exited");
    t.same(
      [...processes].filter((p) => processId(Number(p.split(':')[0])) === p),
      [],
      'no process of the pod is left',
    );
    t.same(existsSync(tsrunRoot) ? readdirSync(tsrunRoot) : [], [], "no state left in the shim's tsrun root");
    execFileSync('umount', [volume]);
    t.same(mountsUnder([dir]), [], 'no mount left under the test dir (rootfs, shm, volume)');
    t.same(cgroupsBelow(cgParent), [], 'no cgroup left below the pod cgroup_parent');
    podId = '';
  });
}
