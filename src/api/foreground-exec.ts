// exec in the foreground without side effects on the caller's process. Waiting
// for the container's process needs a child subreaper (after the pid-namespace
// fork it is not our child), waitpid(-1) for the processes on the way and the
// caller's signals forwarded: all process-wide. So a `tsrun exec` of the
// executable does the waiting; its exit status is the process's, and tsrun's
// own errors come back through its JSON log.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Process } from '../spec/types';
import { TsrunError } from '../errors';

export interface ForegroundExec {
  root: string;
  id: string;
  process: Process;
  executable: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  pidFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
}

function execArgs(o: ForegroundExec, processFile: string, log: string): string[] {
  return [
    '--root',
    o.root,
    '--log',
    log,
    '--log-format',
    'json',
    'exec',
    '--process',
    processFile,
    ...(o.consoleSocket ? ['--console-socket', o.consoleSocket] : []),
    ...(o.pidfdSocket ? ['--pidfd-socket', o.pidfdSocket] : []),
    ...(o.pidFile ? ['--pid-file', o.pidFile] : []),
    ...(o.preserveFds ? ['--preserve-fds', String(o.preserveFds)] : []),
    ...(o.ignorePaused ? ['--ignore-paused'] : []),
    o.id,
  ];
}

/** The last error tsrun logged, if any: then the exec failed, whatever its status. */
function loggedError(log: string): string | undefined {
  let last: string | undefined;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error') last = entry.msg;
    } catch {
      // not a log line
    }
  }
  return last;
}

export async function execInForeground(o: ForegroundExec): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-exec-'));
  try {
    const processFile = join(dir, 'process.json');
    const log = join(dir, 'log.json');
    writeFileSync(processFile, JSON.stringify(o.process), { mode: 0o600 });
    writeFileSync(log, '', { mode: 0o600 });
    const preserved = Array.from({ length: o.preserveFds }, (_, i) => 3 + i);
    const child = spawn(o.executable, execArgs(o, processFile, log), {
      stdio: ['inherit', 'inherit', 'inherit', ...preserved],
    });
    const status = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
    const error = loggedError(log);
    if (error !== undefined) throw new TsrunError(error);
    return status;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
