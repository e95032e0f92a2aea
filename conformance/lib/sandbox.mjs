// One clause's scratch space: bundles, container ids, host resources to
// undo. Everything it hands out is released by cleanup(), pass or fail.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { baseConfig } from './config.mjs';
import { fail, mustSucceed, parseMountinfo } from './check.mjs';

export class Sandbox {
  constructor(suite, name) {
    this.suite = suite;
    this.rt = suite.runtime;
    this.dir = fs.mkdtempSync(path.join(suite.base, `${name.replace(/[^\w.-]/g, '_')}-`));
    // Traversable by any uid: a container in a user namespace mounts from here.
    fs.chmodSync(this.dir, 0o755);
    this.ids = [];
    this.pids = [];
    this.mounts = [];
    this.cleanups = [];
  }

  newId() {
    return `conf-${process.pid}-${++this.suite.counter}`;
  }

  /** A bundle with its own config (base template), id, out dir and cgroupsPath. */
  bundle({ privateRootfs = false } = {}) {
    const id = this.newId();
    const dir = path.join(this.dir, id);
    const outDir = path.join(dir, 'out');
    fs.mkdirSync(outDir, { recursive: true });
    fs.chmodSync(outDir, 0o777);
    let rootfs = this.suite.rootfs;
    if (privateRootfs) {
      rootfs = path.join(dir, 'rootfs');
      cp(this.suite.rootfs, rootfs);
    }
    const cgroupsPath = `tsrun-conformance-${id}`;
    const config = baseConfig({ rootfs, outDir, cgroupsPath });
    return {
      id,
      dir,
      outDir,
      rootfs,
      cgroupsPath,
      config,
      stdoutPath: path.join(dir, 'stdout'),
      stderrPath: path.join(dir, 'stderr'),
    };
  }

  writeConfig(b) {
    fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(b.config, null, 2));
  }

  /** `create` with the container's stdio going to files in the bundle. */
  create(b, { id = b.id, wrap, extraArgs = [] } = {}) {
    this.writeConfig(b);
    if (!this.ids.includes(id)) this.ids.push(id);
    const out = fs.openSync(b.stdoutPath, 'a');
    const err = fs.openSync(b.stderrPath, 'a');
    try {
      return this.rt.exec(['create', '--bundle', b.dir, '--pid-file', path.join(b.dir, 'pid'), ...extraArgs, id], {
        stdio: ['ignore', out, err],
        wrap,
      });
    } finally {
      fs.closeSync(out);
      fs.closeSync(err);
    }
  }

  start(id) {
    return this.rt.exec(['start', id]);
  }
  kill(id, signal) {
    return this.rt.exec(signal ? ['kill', id, signal] : ['kill', id]);
  }
  delete(id, force = false) {
    return this.rt.exec(force ? ['delete', '--force', id] : ['delete', id]);
  }
  state(id) {
    return this.rt.state(id);
  }
  waitStatus(id, want, ms) {
    return this.rt.waitStatus(id, want, ms);
  }

  /** Full lifecycle; returns what the container wrote to stdout and stderr. */
  async run(b, opts = {}) {
    const c = this.create(b, opts);
    if (c.code !== 0) fail(`create failed (${c.code}): ${this.stderr(b).trim().slice(-400)}`);
    mustSucceed(this.start(b.id), 'start');
    await this.waitStatus(b.id, 'stopped');
    mustSucceed(this.delete(b.id), 'delete');
    return { stdout: this.stdout(b), stderr: this.stderr(b) };
  }

  /** Run a shell script as the container process; returns its stdout. */
  async script(b, script) {
    b.config.process.args = ['/bin/sh', '-c', script];
    return (await this.run(b)).stdout;
  }

  /** Create + start a long-running container; returns its state. */
  async runDetached(b, opts = {}) {
    const c = this.create(b, opts);
    if (c.code !== 0) fail(`create failed (${c.code}): ${this.stderr(b).trim().slice(-400)}`);
    mustSucceed(this.start(b.id), 'start');
    return this.waitStatus(b.id, ['running', 'stopped']);
  }

  stdout(b) {
    return readOr(b.stdoutPath, '');
  }
  stderr(b) {
    return readOr(b.stderrPath, '');
  }
  out(b, name) {
    return readOr(path.join(b.outDir, name), null);
  }

  /** A host process to clean up (e.g. a namespace holder). */
  trackPid(pid) {
    this.pids.push(pid);
  }
  /** A host mount point to unmount at cleanup. */
  trackMount(p) {
    this.mounts.push(p);
  }
  onCleanup(fn) {
    this.cleanups.push(fn);
  }

  cleanup() {
    for (const id of this.ids) {
      if (this.rt.state(id)) this.rt.exec(['delete', '--force', id]);
    }
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (const fn of this.cleanups.reverse()) {
      try {
        fn();
      } catch {}
    }
    for (const m of this.mounts.reverse()) spawnSync('umount', ['-l', m]);
    // Never recurse into a mount a runtime may have leaked under our dir.
    const leaked = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
      .map((e) => e.mountPoint)
      .filter((m) => m.startsWith(this.dir + '/'))
      .sort((a, b) => b.length - a.length);
    for (const m of leaked) spawnSync('umount', ['-l', m]);
    fs.rmSync(this.dir, { recursive: true, force: true });
    return leaked;
  }
}

export function cp(from, to) {
  const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr}`);
}

function readOr(p, dflt) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return dflt;
  }
}
