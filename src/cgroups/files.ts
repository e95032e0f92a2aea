// Reading and writing cgroup interface files. Each value is one write(2) on
// its own open file description, which is what the kernel parses; errors
// name the file, the value and the errno. (libuv opens every fd O_CLOEXEC.)
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';

export class CgroupError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CgroupError';
  }
}

export function cgWrite(dir: string, file: string, value: string | number, where?: string): void {
  const path = join(dir, file);
  const text = String(value);
  let fd = -1;
  try {
    fd = openSync(path, constants.O_WRONLY);
    writeSync(fd, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const prefix = where ? `${where}: ` : '';
    throw new CgroupError(`${prefix}write ${JSON.stringify(text)} to ${path}: ${code}`, code);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export function cgRead(dir: string, file: string): string {
  const path = join(dir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new CgroupError(`read ${path}: ${code}`, code);
  }
}

export function cgTryRead(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

export function cgHas(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/**
 * Whether the cgroup at `dir` (made or not yet) has `file`. Some files exist
 * everywhere but on a hierarchy's root (blkio.bfq.weight), so a cgroup not made
 * yet is judged by its nearest existing ancestor below `root`, else by the root
 * or one of its children.
 */
export function cgHasBelow(root: string, dir: string, file: string): boolean {
  for (let d = dir; d.startsWith(root + '/'); d = dirname(d)) if (existsSync(d)) return cgHas(d, file);
  if (cgHas(root, file)) return true;
  const child = readdirSync(root, { withFileTypes: true }).find((e) => e.isDirectory());
  return child !== undefined && cgHas(join(root, child.name), file);
}

/** "key value" lines (memory.stat, cpu.stat, cgroup.events …). */
export function readKeyed(dir: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (cgTryRead(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A single number; "max" → undefined. */
export function readNumber(dir: string, file: string): number | undefined {
  const s = cgTryRead(dir, file)?.trim();
  if (s === undefined || s === '' || s === 'max') return undefined;
  const n = Number(s.split(/\s+/)[0]);
  return Number.isFinite(n) ? n : undefined;
}
