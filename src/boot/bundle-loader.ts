// Runs one of tsrun's bundles (dist/*.js) through the V8 code cache made for
// it at build time (<bundle>.cache, see hack/build.mjs), so that a command does
// not parse and compile the same few hundred kB of JavaScript on every
// invocation. The bundle runs exactly as node would run it as a CommonJS
// module: same wrapper arguments, __filename, __dirname and require.
//
// V8 checks a cache only against the source's length, node's version and its
// flags, so a cache left from another build of the same length would be
// accepted and run the wrong code. Each bundle therefore starts with a
// `// tsrun-build <id>` line and its cache with the same line: a cache is used
// only with the very bundle it was made from. A missing, foreign or rejected
// cache costs the ordinary compile, nothing else.
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export interface LoadedBundle {
  script: Script;
  /** The bundle's first line, `// tsrun-build <id>`: the cache's header. */
  buildLine: string;
  /** Evaluates the bundle as the module `file` (its entry point runs from here). */
  run(): void;
}

const wrap = (src: string) => `(function (exports, require, module, __filename, __dirname) {${src}\n})`;

export function cachePath(file: string): string {
  return `${file}.cache`;
}

/** The cache's V8 data if it was made from the bundle whose first line is `buildLine`. */
function readCache(file: string, buildLine: string): Buffer | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(cachePath(file));
  } catch {
    return undefined;
  }
  const nl = buf.indexOf(10);
  if (nl < 0 || buf.toString('latin1', 0, nl) !== buildLine) return undefined;
  return buf.subarray(nl + 1);
}

/** Compiles the bundle `file` as a CommonJS module, through its code cache if `useCache`. */
export function compileBundle(file: string, useCache: boolean): LoadedBundle {
  const src = readFileSync(file, 'utf8');
  const buildLine = src.slice(0, Math.max(0, src.indexOf('\n')));
  const cachedData = useCache && buildLine.startsWith('// tsrun-build ') ? readCache(file, buildLine) : undefined;
  const script = new Script(wrap(src), { filename: file, cachedData });
  return {
    script,
    buildLine,
    run() {
      const mod = new Module(file, require.main);
      mod.filename = file;
      mod.loaded = true;
      const fn = script.runInThisContext() as (...a: unknown[]) => void;
      fn.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
    },
  };
}

/** Runs the bundle `file` with its build-time code cache. */
export function runBundle(file: string): void {
  compileBundle(file, true).run();
}
