// Phase marks for hack/bench.mjs --phases (docs/benchmark.md): with
// TSRUN_PHASES=<file> in the environment every process of tsrun appends one
// line per mark, "<pid> <role> <name> <ms since process start> <epoch ms>".
// Off (the variable unset, as always in production) phase() is one test of a
// module constant: no string is built, nothing allocated, no fd opened.
//
// "Process start" is TSRUN_PHASES_T0 (epoch ms) when the caller set it just
// before it spawned us (the benchmark does; create does for its init, see
// phaseEnv), so the marks count the kernel's exec and Bun's own start-up
// before the first line of JavaScript. Without it, the start from
// /proc/self/stat (10 ms clock ticks), only good to about ±10 ms.
import { openSync, readFileSync, writeSync, constants } from 'node:fs';

// Opened close-on-exec (node and Bun always add O_CLOEXEC): the program the init execs never gets it.
const file = process.env.TSRUN_PHASES;
// Bun's time origin is when its engine started, not the exec: epoch ms.
const epoch = () => performance.timeOrigin + performance.now();
let fd = -1;
let start = 0;
let role = process.argv[2] === 'init' ? 'init' : 'cli';

if (file) {
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    start = Number(process.env.TSRUN_PHASES_T0) || startFromProc();
    // The CLI's last mark; the init never exits this way (it execs the program).
    process.on('exit', () => phase('exit'));
  } catch {
    fd = -1; // not writable from here (a user namespace): no marks, no failure
  }
}

/** The process's start in epoch ms from its start time in clock ticks since boot (USER_HZ 100). */
function startFromProc(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const uptimeMs = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  return epoch() - uptimeMs + ticks * 10;
}

/** Whether marks are written. */
export const phasesOn = (): boolean => fd >= 0;

/** Appends a mark `name` (and `sub`, joined by a dot only when on) to TSRUN_PHASES. */
export function phase(name: string, sub?: string): void {
  if (fd >= 0) write(sub === undefined ? name : `${name}.${sub}`, epoch());
}

function write(label: string, at: number): void {
  try {
    writeSync(fd, `${process.pid} ${role} ${label} ${(at - start).toFixed(3)} ${at.toFixed(3)}\n`);
  } catch {
    // a full disk: the measurement loses a line, the command goes on
  }
}

/** The command this process runs (the CLI knows it once its arguments are parsed). */
export function setPhaseRole(r: string): void {
  role = r;
}

/**
 * What a child of ours needs to mark too (the init, exec's process): the
 * file and the time it is asked for, i.e. now. Empty when off.
 */
export function phaseEnv(): string[] {
  if (fd < 0) return [];
  return [`TSRUN_PHASES=${file}`, `TSRUN_PHASES_T0=${epoch().toFixed(3)}`];
}

// The first marks: when Bun's engine started (its time origin: after the
// exec, the dynamic loader and Bun's native start-up), and the first line of
// JavaScript (this module is the first the entry evaluates).
if (fd >= 0) write('bun.origin', performance.timeOrigin);
phase('js');
