// Drives an OCI runtime binary through runc's command line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Resolve RUNTIME: a path (contains '/') relative to cwd, or a name on PATH. */
export function resolveRuntime(spec) {
  if (spec.includes('/')) {
    const p = path.resolve(spec);
    if (!fs.existsSync(p)) throw new Error(`runtime ${spec} not found (${p})`);
    return p;
  }
  for (const dir of (process.env.PATH || '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, spec);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  throw new Error(`runtime ${spec} not found on PATH`);
}

/** The environment every runtime command gets: NODE_EXTRA_CA_CERTS costs each node start ~37 ms. */
export function runtimeEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  // A marker the container's environment must not inherit.
  env.CONFORMANCE_RUNTIME_ENV = '1';
  return env;
}

export class Runtime {
  constructor(binary, stateRoot) {
    this.binary = binary;
    this.stateRoot = stateRoot;
    this.env = runtimeEnv();
  }

  /**
   * Run `binary --root stateRoot ...args`. stdout/stderr are captured unless
   * `stdio` hands over file descriptors (then the container inherits them).
   * `wrap` is a shell prefix run before exec'ing the runtime (e.g. to set
   * the caller's oom_score_adj).
   */
  exec(args, { stdio, input, timeout = 30000, wrap, cwd } = {}) {
    let file = this.binary;
    let argv = ['--root', this.stateRoot, ...args];
    if (wrap) {
      argv = ['-c', `${wrap}; exec "$@"`, 'sh', file, ...argv];
      file = '/bin/sh';
    }
    const r = spawnSync(file, argv, {
      env: this.env,
      stdio: stdio ?? ['pipe', 'pipe', 'pipe'],
      input,
      timeout,
      cwd,
      encoding: 'utf8',
      killSignal: 'SIGKILL',
    });
    const res = {
      code: r.status ?? (r.signal ? 128 : -1),
      signal: r.signal,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
      error: r.error,
      cmd: `${path.basename(this.binary)} ${args.join(' ')}`,
    };
    if (r.error && r.error.code === 'ETIMEDOUT') res.timedOut = true;
    return res;
  }

  /** `state ID` parsed; null when the command fails. */
  state(id) {
    const r = this.exec(['state', id]);
    if (r.code !== 0) return null;
    try {
      return JSON.parse(r.stdout);
    } catch {
      throw new Error(`state ${id}: output is not JSON: ${r.stdout.slice(0, 200)}`);
    }
  }

  /** Poll `state` until status is one of `want` (or the container is gone if want includes null). */
  async waitStatus(id, want, timeoutMs = 10000) {
    const wants = Array.isArray(want) ? want : [want];
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
      const s = this.state(id);
      last = s ? s.status : null;
      if (wants.includes(last)) return s;
      if (Date.now() > deadline)
        throw new Error(`container ${id}: status ${last}, waited ${timeoutMs} ms for ${wants.join('|')}`);
      await sleep(15);
    }
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
