// The package as a user gets it: `npm pack` of this checkout, installed into
// an empty project (its dependencies from npm's cache, as `npm ci` left it;
// the registry only for what the cache lacks), where the example of
// docs/api.md type-checks against the installed declarations and, as root,
// runs a busybox container from start to delete.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, REPO, cleanEnv, testEnv, testConfig, uniqueId } from '../../helpers/harness';

const bin = (name: string) => join(REPO, 'node_modules', '.bin', name);

/** The first ```ts block of docs/api.md: the example, exactly as documented. */
function docsExample(): string {
  const m = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(REPO, 'docs', 'api.md'), 'utf8'));
  if (!m) throw new Error('docs/api.md has no ```ts example');
  return m[1];
}

/** Packs the checkout (its build must be current: the tests run it) with fresh declarations. */
function pack(dest: string): string {
  execFileSync(process.execPath, [join(REPO, 'hack', 'build-lib.mjs'), '--types'], { cwd: REPO, stdio: 'pipe' });
  // Scripts off: `prepare` would rebuild dist/tsrun under the tests that run it.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dest], {
    cwd: REPO,
    encoding: 'utf8',
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return join(dest, out.trim().split('\n').at(-1)!);
}

function install(project: string, tarball: string): void {
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: project,
    env: cleanEnv(),
    stdio: 'pipe',
    timeout: 240_000,
  });
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('npm pack → install into an empty project → the docs example runs there', async (t) => {
    const env = testEnv(t);
    const project = join(env.dir, 'consumer');
    install(project, pack(env.dir));
    const pkg = join(project, 'node_modules', 'tsrun');
    t.same(
      readdirSync(join(pkg, 'dist')).sort(),
      ['lib', 'tsrun'],
      'the executable and the library are in the package',
    );
    const version = spawnSync(join(project, 'node_modules', '.bin', 'tsrun'), ['--version'], { encoding: 'utf8' });
    t.match(version.stdout, /^tsrun version/m, 'bin: the installed executable runs');

    const cjs = spawnSync(
      process.execPath,
      ['-e', "const t = require('tsrun'); console.log(typeof t.createContainer, t.defaultExecutable())"],
      { cwd: project, encoding: 'utf8' },
    );
    t.equal(
      cjs.stdout.trim(),
      `function ${join(pkg, 'dist', 'tsrun')}`,
      `require('tsrun'), finding its executable in the package: ${cjs.stderr}`,
    );
    const esm = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { InvalidInputError } from 'tsrun'; import { createRequire } from 'node:module'; console.log(createRequire(import.meta.url)('tsrun').InvalidInputError === InvalidInputError)",
      ],
      { cwd: project, encoding: 'utf8' },
    );
    t.equal(esm.stdout.trim(), 'true', `import and require share one copy (instanceof holds): ${esm.stderr}`);

    writeFileSync(join(project, 'example.ts'), docsExample());
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(REPO, 'node_modules', '@types')],
        },
        files: ['example.ts'],
      }),
    );
    const tsc = spawnSync(bin('tsc'), ['-p', project], { encoding: 'utf8' });
    t.equal(
      tsc.status,
      0,
      `the example type-checks against the installed declarations (no skipLibCheck): ${tsc.stdout}${tsc.stderr}`,
    );
    execFileSync(
      bin('esbuild'),
      [
        'example.ts',
        '--format=esm',
        '--platform=node',
        '--packages=external',
        '--outfile=example.mjs',
        '--log-level=warning',
      ],
      { cwd: project },
    );

    const bundle = env.bundle(testConfig(uniqueId('pkg'), ['sleep', '30']));
    const run = spawnSync(process.execPath, ['example.mjs', bundle, env.root], {
      cwd: project,
      encoding: 'utf8',
      env: cleanEnv(),
      timeout: 60_000,
    });
    t.equal(run.status, 0, `the example exits 0: ${run.stderr}`);
    t.match(run.stdout, /^status: running$/m, 'it started the container');
    t.match(run.stdout, /^processes: 1$/m, 'a stats event arrived');
    t.match(run.stdout, /^hello from exec$/m, "the exec'd process wrote to the example's stdout");
    t.match(run.stdout, /^exec exited with 0$/m);
    env.done();
  });
}
