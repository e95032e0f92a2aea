// The first exchange with a process the native helper started: answer its
// id-map and time-namespace requests until it reports the pid of the
// process that will run in the container (create's init, exec's process).
import type { Spec } from '../spec/types';
import { InvalidInputError } from '../errors';
import { debug } from '../log';
import { errnoName } from '../sys/libc';
import { waitpid } from '../sys/wait';
import { writeIdMaps, writeTimeOffsets } from '../linux/namespaces';
import type { ParentChannel } from '../protocol/channel';
import {
  INIT_COMMAND,
  Msg,
  exhausted,
  unexpectedMessage,
  type ChildMessage,
  type FailedCall,
} from '../protocol/messages';
import { readFileSync } from 'node:fs';
import { sleepMs } from '../sys/sleep';

/**
 * What the native helper execs, protected first (native/tsrun.c): the
 * caller's tsrun executable when the library runs in someone else's process
 * (node, a Bun script), else this very executable, so that the init is the
 * same build as its parent even if the file was replaced meanwhile.
 */
export function ownExecutable(explicit?: string): string {
  if (explicit !== undefined) return explicit;
  if (!process.versions.bun)
    throw new Error('tsrun runs containers from its executable (dist/tsrun), not from the sources under node');
  return '/proc/self/exe';
}

function sysMessage(m: FailedCall): string {
  return m.arg === undefined
    ? `${m.call}: ${errnoName(Number(m.errno))}`
    : `${m.call}(${m.arg}): ${errnoName(Number(m.errno))}`;
}

/**
 * The text of an error message: the init's own words, or a failed call the
 * native helper reports (it may still fail after the pid, e.g. at execveat).
 */
export function reportedError(m: Extract<ChildMessage, { type: typeof Msg.Error }>, who: string): string {
  return 'call' in m ? `${who}: ${sysMessage(m)}` : String(m.msg);
}

/** Answer the native helper until it reports the pid; `who` names the process in errors. */
export function spawnHandshake(
  chan: ParentChannel,
  config: Spec,
  childPid: number,
  forkAgain: boolean,
  who: string,
): number {
  for (;;) {
    const m = chan.receive();
    if (!m) throw new Error(`${who} exited before reporting its pid`);
    switch (m.type) {
      case Msg.UserMap:
        writeIdMaps(Number(m.pid), config);
        chan.send({ type: Msg.Ack });
        break;
      case Msg.TimeNs:
        writeTimeOffsets(Number(m.pid), config);
        chan.send({ type: Msg.Ack });
        break;
      case Msg.Debug:
        debug(`${who}: ${m.msg} (${sysMessage(m)})`);
        break;
      case Msg.Error:
        throw new InvalidInputError(reportedError(m, who));
      case Msg.Pid:
        // The intermediate process exits right after the fork; reap it.
        if (forkAgain) waitpid(childPid);
        return Number(m.pid);
      case Msg.Hooks:
      case Msg.Ready:
        throw unexpectedMessage(who, m);
      default:
        return exhausted(m);
    }
  }
}

const EXECD_MS = 10000;

/**
 * Until the helper's child has exec'd `tsrun init` (from the read-only bind):
 * between its setns and that execve it is a copy of this process, running
 * from the executable's own file. Put into a paused container's cgroup then,
 * it would stay there, frozen, inside the container for as long as the
 * container pleases. A child that is gone returns at once: the handshake
 * after this reports why.
 */
export function waitUntilExecd(pid: number): void {
  const want = `tsrun\0${INIT_COMMAND}\0`;
  for (const deadline = Date.now() + EXECD_MS; Date.now() < deadline; sleepMs(1)) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      return;
    }
    if (cmdline.startsWith(want)) return;
  }
  throw new InvalidInputError(`exec: process ${pid} did not start tsrun's init within ${EXECD_MS} ms`);
}
