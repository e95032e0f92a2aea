// yargs does, at module load and in every yargs(), work that only help
// rendering or a failure needs: its platform shim reads
// process.stdout.columns (creating that stream sets O_NONBLOCK on a pipe
// tsrun shares with the container, ARCHITECTURE.md), it renders the whole
// help after every command, and each yargs() guesses a default --version.
// These source patches defer all of it to first use. (cliui and
// string-width, help rendering only, used to be deferred too; with the
// bundle split in chunks yargs loads only for the commands that need it,
// and evaluating them costs under 1 ms there.)

const replaceOnce = (file, text, eager, lazy) => {
  if (!text.includes(eager)) throw new Error(`${file}: yargs changed; update hack/compile/yargs.mjs`);
  return text.replace(eager, lazy);
};

const SHIM = /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/;

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
    (text, path) =>
      replaceOnce(path, text, '        yargs.help();\n        yargs.version();\n', '        yargs.help();\n'),
  ],
];
