// The cputime wrapper (cputime.c): a command's user+sys time from wait4's
// rusage, in µs, where node offers only 10 ms ticks (cutime/cstime).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const source = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cputime.c');

/** Compiles the wrapper into `dir`; returns its path. */
export function compileCputime(dir) {
  const out = path.join(dir, 'cputime');
  execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, source], {
    stdio: 'inherit',
  });
  return out;
}

/** The CPU time (ms, user+sys) the wrapper wrote to `file`. */
export function cpuOf(file) {
  const [user, sys] = fs.readFileSync(file, 'utf8').trim().split(' ').map(Number);
  if (!Number.isFinite(user) || !Number.isFinite(sys)) throw new Error(`bench: cputime wrote no times to ${file}`);
  return (user + sys) / 1000;
}
