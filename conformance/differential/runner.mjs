// Runs one bundle variant under one runc-compatible runtime and collects what
// happened, raw: whether `create` accepted the config, `start`'s status, the
// container's exit status, the probe's stdout and the hooks' records.
// Everything is made under the harness's temp dir and its own cgroup parent;
// each container is deleted (--force) whatever happened.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { baseConfig } from '../lib/config.mjs';
import { runtimeEnv } from '../lib/runtime.mjs';

const TIMEOUT_MS = 30000;

/** Run `file ...args` with stdio going to the given files; resolves {code, signal, timedOut}. */
function exec(file, args, { stdout, stderr }) {
  const stdin = fs.openSync('/dev/null', 'r');
  const out = fs.openSync(stdout, 'a');
  const err = fs.openSync(stderr, 'a');
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: runtimeEnv(),
      stdio: [stdin, out, err],
    });
    for (const fd of [stdin, out, err]) fs.closeSync(fd);
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

/** A process holding new namespaces (unshare FLAGS sleep); resolves to its pid once unshare has exec'd sleep. */
async function startHolder(flags) {
  const child = spawn('unshare', [...flags, '/bin/sleep', '1000'], { stdio: 'ignore', detached: true });
  child.unref();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      if (fs.readlinkSync(`/proc/${child.pid}/exe`).endsWith('/sleep')) return child.pid;
    } catch {}
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {}
  throw new Error(`unshare ${flags.join(' ')} did not start`);
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
  config.process.args = ['/probe'];
  const holders = [];
  const ctx = {
    rootfs: suite.rootfs,
    bundle,
    rootDevice: suite.rootDevice,
    hostDir: (name) => hostDir(bundle, name),
    hook: (name) => hook(bundle, name),
    holder: async (name, flags, idMap) => {
      const pid = await startHolder(flags);
      holders.push({ name, pid });
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
    const record = { bundle, id, cgroupsPath, holders: holderInodes(holders) };
    await lifecycle(runtime, suite, bundle, id, record);
    return record;
  } finally {
    await exec(runtime.binary, ['--root', runtime.stateRoot, 'delete', '--force', id], files(bundle, 'cleanup'));
    for (const h of holders)
      try {
        process.kill(h.pid, 'SIGKILL');
      } catch {}
  }
}

/**
 * create, then start (as one reaper run: the container's exit status is
 * reaped there), then delete: whether create accepted the config, start's
 * status, the container's exit status, the probe's output and the hooks' records.
 */
async function lifecycle(runtime, suite, bundle, id, record) {
  const report = path.join(bundle, 'reaper');
  const pidFile = path.join(bundle, 'pid');
  const rt = [runtime.binary, '--root', runtime.stateRoot];
  const create = [...rt, 'create', '--bundle', bundle, '--pid-file', pidFile, id];
  await exec(suite.reaper, [report, pidFile, '--', ...create, '--', ...rt, 'start', id], files(bundle, 'container'));
  const steps = Object.fromEntries(
    read(report)
      .split('\n')
      .filter(Boolean)
      .map((l) => l.match(/^(cmd \d+|container) (.*)$/)?.slice(1) ?? ['?', l]),
  );
  record.accepted = steps['cmd 0'] === 'exit 0';
  record.create = steps['cmd 0'] ?? 'did not finish';
  if (record.accepted) {
    record.start = steps['cmd 1'] ?? 'did not finish';
    record.exit = steps.container ?? 'did not finish';
  }
  await exec(runtime.binary, ['--root', runtime.stateRoot, 'delete', id], files(bundle, 'delete'));
  record.stdout = read(path.join(bundle, 'container.stdout'));
  record.stderr = read(path.join(bundle, 'container.stderr'));
  record.hooks = hookRecords(bundle);
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
