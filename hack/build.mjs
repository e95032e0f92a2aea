// Build everything tsrun needs at run time, so that nothing is compiled or
// generated per invocation: the native helper, the generated spec code, the
// one executable, dist/tsrun, that holds them (CLI and container init), and
// the library for node and Bun programs (dist/lib, hack/build-lib.mjs).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, env = process.env) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env });

function buildNative() {
  const cc = process.env.CC || 'cc';
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
  } catch {
    console.error(
      `tsrun build: no C compiler found ('${cc}'). The native helper in native/ must be built with the ` +
        `system C compiler: apt-get install gcc (or set CC).`,
    );
    process.exit(1);
  }
  mkdirSync(join(root, 'build'), { recursive: true });
  // Built beside and renamed into place: a tsrun running meanwhile never loads a half-written library.
  run(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-o', 'build/libtsrun.so.tmp', 'native/tsrun.c']);
  renameSync(join(root, 'build/libtsrun.so.tmp'), join(root, 'build/libtsrun.so'));
  // Static test tools, not in dist/tsrun: the differential harness's probe and reaper (conformance/differential/),
  // and sd-notify (a container's READY=1 for the NOTIFY_SOCKET tests).
  for (const tool of ['probe', 'reaper', 'sd-notify']) {
    run(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', `build/${tool}.tmp`, `native/${tool}.c`]);
    renameSync(join(root, `build/${tool}.tmp`), join(root, `build/${tool}`));
  }
}

// Code generators (schemas → types, schemas → standalone validator, …).
const generators = ['hack/gen-spec.mjs'];

// The executable: the pinned Bun from node_modules compiles src/tsrun.ts and
// everything it loads into dist/tsrun (hack/compile.mjs).
function compile() {
  const bun = join(root, 'node_modules', '.bin', 'bun');
  if (!existsSync(bun)) {
    console.error('tsrun build: node_modules/.bin/bun is missing: run npm ci (bun is a pinned devDependency)');
    process.exit(1);
  }
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  run(bun, ['hack/compile.mjs'], env);
}

// The library's JavaScript, beside the executable's compile (both only read the sources).
function buildLibrary() {
  const child = spawn(process.execPath, ['hack/build-lib.mjs'], { cwd: root, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
}

buildNative();
for (const g of generators) if (existsSync(join(root, g))) run(process.execPath, [g]);
const library = buildLibrary();
compile();
const libraryExit = await library;
if (libraryExit !== 0) {
  console.error(`tsrun build: the library build failed (${libraryExit})`);
  process.exit(1);
}
