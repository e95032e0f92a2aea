// Build everything tsrun needs at run time, so that nothing is compiled or
// generated per invocation: the native helper, the generated spec code and
// one bundled file per process entry (the CLI and the container init).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, mkdtempSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
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
  // Built beside and renamed into place: a tsrun running meanwhile never loads a half-written library.
  run(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-o', 'build/libtsrun.so.tmp', 'native/tsrun.c']);
  renameSync(join(root, 'build/libtsrun.so.tmp'), join(root, 'build/libtsrun.so'));
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
const YARGS_USAGE = /yargs[\\/]build[\\/]lib[\\/]usage\.js$/;
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
      // yargs asserts on every start, and the assertion fails (and is caught)
      // whenever no package.json lies above the cwd: yargs' pkgUp. Loading
      // node:assert for its AssertionError would create process.stderr, so
      // a failure throws a plain Error with the same code instead.
      contents: `const fail = (m, d) => { throw Object.assign(new Error(m ?? d), { code: 'ERR_ASSERTION' }); };
export const strictEqual = (a, b, m) => { if (!Object.is(a, b)) fail(m, 'Expected values to be strictly equal'); };
export const notStrictEqual = (a, b, m) => { if (Object.is(a, b)) fail(m, 'Expected "actual" to be strictly unequal to "expected"'); };`,
    }));
    // After every command's handler, yargs renders the whole help text and
    // keeps it, in case it must print help for a later failure (~45 ms: cliui,
    // string-width). tsrun's .fail() throws and never prints help after a
    // command ran, so the rendering is deferred until someone asks for it.
    build.onLoad({ filter: YARGS_USAGE }, async (a) => {
      let src = await readFile(a.path, 'utf8');
      for (const [eager, lazy] of [
        [
          `self.cacheHelpMessage = function () {
        cachedHelpMessage = this.help();
    };
    self.clearCachedHelpMessage = function () {
        cachedHelpMessage = undefined;
    };
    self.hasCachedHelpMessage = function () {
        return !!cachedHelpMessage;
    };`,
          `let helpCachePending = false;
    self.cacheHelpMessage = function () {
        helpCachePending = true;
    };
    self.clearCachedHelpMessage = function () {
        cachedHelpMessage = undefined;
        helpCachePending = false;
    };
    self.hasCachedHelpMessage = function () {
        return !!cachedHelpMessage || helpCachePending;
    };`,
        ],
        [
          `if (cachedHelpMessage)
            return cachedHelpMessage;`,
          `if (cachedHelpMessage)
            return cachedHelpMessage;
        if (helpCachePending) {
            helpCachePending = false;
            cachedHelpMessage = self.help();
            return cachedHelpMessage;
        }`,
        ],
      ]) {
        if (!src.includes(eager)) throw new Error(`${a.path}: yargs changed; update deferYargsStartup in hack/build.mjs`);
        src = src.replace(eager, lazy);
      }
      return { contents: src, loader: 'js' };
    });
    build.onLoad({ filter: YARGS_SHIM }, async (a) => {
      const src = await readFile(a.path, 'utf8');
      const eager = "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null";
      if (!src.includes(eager)) throw new Error(`${a.path}: yargs changed; update deferYargsStartup in hack/build.mjs`);
      const lazy = "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }";
      return { contents: src.replace(eager, lazy), loader: 'js' };
    });
  },
};

// koffi's own entry finds its native module at every start: it parses node's
// ELF headers to tell glibc from musl, probes packages and wraps deprecated
// aliases (~11 ms of CPU, against ~1 ms for the dlopen itself). The build
// makes that choice once: the bundles load the very koffi.node that
// require('koffi') picks here, by a path relative to dist/.
function koffiNativePath() {
  const req = createRequire(join(root, 'package.json'));
  req('koffi');
  const found = Object.keys(req.cache).filter((k) => k.endsWith('.node') && k.includes('koffi'));
  if (found.length !== 1) throw new Error(`tsrun build: cannot tell which koffi.node koffi loads (${found.join(', ') || 'none'})`);
  return found[0];
}
const koffiDirect = {
  name: 'koffi-direct',
  setup(build) {
    const rel = relative(join(root, 'dist'), koffiNativePath());
    build.onResolve({ filter: /^koffi$/ }, () => ({ path: 'koffi', namespace: 'koffi-direct' }));
    build.onLoad({ filter: /.*/, namespace: 'koffi-direct' }, () => ({
      contents: `module.exports = require(require('node:path').join(__dirname, ${JSON.stringify(rel)}));`,
      loader: 'js',
    }));
  },
};

