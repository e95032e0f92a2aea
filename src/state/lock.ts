// The lock that serializes the commands changing a container (create, start,
// delete, pause, resume, update, events), made of renames: no FFI, so the
// commands that spawn nothing load none. (flock(2) would need it: node:fs has no flock.)
//
// The container's directory holds exactly one token file at all times: `lock`
// while free, `lock.<pid>.<start time>` while that process holds it. Taking
// the lock is renaming the token to one's own name: rename(2) consumes its
// source, so of any number of processes renaming the same name exactly one
// succeeds. A holder that died (SIGKILL included) leaves its token under its
// name; the next taker finds that process gone (its pid no longer has that
// start time in /proc/<pid>/stat, or is a zombie: the check state.json's pid
// gets, proc.ts) and renames the dead holder's token to its own, again one
// winner. So no lock outlives its holder, and a live holder's token is never
// taken: its name says who holds it, and nothing but that holder renames it
// while it lives.
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSameLiveProcess, procStat } from './proc';
import { sleepMs } from '../sys/sleep';
import { debug } from '../log';

const FREE = 'lock';
const HELD = /^lock\.(\d+)\.(\d+)$/;
/** Scans that find no token at all before the directory counts as having none (see noToken). */
const EMPTY_SCANS = 3;

let ownName: string | undefined;

/** This process's token name: its pid and start time, which no later process shares. */
export function heldName(): string {
  ownName ??= `lock.${process.pid}.${procStat(process.pid)?.startTime ?? '0'}`;
  return ownName;
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

function tryRename(dir: string, from: string, to: string): boolean {
  try {
    renameSync(join(dir, from), join(dir, to));
    return true;
  } catch (e) {
    if (code(e) === 'ENOENT') return false;
    throw e;
  }
}

/**
 * The token of a directory that has one as `create` makes it, before the
 * directory gets its final name (store.ts): held by this process.
 */
export function placeHeldToken(dir: string): void {
  writeFileSync(join(dir, heldName()), '', { flag: 'wx', mode: 0o600 });
}

/**
 * Takes the lock of `dir`, waiting while a live process holds it. Throws
 * ENOENT (from readdir) when the directory is gone.
 */
export function takeLock(dir: string): void {
  const mine = heldName();
  let empty = 0;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    if (tryRename(dir, FREE, mine)) return;
    const held = readdirSync(dir).filter((n) => HELD.test(n));
    if (held.includes(mine))
      throw new Error(`${dir}: this process (pid ${process.pid}) already holds the container's lock`);
    const dead = held.find((n) => {
      const [, pid, start] = HELD.exec(n)!;
      return !isSameLiveProcess(Number(pid), start);
    });
    if (dead && tryRename(dir, dead, mine)) {
      debug(`took over the lock of ${dir} from a process that died holding it (${dead})`);
      return;
    }
    if (held.length === 0 && ++empty >= EMPTY_SCANS) noToken(dir);
    if (held.length > 0) empty = 0;
    if (!dead) sleepMs(delay);
  }
}

/**
 * A directory without a token, scan after scan (a scan can miss a token only
 * while it is being renamed): made by a tsrun that locked with flock, or left
 * by a delete that died between its last two removals. It gets a free token;
 * `wx` makes sure only one taker adds it.
 */
function noToken(dir: string): void {
  try {
    writeFileSync(join(dir, FREE), '', { flag: 'wx', mode: 0o600 });
    debug(`${dir} had no lock token: added a free one`);
  } catch (e) {
    if (code(e) !== 'EEXIST') throw e;
  }
}

/** Whether the token in `dir` is held by a live process; undefined when it has none. */
export function holderAlive(dir: string): boolean | undefined {
  const held = readdirSync(dir).find((n) => HELD.test(n));
  if (!held) return undefined;
  const [, pid, start] = HELD.exec(held)!;
  return isSameLiveProcess(Number(pid), start);
}

/** Gives the lock back; quiet when the directory is gone (delete removed it). */
export function releaseLock(dir: string): void {
  tryRename(dir, heldName(), FREE);
}
