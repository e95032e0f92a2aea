// Run one list of config.json hooks (config.md#posix-platform-hooks): each
// hook gets exactly its own args and env, the container state as JSON on
// stdin, and is killed after its timeout. tsrun's stdio belongs to the
// container, so the hook's output is captured, never inherited.
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { debug, warn } from '../log';
import { describeSignal } from '../sys/signal-text';
import type { Hook } from '../spec/types';

export interface RunHooksOptions {
  /** Working directory of the hooks (runc runs them in the bundle). Default: tsrun's. */
  cwd?: string;
  /**
   * Log a warning for a failed hook and go on with the next one, as the spec
   * asks for poststop hooks. Default: throw on the first failure.
   */
  continueOnError?: boolean;
}

/** What of a hook's output is kept for the error message. */
const CAPTURE_LIMIT = 64 * 1024;

/** Runs `hooks` in order; throws an Error naming the hook that failed and why. */
export function runHooks(kind: string, hooks: Hook[] | undefined, state: object, opts: RunHooksOptions = {}): void {
  if (!hooks?.length) return;
  const input = JSON.stringify(state);
  hooks.forEach((hook, index) => {
    const name = hookName(kind, index, hook);
    debug(`running ${name}`);
    const failure = runHook(hook, input, opts.cwd);
    if (failure === undefined) return;
    if (!opts.continueOnError) throw new Error(hookError(name, failure));
    warn(hookError(name, failure));
  });
}

export function hookName(kind: string, index: number, hook: Hook): string {
  return `${kind} hook ${index} (${hook.path})`;
}

/** A failed hook's message: runc's phrase, which tools look for, then which hook and why. */
export function hookError(name: string, failure: string): string {
  return `error running hook: ${name}: ${failure}`;
}

/** How a hook ended, from spawnSync here or from the native runner (sys/native.ts). */
export interface HookOutcome {
  timedOut?: boolean;
  /** The errno name of a failure to run it. */
  errorCode?: string;
  signal?: string | null;
  status?: number | null;
  stderr: string;
}

/** Undefined on success, otherwise why the hook failed. */
export function hookFailure(hook: Hook, o: HookOutcome): string | undefined {
  if (o.timedOut) return `timed out after ${hook.timeout}s`;
  if (o.errorCode === 'ENOENT') return 'does not exist';
  // A hook may exit without reading the state (EPIPE), and output beyond
  // maxBuffer (ENOBUFS, pipes only) is just not kept: neither is a failure.
  if (o.errorCode && o.errorCode !== 'EPIPE' && o.errorCode !== 'ENOBUFS') return `cannot be run: ${o.errorCode}`;
  if (o.signal) return `killed by signal ${describeSignal(o.signal)}${firstLine(o.stderr)}`;
  if (o.status !== 0) return `exited with status ${o.status}${firstLine(o.stderr)}`;
  return undefined;
}

/** What execve gets for a hook: its args (argv[0] defaults to the path) and its env exactly. */
export function hookCommand(hook: Hook): { path: string; argv: string[]; env: string[] } {
  const env = Object.entries(environment(hook.env)).map(([k, v]) => `${k}=${v}`);
  return { path: hook.path, argv: [hook.args?.[0] ?? hook.path, ...(hook.args?.slice(1) ?? [])], env };
}

/** Undefined on success, otherwise why the hook failed. */
function runHook(hook: Hook, input: string, cwd: string | undefined): string | undefined {
  const out = captureFile();
  const err = captureFile();
  try {
    const result = spawnSync(hook.path, hook.args?.slice(1) ?? [], {
      argv0: hook.args?.[0] ?? hook.path,
      env: environment(hook.env),
      cwd,
      input,
      stdio: ['pipe', out ?? 'pipe', err ?? 'pipe'],
      timeout: hook.timeout ? hook.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      maxBuffer: CAPTURE_LIMIT,
      windowsHide: true,
    });
    const stderr = err === undefined ? String(result.stderr ?? '') : readCapture(err);
    const error = result.error as NodeJS.ErrnoException | undefined;
    const code = error?.code;
    if (code === 'ETIMEDOUT') return hookFailure(hook, { timedOut: true, stderr });
    const errorCode = error && (code ?? error.message);
    return hookFailure(hook, { errorCode, signal: result.signal, status: result.status, stderr });
  } finally {
    if (out !== undefined) closeSync(out);
    if (err !== undefined) closeSync(err);
  }
}

/** The hook's env exactly: entries are NAME=value; none when absent. */
function environment(env: string[] | undefined): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {};
  for (const entry of env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) result[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return result;
}

const O_TMPFILE = 0o20200000;

/**
 * An anonymous file for the hook's stdout or stderr. With pipes, spawnSync
 * would wait for every process holding them to exit, so a hook that leaves
 * a daemon behind (or is killed at its timeout while its children live on)
 * would hang tsrun. Falls back to a pipe when no directory allows O_TMPFILE
 * (e.g. a read-only container root for startContainer hooks).
 */
function captureFile(): number | undefined {
  for (const dir of [tmpdir(), '/tmp', '/dev/shm', '/run']) {
    try {
      return openSync(dir, O_TMPFILE | 0o2 /* O_RDWR */ | 0o2000000 /* O_CLOEXEC */, 0o600);
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function readCapture(fd: number): string {
  const size = Math.min(fstatSync(fd).size, CAPTURE_LIMIT);
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n <= 0) break;
    off += n;
  }
  return buf.subarray(0, off).toString('utf8');
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line === undefined ? '' : `: ${line.trim()}`;
}
