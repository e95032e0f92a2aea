// Runs one bundle variant under one runc-compatible runtime and collects what
// happened, raw: whether `create` accepted the config, `start`'s status, the
// container's exit status, the probe's stdout and the hooks' records.
// Everything is made under the harness's temp dir and its own cgroup parent;
// each container is deleted (--force) whatever happened.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseConfig } from '../lib/config.mjs';
import { runtimeEnv } from '../lib/runtime.mjs';

const TIMEOUT_MS = 30000;
const CONSOLE = fileURLToPath(new URL('./console.py', import.meta.url));

/**
 * Run `file ...args` with stdio going to the given files (and `extra` open
 * descriptors from fd 3 on, which it closes); resolves {code, signal, timedOut}.
 */
function exec(file, args, { stdout, stderr }, extra = []) {
  const stdin = fs.openSync('/dev/null', 'r');
  const out = fs.openSync(stdout, 'a');
  const err = fs.openSync(stderr, 'a');
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: runtimeEnv(),
      stdio: [stdin, out, err, ...extra],
    });
    for (const fd of [stdin, out, err, ...extra]) fs.closeSync(fd);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, timedOut, error: e.message });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut });
    });
  });
}

/**
 * A process holding new namespaces (unshare FLAGS sleep); resolves to
 * { pid, group } once sleep runs: pid is sleep's (with --fork unshare's child,
 * the first process of a new pid namespace), group the process group to kill.
 */
async function startHolder(flags) {
  const child = spawn('unshare', [...flags, '/bin/sleep', '1000'], { stdio: 'ignore', detached: true });
  child.unref();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const pid = [child.pid, ...childrenOf(child.pid)].find(isSleep);
    if (pid) return { pid, group: child.pid };
    await new Promise((r) => setTimeout(r, 10));
  }
  killGroup(child.pid);
  throw new Error(`unshare ${flags.join(' ')} did not start`);
}

function childrenOf(pid) {
  return read(`/proc/${pid}/task/${pid}/children`).split(' ').filter(Boolean).map(Number);
}

