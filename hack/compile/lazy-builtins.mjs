// Bun hoists every import of a built-in module to the top of the bundle and
// evaluates it before any code runs, even when only a lazily loaded module
// uses it. These cost 0.1–1.8 ms each (util's format pulls in its whole
// inspect module) and serve cold paths only, so their imports are pointed at
// modules that load the real one on first use. A name missing from this
// table fails the build ("No matching export"): a new use cannot slip in
// eagerly. (Bun resolves built-ins before any plugin's onResolve, hence the
// rewrite of the import text.)
const LAZY_BUILTINS = {
  'node:child_process': { spawnSync: 'call' },
  'node:os': { tmpdir: 'call', release: 'call', hostname: 'call', userInfo: 'call', constants: 'object' },
  'node:url': { fileURLToPath: 'call' },
  // Only loading koffi (memory-library.ts) needs it; `state` never does.
  'bun:ffi': { dlopen: 'call' },
  // format(string) is that string (node and Bun alike); yargs translates its
  // built-in texts through it on every start.
  'node:util': { format: 'format', inspect: 'call' },
  // yargs asserts on its hot path; only a failing assertion needs node:assert.
  'node:assert': { strictEqual: 'strictEqual', notStrictEqual: 'notStrictEqual' },
};
const PREFIX = 'tsrun-lazy-builtin:';

function lazyExport(mod, name, kind) {
  const real = `require(${JSON.stringify(mod)})`;
  switch (kind) {
    case 'call':
      return `export function ${name}(...a) { return ${real}.${name}(...a); }`;
    case 'object':
      return `export const ${name} = new Proxy({}, {
  get: (_, k) => ${real}.${name}[k],
  has: (_, k) => k in ${real}.${name},
  ownKeys: () => Reflect.ownKeys(${real}.${name}),
  getOwnPropertyDescriptor: (_, k) => Reflect.getOwnPropertyDescriptor(${real}.${name}, k),
});`;
    case 'format':
      return `export function format(f, ...a) { return a.length === 0 && typeof f === 'string' ? f : ${real}.format(f, ...a); }`;
    case 'strictEqual':
      return `export function strictEqual(a, b, m) { if (!Object.is(a, b)) ${real}.strictEqual(a, b, m); }`;
    case 'notStrictEqual':
      return `export function notStrictEqual(a, b, m) { if (Object.is(a, b)) ${real}.notStrictEqual(a, b, m); }`;
  }
  throw new Error(`hack/compile/lazy-builtins.mjs: unknown kind ${kind}`);
}

// `from 'os'` and `from 'node:os'` alike; bun: modules only by their full name.
const bare = (spec) => spec.replace(/^node:/, '(?:node:)?');
const IMPORT = new RegExp(`(\\bfrom\\s*)(['"])(${Object.keys(LAZY_BUILTINS).map(bare).join('|')})\\2`, 'g');
const specifier = (text) => (text.includes(':') ? text : `node:${text}`);

/** Points a source's static imports of those built-ins at their lazy modules. */
export const lazyBuiltinImports = (text) =>
  text.replace(IMPORT, (_, from, q, mod) => `${from}${q}${PREFIX}${specifier(mod)}${q}`);

export const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    // The module keeps the prefix in its path: named "util", Bun took the
    // require('node:util') inside it for the module itself.
    build.onResolve({ filter: new RegExp(`^${PREFIX}`) }, (a) => ({ path: a.path, namespace: 'lazy-builtin' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => {
      const mod = a.path.slice(PREFIX.length);
      return {
        contents: Object.entries(LAZY_BUILTINS[mod])
          .map(([name, kind]) => lazyExport(mod, name, kind))
          .join('\n'),
        loader: 'js',
      };
    });
  },
};
