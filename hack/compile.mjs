// Compiles tsrun into ONE executable, dist/tsrun, with Bun's compiler
// (bytecode, ESM): the CLI and the container init in one file, the native
// helper and koffi's addon embedded in it. Run by hack/build.mjs with the
// pinned Bun from node_modules: `bun hack/compile.mjs`.
//
// The plugins below replace what would otherwise cost every invocation:
// Bun's own loading of embedded `.node` files (it extracts them to
// $TMPDIR/.bun-* and trusts that copy forever), koffi's run-time search for
// its addon, yargs' eager start-up work and built-ins evaluated up front.
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { yargsPatches } from './compile/yargs.mjs';
import { lazyBuiltinImports, lazyBuiltins } from './compile/lazy-builtins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = (p) => JSON.stringify(join(root, 'src', p));

// The koffi.node that require('koffi') picks on this machine (glibc or musl
// build), copied under a name Bun does not treat as an addon: embedded as
// plain bytes, it is loaded from memory (src/sys/memory-library.ts).
function koffiAddon() {
  const req = createRequire(join(root, 'package.json'));
  req('koffi');
  const found = Object.keys(req.cache).filter((k) => k.endsWith('.node') && k.includes('koffi'));
  if (found.length !== 1)
    throw new Error(`tsrun build: cannot tell which koffi.node koffi loads (${found.join(', ') || 'none'})`);
  const out = join(root, 'build', 'koffi.addon');
  copyFileSync(found[0], out);
  return out;
}

// Modules that exist only in the executable: koffi from its embedded addon,
// the native helper from its embedded library. Under node (unit tests) the
// ordinary koffi package and src/sys/helper-library.ts are used instead.
const embedded = {
  name: 'tsrun-embedded',
  setup(build) {
    const addon = koffiAddon();
    const helper = join(root, 'build', 'libtsrun.so');
    build.onResolve({ filter: /^koffi$/ }, () => ({ path: 'koffi', namespace: 'tsrun-embedded' }));
    build.onResolve({ filter: /^\.\/helper-library$/ }, () => ({
      path: 'helper-library',
      namespace: 'tsrun-embedded',
    }));
    build.onLoad({ filter: /^koffi$/, namespace: 'tsrun-embedded' }, () => ({
      contents: `import addon from ${JSON.stringify(addon)} with { type: 'file' };
import { loadAddon } from ${src('sys/memory-library.ts')};
export default loadAddon('koffi', addon);`,
      loader: 'js',
    }));
    build.onLoad({ filter: /^helper-library$/, namespace: 'tsrun-embedded' }, () => ({
      contents: `import helper from ${JSON.stringify(helper)} with { type: 'file' };
import { loadFromMemory } from ${src('sys/memory-library.ts')};
export const loadHelperLibrary = (load) => loadFromMemory('tsrun-helper', helper, load);`,
      loader: 'js',
    }));
  },
};

// Every source file passes through here as it loads: yargs' start-up work
// is deferred (compile/yargs.mjs) and cold built-ins are loaded on first use
// (compile/lazy-builtins.mjs).
const patchSources = {
  name: 'patch-sources',
  setup(build) {
    build.onLoad({ filter: /\.(m?js|ts)$/ }, async (a) => {
      let text = await Bun.file(a.path).text();
      for (const [file, patch] of yargsPatches) if (file.test(a.path)) text = patch(text, a.path);
      return { contents: lazyBuiltinImports(text), loader: a.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

// `tsrun --version` says which build it is (runc's "commit:" line).
function commit() {
  const r = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

mkdirSync(join(root, 'dist'), { recursive: true });
const tmp = join(root, 'dist', `tsrun.tmp-${process.pid}`);
const result = await Bun.build({
  entrypoints: [join(root, 'src', 'tsrun.ts')],
  compile: { outfile: tmp },
  // Bytecode is what makes start-up cheap (no parse, no lazy compile of the
  // hot paths); Bun generates it for ESM output only.
  bytecode: true,
  format: 'esm',
  target: 'bun',
  minify: true,
  // Chunks per dynamically imported module: without them the whole bundle
  // is loaded before the first line runs (+1.3 ms at entry, measured); with
  // them each command loads only its own. Every command got 5-15 % faster.
  splitting: true,
  define: { 'process.env.TSRUN_COMMIT': JSON.stringify(commit()) },
  plugins: [embedded, lazyBuiltins, patchSources],
});
if (!result.success) {
  for (const l of result.logs) console.error(l);
  process.exit(1);
}
// Renamed into place: a tsrun started during a build never runs half a file.
renameSync(tmp, join(root, 'dist', 'tsrun'));
