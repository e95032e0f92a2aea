// Whether tsrun runs rootless, decided as runc decides it: --rootless
// true|false, or auto — rootless when the caller is not uid 0, or is uid 0
// only inside a user namespace (it cannot then own the host's cgroups).
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../errors';

/** uid_map of the initial user namespace: every id mapped to itself. */
const INITIAL_MAP = /^\s*0\s+0\s+4294967295\s*$/;

export function inUserNamespace(): boolean {
  try {
    return !INITIAL_MAP.test(readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}

const euid = (): number => process.geteuid?.() ?? 0;

// runc parses the flag with Go's strconv.ParseBool, or "auto".
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** The --rootless flag's value (true, false, auto; absent or empty = auto). */
export function rootlessMode(flag: string | undefined): boolean {
  if (flag === undefined || flag === '' || flag === 'auto') return euid() !== 0 || inUserNamespace();
  if (TRUE.has(flag)) return true;
  if (FALSE.has(flag)) return false;
  throw new InvalidInputError(`--rootless: ${JSON.stringify(flag)} is not one of true, false, auto`);
}

/**
 * Whether the default --root is $XDG_RUNTIME_DIR/tsrun rather than /run/tsrun:
 * runc's rule — for a non-root caller, and for uid 0 in a user namespace unless
 * $USER says root; the real root keeps /run (XDG_RUNTIME_DIR is /run/user/0 there).
 */
export function xdgRoot(env = process.env): string | undefined {
  const xdg = env.XDG_RUNTIME_DIR;
  if (!xdg) return undefined;
  if (euid() !== 0) return `${xdg}/tsrun`;
  if (!inUserNamespace()) return undefined;
  return env.USER === 'root' ? undefined : `${xdg}/tsrun`;
}