function isSleep(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`).endsWith('/sleep');
  } catch {
    return false;
  }
}

function killGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {}
}

const NS_FILES = { network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', pid: 'pid', user: 'user', cgroup: 'cgroup' };

/**
 * One runtime under test: `binary` (a path), its name in reports, and a
 * state root of its own in the harness's temp dir.
 */
export class Runtime {
  constructor(name, binary, base) {
    this.name = name;
    this.binary = binary;
    this.stateRoot = path.join(base, `state-${name}`);
    fs.mkdirSync(this.stateRoot, { recursive: true });
  }
}

/**
 * Run `variant` (variants.mjs) under `runtime`. suite: { base, rootfs,
 * cgroupParent, rootDevice, reaper }. Resolves to the raw record the normaliser reads.
 */
export async function runVariant(suite, runtime, variant) {
  const bundle = path.join(suite.base, runtime.name, variant.name);
  const outDir = path.join(bundle, 'out');
  fs.mkdirSync(path.join(bundle, 'hooks'), { recursive: true });
  fs.mkdirSync(outDir, { recursive: true });
  fs.chmodSync(bundle, 0o755);
  fs.chmodSync(outDir, 0o777);
  const cgroupsPath = `${suite.cgroupParent}/${runtime.name}-${variant.name}`;
  const config = baseConfig({ rootfs: suite.rootfs, outDir, cgroupsPath });
  // An exec variant probes the exec'd process: the container's own just waits to be killed.
  config.process.args = variant.exec ? ['/bin/sleep', '1000'] : ['/probe'];
  const holders = [];
  const ctx = {
    rootfs: suite.rootfs,
    bundle,
    rootDevice: suite.rootDevice,
    hostDir: (name) => hostDir(bundle, name),
    hook: (name) => hook(bundle, name),
    holder: async (name, flags, idMap) => {
      const { pid, group } = await startHolder(flags);
      holders.push({ name, pid, group });
      // Root of the parent namespace may write any map of a child user namespace (no newuidmap needed).
      if (idMap) for (const f of ['uid_map', 'gid_map']) fs.writeFileSync(`/proc/${pid}/${f}`, idMap);
      return pid;
    },
  };
  const id = `diff-${process.pid}-${runtime.name}-${variant.name}`;
  try {
    try {
      await variant.edit(config, ctx);
    } catch (e) {
      return { bundle, id, setupError: e.message };
    }
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config, null, 2));
    if (variant.exec?.process) fs.writeFileSync(processFile(bundle), JSON.stringify(variant.exec.process(config)));
    const record = { bundle, id, cgroupsPath, holders: holderInodes(holders) };
    await lifecycle(runtime, suite, { bundle, id, variant }, record);
    return record;
  } finally {
    await exec(runtime.binary, ['--root', runtime.stateRoot, 'delete', '--force', id], files(bundle, 'cleanup'));
    for (const h of holders) killGroup(h.group);
  }
}

/**
 * create, then start (and for an exec variant exec, then kill), as one reaper
 * run: the container's exit status is reaped there; then delete. Records
 * whether create accepted the config, each step's status, the container's exit
 * status, the probe's output (from the pty master with process.terminal) and
 * the hooks' records.
 */
async function lifecycle(runtime, suite, run, record) {
  const { bundle, variant } = run;
  const report = path.join(bundle, 'reaper');
  const reaper = [suite.reaper, report, path.join(bundle, 'pid'), ...steps(runtime, run).flatMap((s) => ['--', ...s])];
  const command = variant.taskset ? ['taskset', '-c', variant.taskset, ...reaper] : reaper;
  const terminal = variant.terminal ? await startConsole(bundle) : null;
  await exec(command[0], command.slice(1), files(bundle, 'container'), preservedFds(bundle, variant));
  await terminal?.done();
  const status = Object.fromEntries(
    read(report)
      .split('\n')
      .filter(Boolean)
      .map((l) => l.match(/^(cmd \d+|container) (.*)$/)?.slice(1) ?? ['?', l]),
  );
  record.accepted = status['cmd 0'] === 'exit 0';
  record.create = status['cmd 0'] ?? 'did not finish';
  if (record.accepted) {
    record.start = status['cmd 1'] ?? 'did not finish';
    if (variant.exec) record.exec = status['cmd 2'] ?? 'did not finish';
    record.exit = status.container ?? 'did not finish';
  }
  await exec(runtime.binary, ['--root', runtime.stateRoot, 'delete', run.id], files(bundle, 'delete'));
  record.stdout = read(path.join(bundle, variant.terminal ? 'console.out' : 'container.stdout'));
  record.stderr = read(path.join(bundle, 'container.stderr'));
  record.hooks = hookRecords(bundle);
}

/** The runtime commands the reaper runs in turn: create and start; exec and kill for an exec variant. */
function steps(runtime, { bundle, id, variant }) {
  const rt = [runtime.binary, '--root', runtime.stateRoot];
  const consoleSocket = variant.terminal ? ['--console-socket', path.join(bundle, 'console.sock')] : [];
  const create = [...rt, 'create', '--bundle', bundle, '--pid-file', path.join(bundle, 'pid'), ...consoleSocket, id];
  const list = [create, [...rt, 'start', id]];
  const x = variant.exec;
  if (x) {
    const flags = [...(x.process ? ['--process', processFile(bundle)] : []), ...(x.flags ?? [])];
    list.push([...rt, 'exec', ...flags, id, ...(x.process ? [] : (x.args ?? ['/probe']))], [...rt, 'kill', id, 'KILL']);
  }
  return list;
}

function processFile(bundle) {
  return path.join(bundle, 'process.json');
}

/** exec.preserveFds files opened for the reaper's run as fds 3..., for exec --preserve-fds. */
function preservedFds(bundle, variant) {
  const n = variant.exec?.preserveFds ?? 0;
  return Array.from({ length: n }, (_, i) => fs.openSync(path.join(bundle, `preserved-${i}`), 'w'));
}

/**
 * console.py listening on the bundle's console.sock (ready once the socket
 * exists); done() resolves when it has copied the terminal's output to
 * console.out, or kills it after a while (create failed: nothing was sent).
 */
async function startConsole(bundle) {
  const sock = path.join(bundle, 'console.sock');
  const child = spawn('python3', [CONSOLE, sock, path.join(bundle, 'console.out'), '20'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  for (let i = 0; i < 500 && !fs.existsSync(sock) && child.exitCode === null; i++)
    await new Promise((r) => setTimeout(r, 10));
  const done = async () => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { done };
}

function files(bundle, step) {
  return { stdout: path.join(bundle, `${step}.stdout`), stderr: path.join(bundle, `${step}.stderr`) };
}

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A host directory with a file in it, for bind mounts. */
function hostDir(bundle, name) {
  const dir = path.join(bundle, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'file'), 'probe\n');
  return dir;
}

/** A hook that appends its name to out/hook-order and keeps the state it was given. */
function hook(bundle, name) {
  const order = path.join(bundle, 'out', 'hook-order');
  const state = path.join(bundle, 'hooks', `${name}.json`);
  return { path: '/bin/sh', args: ['sh', '-c', `echo ${name} >> ${order}; cat > ${state}`], env: ['HOOK=1'] };
}

function hookRecords(bundle) {
  const out = { order: read(path.join(bundle, 'out', 'hook-order')) };
  for (const f of fs.readdirSync(path.join(bundle, 'hooks')).sort()) out[f] = read(path.join(bundle, 'hooks', f));
  return out;
}

/** inode of each holder's namespace → "holder:NAME", so the normaliser can name joined namespaces. */
function holderInodes(holders) {
  const map = {};
  for (const { name, pid } of holders)
    for (const file of Object.values(NS_FILES)) {
      const link = fs.readlinkSync(`/proc/${pid}/ns/${file}`);
      if (link !== fs.readlinkSync(`/proc/self/ns/${file}`)) map[link] = `holder:${name}`;
    }
  return map;
}
