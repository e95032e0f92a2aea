// Compiles tsrun into ONE executable, dist/tsrun, with Bun's compiler
// (bytecode, ESM): the CLI and the container init in one file, the native
// helper and koffi's addon embedded in it. Run by hack/build.mjs with the
// pinned Bun from node_modules: `bun hack/compile.mjs`.
//
// The plugins below replace what would otherwise cost every invocation:
// Bun's own loading of embedded `.node` files (it extracts them to
// $TMPDIR/.bun-* and trusts that copy forever), yargs' eager help machinery,
// and koffi's run-time search for its addon.
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = (p) => JSON.stringify(join(root, 'src', p));

// The koffi.node that require('koffi') picks on this machine (glibc or musl
// build), copied under a name Bun does not treat as an addon: embedded as
// plain bytes, it is loaded from memory (src/sys/memory-library.ts).
function koffiAddon() {
  const req = createRequire(join(root, 'package.json'));
  req('koffi');
  const found = Object.keys(req.cache).filter((k) => k.endsWith('.node') && k.includes('koffi'));
  if (found.length !== 1) throw new Error(`tsrun build: cannot tell which koffi.node koffi loads (${found.join(', ') || 'none'})`);
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
    build.onResolve({ filter: /^\.\/helper-library$/ }, () => ({ path: 'helper-library', namespace: 'tsrun-embedded' }));
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

// yargs evaluates, at module load, work that only help rendering needs:
// cliui/string-width build Unicode-property regexes and Intl.Segmenters, and
// its platform shim reads process.stdout.columns. Creating that stream sets
// O_NONBLOCK on a pipe tsrun shares with the container (ARCHITECTURE.md).
// This plugin defers all of it to first use, so a plain `tsrun state ID`
// never touches them while --help still works.
const YARGS_SHIM = /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/;
const YARGS_USAGE = /yargs[\\/]build[\\/]lib[\\/]usage\.js$/;
const replaceOnce = (file, text, eager, lazy) => {
  if (!text.includes(eager)) throw new Error(`${file}: yargs changed; update deferYargsStartup in hack/compile.mjs`);
  return text.replace(eager, lazy);
};
const deferYargsStartup = {
  name: 'defer-yargs-startup',
  setup(build) {
    build.onResolve({ filter: /^(cliui|string-width)$/ }, (a) => {
      if (!YARGS_SHIM.test(a.importer)) return undefined;
      return { path: Bun.resolveSync(a.path, dirname(a.importer)), namespace: 'lazy-default' };
    });
    // A default-exported function whose module is evaluated on first call.
    build.onLoad({ filter: /.*/, namespace: 'lazy-default' }, (a) => ({
      contents: `export default function lazy(...args) { return require(${JSON.stringify(a.path)}).default(...args); }`,
      loader: 'js',
    }));
    // After every command's handler, yargs renders the whole help text and
    // keeps it, in case it must print help for a later failure. tsrun's
    // .fail() throws and never prints help after a command ran, so the
    // rendering is deferred until someone asks for it.
    build.onLoad({ filter: YARGS_USAGE }, async (a) => {
      let text = await Bun.file(a.path).text();
      text = replaceOnce(
        a.path,
        text,
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
      );
      text = replaceOnce(
        a.path,
        text,
        `if (cachedHelpMessage)
            return cachedHelpMessage;`,
        `if (cachedHelpMessage)
            return cachedHelpMessage;
        if (helpCachePending) {
            helpCachePending = false;
            cachedHelpMessage = self.help();
            return cachedHelpMessage;
        }`,
      );
      return { contents: text, loader: 'js' };
    });
    build.onLoad({ filter: YARGS_SHIM }, async (a) => {
      const text = await Bun.file(a.path).text();
      return {
        contents: replaceOnce(
          a.path,
          text,
          "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
          "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }",
        ),
        loader: 'js',
      };
    });
  },
};

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
  plugins: [embedded, deferYargsStartup],
});
if (!result.success) {
  for (const l of result.logs) console.error(l);
  process.exit(1);
}
// Renamed into place: a tsrun started during a build never runs half a file.
renameSync(tmp, join(root, 'dist', 'tsrun'));