// node:child_process pulls in net, stream and dgram (~5 ms) although only
// hooks and a few commands spawn anything. Our modules get functions that
// load it on first call; a value import other than a function fails the build.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    const names = Object.entries(createRequire(import.meta.url)('node:child_process'))
      .filter(([k, v]) => typeof v === 'function' && /^[a-z]/.test(k))
      .map(([k]) => k);
    build.onResolve({ filter: /^(node:)?child_process$/ }, (a) => {
      // The stub's own require is the real module.
      if (a.namespace === 'lazy-child-process') return { path: 'node:child_process', external: true };
      if (a.importer.includes('node_modules')) return undefined;
      return { path: 'child_process', namespace: 'lazy-child-process' };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents: names.map((n) => `export function ${n}(...a) { return require('node:child_process').${n}(...a); }`).join('\n'),
      loader: 'js',
    }));
  },
};

// Each bundle's first line names its build; the code cache made from it
// carries the same line, so the loader never pairs a bundle with a cache made
// from another build (V8 itself only compares the source's length).
const buildId = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
const buildLine = `// tsrun-build ${buildId}`;

// Outputs are written beside their final name and renamed into place, so a
// tsrun started during a build never reads half a bundle.
function writeAtomic(file, contents) {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

async function bundle() {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    // The container init is exec'd as dist/init.js (src/runtime/create.ts): that
    // is a two-line stub running dist/init-bundle.js through its code cache.
    entryPoints: { tsrun: 'src/cli/main.ts', 'init-bundle': 'src/init/main.ts', boot: 'src/boot/bundle-loader.ts' },
    outdir: 'dist',
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    // yargs is ESM-only and reads import.meta.url; give the CJS bundle one.
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: `${buildLine}\nconst __importMetaUrl = require("url").pathToFileURL(__filename).href;` },
    logLevel: 'warning',
    plugins: [deferYargsStartup, koffiDirect, lazyChildProcess],
  });
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (const out of result.outputFiles) writeAtomic(out.path, out.contents);
  writeAtomic(
    join(root, 'dist', 'init.js'),
    `${buildLine}\nrequire('./boot.js').runBundle(require('node:path').join(__dirname, 'init-bundle.js'));\n`,
  );
}

// V8 code cache for each bundle, taken after running it so that it holds the
// functions a run compiles (yargs, dispatch, state store; the init's set-up
// modules), not only the top level. bin/tsrun and dist/init.js load the
// bundles through it (src/boot/bundle-loader.ts). Made with the same node and
// without flags, like bin/tsrun, or V8 would reject it.
function buildCodeCache(bundle, args) {
  const file = join(root, 'dist', bundle);
  const boot = join(root, 'dist', 'boot.js');
  const out = `${file}.cache`;
  const code = `const fs = require('fs'), boot = require(${JSON.stringify(boot)});
const b = boot.compileBundle(${JSON.stringify(file)}, false);
process.on('exit', () => fs.writeFileSync(${JSON.stringify(`${out}.tmp`)}, Buffer.concat([Buffer.from(b.buildLine + '\\n', 'latin1'), b.script.createCachedData()])));
b.run();`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  spawnSync(process.execPath, ['-e', code, file, ...args], { cwd: root, env, stdio: 'ignore', timeout: 60000 });
  if (!existsSync(`${out}.tmp`)) throw new Error(`tsrun build: no code cache written for dist/${bundle}`);
  renameSync(`${out}.tmp`, out);
}

buildNative();
for (const g of generators) if (existsSync(join(root, g))) run(process.execPath, [g]);
await bundle();
const scratch = mkdtempSync(join(tmpdir(), 'tsrun-build-'));
try {
  // `state` of a container that does not exist: parses, dispatches, opens the store.
  buildCodeCache('tsrun.js', ['--root', scratch, 'state', 'code-cache']);
  // The init with a closed fd for its socket: loads everything, fails at once.
  buildCodeCache('init-bundle.js', ['999']);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
