// The library build: src/api/index.ts and what it imports, bundled by esbuild
// into one CommonJS file, dist/lib/index.js, with an ESM entry beside it
// (dist/lib/index.mjs) that re-exports it; with --types also the
// declarations, from tsc (tsconfig.lib.json), in dist/lib/types/. tsc takes
// several seconds, so only `npm pack` (prepack) makes them: every build
// makes the JavaScript (a fraction of a second), which the tests load.
//
// CommonJS underneath both: the sources are CommonJS (tsconfig "module":
// "commonjs", __dirname finds build/libtsrun.so and dist/tsrun), and one copy
// of the code means one copy of each error class, so `instanceof` holds
// whether the caller imports or requires tsrun (no dual-package hazard).
// Dependencies stay external: koffi is a native addon, ajv's runtime is
// required by the generated validators.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'lib');

const types = process.argv.includes('--types');
mkdirSync(out, { recursive: true });
if (types) rmSync(join(out, 'types'), { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const declarations = types
  ? promisify(execFile)(process.execPath, [tsc, '-p', join(root, 'tsconfig.lib.json')], { cwd: root })
  : undefined;
await build({
  entryPoints: [join(root, 'src', 'api', 'index.ts')],
  outfile: join(out, 'index.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  logLevel: 'warning',
});
writeFileSync(
  join(out, 'index.mjs'),
  "// ESM entry of the CommonJS build (hack/build-lib.mjs says why).\nexport * from './index.js';\n",
);
try {
  await declarations;
} catch (e) {
  console.error(`tsrun build: declarations (tsconfig.lib.json):\n${e.stdout}${e.stderr}`);
  process.exit(1);
}
