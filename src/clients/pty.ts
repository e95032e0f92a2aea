// Drive a command on a fresh pty as its controlling terminal, like a user at
// a shell: hack/clients/pty-drive.py does the pty work (tests only).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO, cleanEnv } from '../testing/harness';

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

