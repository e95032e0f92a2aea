// Build everything tsrun needs at run time, so that nothing is compiled or
// generated per invocation: the native helper, the generated spec code and
// one bundled file per process entry (the CLI and the container init).
import { execFileSync } from 'node:child_process';
import { mkdirSync, existsSync } from 'node:fs';
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
  });
}

buildNative();
for (const g of generators) if (existsSync(join(root, g))) run(process.execPath, [g]);
await bundle();
