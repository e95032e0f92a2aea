// yargs evaluates, at module load and in every yargs(), work that only help
// rendering or a failure needs: cliui/string-width build Unicode-property
// regexes and Intl.Segmenters, its platform shim reads process.stdout.columns
// (creating that stream sets O_NONBLOCK on a pipe tsrun shares with the
// container, ARCHITECTURE.md), and each yargs() guesses a default --version.
// These source patches defer all of it to first use, so a plain
// `tsrun state ID` never pays for it while --help still works.
import { dirname } from 'node:path';

const replaceOnce = (file, text, eager, lazy) => {
  if (!text.includes(eager)) throw new Error(`${file}: yargs changed; update hack/compile/yargs.mjs`);
  return text.replace(eager, lazy);
};

const SHIM = /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/;
const LAZY = '#lazy';

/** cliui and string-width, imported by the shim, become functions that load their module on first call. */
export const lazyHelpDeps = {
  name: 'lazy-yargs-help-deps',
  setup(build) {
    build.onResolve({ filter: /^(cliui|string-width)$/ }, (a) => {
      if (!SHIM.test(a.importer)) return undefined;
      // Named apart from the real module: under the same path Bun takes the
      // wrapper's require() for the wrapper itself, and help recursed forever.
      return { path: `${Bun.resolveSync(a.path, dirname(a.importer))}${LAZY}`, namespace: 'lazy-default' };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-default' }, (a) => ({
      contents: `export default function lazy(...args) { return require(${JSON.stringify(a.path.slice(0, -LAZY.length))}).default(...args); }`,
      loader: 'js',
    }));
  },
};

/** [file pattern, patch(text, path)]: applied by compile.mjs as the sources load. */
export const yargsPatches = [
  // After every command's handler, yargs renders the whole help text and
  // keeps it, in case it must print help for a later failure. tsrun's
  // .fail() throws and never prints help after a command ran, so the
  // rendering is deferred until someone asks for it.
  [
    /yargs[\\/]build[\\/]lib[\\/]usage\.js$/,
    (text, path) => {
      text = replaceOnce(
        path,
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
      return replaceOnce(
        path,
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
    },
  ],
  [
    SHIM,
    (text, path) =>
      replaceOnce(
        path,
        text,
        "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
        "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }",
      ),
  ],
  // Every yargs() guesses a default --version by walking from the cwd up to
  // / for a package.json (a readdir per level); in the executable the walk
  // fails, and the failed assertion loads node:assert's AssertionError,
  // util/inspect and a stderr WriteStream (~4 ms). tsrun's main() turns the
  // default off (.version(false)), so it is never computed.
  [
    /yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/,
    (text, path) => replaceOnce(path, text, '        yargs.help();\n        yargs.version();\n', '        yargs.help();\n'),
  ],
];
