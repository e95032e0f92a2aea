// Where tsrun's native helper comes from when the sources run under node (the
// unit tests): build/libtsrun.so, built by hack/build.mjs. The executable
// replaces this module with the copy embedded in it (hack/compile.mjs).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function loadHelperLibrary<T>(load: (path: string) => T): T {
  const p = join(__dirname, '..', '..', 'build', 'libtsrun.so');
  if (!existsSync(p)) throw new Error(`tsrun's native helper ${p} is missing: run npm run build`);
  return load(p);
}
