// A container with process.terminal driven the way containerd's shim does
// it: create with --console-socket, receive the pty master, start, and read
// everything the program writes to its terminal until it exits.
import { readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { listenUnix, acceptUnix, recvFds } from '../../src/sys/socket';
import { poll, POLL } from '../../src/sys/poll';
import { closeQuiet } from '../../src/sys/fs';
import { waitStatus, type Env, type Result } from './harness';

export interface ConsoleRun {
  create: Result;
  /** What arrived at the master (empty when create failed). */
  output: string;
  /** Descriptors the console socket received (the master alone on success). */
  fdCount: number;
  /** The bytes that came with them (runc sends "/dev/ptmx"). */
  payload: string;
  /** What create's own stdout and stderr got. */
  createOutput: string;
}

/** Create `id` from `bundle` with a console socket, run it to the end and delete it. */
export function runWithConsoleSocket(env: Env, bundle: string, id: string, timeoutMs = 15000): ConsoleRun {
  const sockPath = join(env.dir, `${id}.sock`);
  const listener = listenUnix(sockPath);
  try {
    const outFile = join(env.dir, `${id}.out`);
    const create = env.run(['create', '--console-socket', sockPath, '--bundle', bundle, id], { output: outFile });
    if (create.code !== 0) return { create, output: '', fdCount: 0, payload: '', createOutput: create.stderr };
    const conn = acceptUnix(listener);
    const { data, fds } = recvFds(conn, 4096, 4);
    closeQuiet(conn);
    const [master] = fds;
    try {
      const createOutput = readFileSync(outFile, 'utf8');
      env.run(['start', id]);
      const output = readToEnd(master, timeoutMs);
      waitStatus(env, id, 'stopped');
      env.run(['delete', '--force', id]);
      return { create, output, fdCount: fds.length, payload: data.toString(), createOutput };
    } finally {
      fds.forEach(closeQuiet);
    }
  } finally {
    closeQuiet(listener);
  }
}

/** Reads the master until the last slave fd closes (EIO) or time runs out. */
function readToEnd(master: number, timeoutMs: number): string {
  let output = '';
  const buf = Buffer.alloc(4096);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [rev] = poll([{ fd: master, events: POLL.IN }], 200);
    if (!rev) continue;
    let n = 0;
    try {
      n = readSync(master, buf, 0, buf.length, null);
    } catch {
      break; // EIO: the program and everything holding the slave are gone
    }
    if (n === 0) break;
    output += buf.toString('utf8', 0, n);
  }
  return output;
}
