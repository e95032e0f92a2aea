// Build everything tsrun needs at run time, so that nothing is compiled or
// generated per invocation: the native helper, the generated spec code and
// one bundled file per process entry (the CLI and the container init).
import { execFileSync } from 'node:child_process';
import { mkdirSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

function buildNative() {
  const cc = process.env.CC || 'cc';
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
  } catch {
    console.error(`tsrun build: no C compiler found ('${cc}'). The native helper in native/ must be built with the system C compiler: apt-get install gcc (or set CC).`);
    process.exit(1);
  }
  mkdirSync(join(root, 'build'), { recursive: true });
  run(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-o', 'build/libtsrun.so', 'native/tsrun.c']);
}

// Code generators (schemas → types, schemas → standalone validator, …).
const generators = ['hack/gen-spec.mjs'];

// yargs evaluates, at module load, work that only help rendering needs:
// cliui/string-width build Unicode-property regexes and Intl.Segmenters
// (~25 ms of CPU), `assert` loads node's colors module, which creates
// process.stderr, and the shim reads process.stdout.columns. Creating those
// streams sets O_NONBLOCK on pipes that tsrun shares with the container
// (see ARCHITECTURE.md). This plugin defers all of it to first use, so a
// plain `tsrun state ID` never touches them while --help still works.
const YARGS_SHIM = /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/;
const deferYargsStartup = {
  name: 'defer-yargs-startup',
  setup(build) {
    build.onResolve({ filter: /^(cliui|string-width|assert)$/ }, async (a) => {
      if (!YARGS_SHIM.test(a.importer)) return undefined;
      if (a.path === 'assert') return { path: 'assert', namespace: 'lazy-builtin' };
      const real = await build.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-default' };
    });
    // A default-exported function whose module is evaluated on first call.
    build.onLoad({ filter: /.*/, namespace: 'lazy-default' }, (a) => ({
      contents: `export default function lazy(...args) { return require(${JSON.stringify(a.path)}).default(...args); }`,
      resolveDir: root,
    }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      // yargs asserts on every start (pkgUp); load node's assert only to fail.
      contents: `export const strictEqual = (a, b, m) => { if (!Object.is(a, b)) require('assert').strictEqual(a, b, m); };
export const notStrictEqual = (a, b, m) => { if (Object.is(a, b)) require('assert').notStrictEqual(a, b, m); };`,
    }));
    build.onLoad({ filter: YARGS_SHIM }, async (a) => {
      const src = await readFile(a.path, 'utf8');
      const eager = "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null";
      if (!src.includes(eager)) throw new Error(`${a.path}: yargs changed; update deferYargsStartup in hack/build.mjs`);
      const lazy = "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }";
      return { contents: src.replace(eager, lazy), loader: 'js' };
    });
  },
};

async function bundle() {
  const esbuild = await import('esbuild');
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { tsrun: 'src/cli/main.ts', init: 'src/init/main.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['koffi'],
    minify: true,
    legalComments: 'none',
    // yargs is ESM-only and reads import.meta.url; give the CJS bundle one.
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: 'const __importMetaUrl = require("url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
    plugins: [deferYargsStartup],
  });
}

buildNative();
for (const g of generators) if (existsSync(join(root, g))) run(process.execPath, [g]);
await bundle();
