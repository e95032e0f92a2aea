// The process `tsrun exec` starts, as runc builds it from its command line:
// a process.json (--process, validated against the spec's process schema),
// or the container's own process with the flags' changes. The runtime gets
// the finished Process (runtime/exec.ts), as the library's exec gives it.
import { readFileSync } from 'node:fs';
import type { Process } from '../spec/types';
import { InvalidInputError } from '../errors';
import { validateProcess } from '../spec/validate';

export interface ExecFlags {
  args: string[];
  cwd?: string;
  env: string[];
  tty: boolean;
  user?: string;
  additionalGids: number[];
  caps: string[];
  noNewPrivs: boolean;
  apparmor?: string;
  processLabel?: string;
}

/** A process.json file, checked like config.json's process. */
export function readProcessFile(file: string): Process {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InvalidInputError(`--process ${file}: ${(e as Error).message}`);
  }
  const problems = validateProcess(doc, file);
  if (problems.length) throw new InvalidInputError(problems.join('\n'));
  return doc as Process;
}

/** uid[:gid] or names: the names (and a uid alone's gid) are resolved inside the container. */
function checkUser(spec: string): void {
  if (!/^[^:]+(:[^:]+)?$/.test(spec))
    throw new InvalidInputError(`--user ${JSON.stringify(spec)}: must be user[:group]`);
}

/**
 * env with `extra` appended, as runc's exec does: the init's dedupEnv gives a
 * name set again its last value in its first place (a config variable keeps its place).
 */
function withEnv(env: string[], extra: string[]): string[] {
  for (const e of extra)
    if (!e.includes('=')) throw new InvalidInputError(`--env ${JSON.stringify(e)}: must be NAME=value`);
  return [...env, ...extra];
}

function withCaps(base: Process['capabilities'], caps: string[]): Process['capabilities'] {
  if (!caps.length) return base;
  const add = (set: string[] | undefined) => [...new Set([...(set ?? []), ...caps])];
  return { ...base, bounding: add(base?.bounding), effective: add(base?.effective), permitted: add(base?.permitted) };
}

/** The container's process with the command line's changes (runc's exec without --process). */
export function processFromFlags(base: Process, f: ExecFlags): Process {
  const p: Process = structuredClone(base);
  p.args = f.args;
  p.terminal = f.tty;
  p.consoleSize = undefined;
  if (f.cwd !== undefined) p.cwd = f.cwd;
  p.env = withEnv(p.env ?? [], f.env);
  if (f.user !== undefined) checkUser(f.user);
  if (f.additionalGids.length) p.user = { ...(p.user ?? { uid: 0, gid: 0 }), additionalGids: f.additionalGids };
  p.capabilities = withCaps(p.capabilities, f.caps);
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.apparmor !== undefined) p.apparmorProfile = f.apparmor;
  if (f.processLabel !== undefined) p.selinuxLabel = f.processLabel;
  return p;
}
