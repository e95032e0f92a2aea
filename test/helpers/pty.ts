// Drive a command on a fresh pty as its controlling terminal, like a user at
// a shell: hack/clients/pty-drive.py does the pty work (tests only).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Test } from 'tap';
import { REPO, cleanEnv } from './harness';

const PTY_DRIVE = join(REPO, 'hack', 'clients', 'pty-drive.py');

interface Driven {
  output: string;
  code: number | null;
  signal: number | null;
  timedOut: boolean;
  failedStep: number | null;
  termiosRestored: boolean;
}

type Step = { expect: string } | { send: string } | { resize: [number, number] } | { sleep: number };

/** Run argv on a fresh pty as its controlling terminal (hack/clients/pty-drive.py). */
export function drive(argv: string[], steps: Step[], size = { rows: 24, cols: 80 }, timeout = 30): Driven {
  const r = spawnSync('python3', [PTY_DRIVE, JSON.stringify({ argv, steps, ...size, timeout })], {
    encoding: 'utf8',
    env: cleanEnv(),
    timeout: (timeout + 10) * 1000,
  });
  if (r.status !== 0) throw new Error(`pty-drive.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Driven;
}

/**
 * The interactive session every client's `-t` test types into a busybox sh:
 * size, tty, a computed echo, a resize, exit 3. Pass the pty at 30×100.
 */
export const SHELL_SESSION: Step[] = [
  { expect: '# ' },
  // The client sizes the terminal right after start; let that and ash's cursor query settle.
  { sleep: 1 },
  { send: 'stty size; tty; echo hi-$((6*7))\r' },
  { expect: 'hi-42' },
  { resize: [40, 120] },
  { sleep: 0.5 },
  { send: 'stty size\r' },
  { expect: '40 120' },
  { send: 'exit 3\r' },
];
export const SHELL_SESSION_SIZE = { rows: 30, cols: 100 };

/** What SHELL_SESSION must have shown through `client`. */
export function checkShellSession(t: Pick<Test, 'equal' | 'match'>, r: Driven, client: string): void {
  t.equal(r.failedStep, null, `every expected output arrived: ${JSON.stringify(r.output)}`);
  t.equal(r.code, 3, `exit status through ${client}`);
  t.match(r.output, /30 100\r*\n/, `the container's terminal has ${client}'s size`);
  t.match(r.output, /40 120\r*\n/, 'a resize reaches the container');
}
