import { mkdirSync } from 'node:fs';

/**
 * Enter process.cwd after pivot_root, creating it like runc does. The root is
 * already the container's, so the path cannot lead outside it; and it is a
 * path, never an inherited fd (CVE-2024-21626).
 */
export function enterCwd(cwd: string): void {
  try {
    mkdirSync(cwd, { recursive: true, mode: 0o755 });
    process.chdir(cwd);
  } catch (e) {
    throw new Error(`chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
