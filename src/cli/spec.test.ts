import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { specCommand } from './spec';
import { InvalidInputError } from '../errors';
import { defaultSpec } from '../spec/default';
import { semanticDiagnostics } from '../spec/semantics';
import { isError } from '../spec/diagnostic';
import { validateConfig } from '../spec/validate';
import { OCI_VERSION } from '../spec/version';
import { skipBecause } from '../../test/helpers/skip';

const runSpec = (args: { bundle?: string; rootless: boolean }) => (specCommand.handler as (a: unknown) => void)(args);

t.test("the default spec passes tsrun's own schema and rules", async (t) => {
  for (const rootless of [false, true]) {
    const s = defaultSpec(rootless);
    t.same(validateConfig(s), [], `schema, rootless=${rootless}`);
    t.same(semanticDiagnostics(s).filter(isError), [], `rules, rootless=${rootless}`);
    t.equal(s.ociVersion, OCI_VERSION);
  }
});

t.test('tsrun spec writes config.json into the bundle and refuses to overwrite it', async (t) => {
  const dir = t.testdir({});
  runSpec({ bundle: dir, rootless: false });
  const written = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  t.same(written, JSON.parse(JSON.stringify(defaultSpec())));
  writeFileSync(join(dir, 'config.json'), 'mine');
  t.throws(
    () => runSpec({ bundle: dir, rootless: false }),
    new InvalidInputError('File config.json exists. Remove it first'),
  );
  t.equal(readFileSync(join(dir, 'config.json'), 'utf8'), 'mine', 'existing file untouched');
  t.throws(
    () => runSpec({ bundle: join(dir, 'nope'), rootless: false }),
    new InvalidInputError(`bundle ${join(dir, 'nope')}: does not exist`),
  );
});

t.test('tsrun spec --rootless maps the caller to root in a user namespace', async (t) => {
  const dir = t.testdir({});
  runSpec({ bundle: dir, rootless: true });
  const s = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  t.same(s.linux.uidMappings, [{ containerID: 0, hostID: process.geteuid!(), size: 1 }]);
  t.ok(s.linux.namespaces.some((n: { type: string }) => n.type === 'user'));
  t.notOk(s.linux.namespaces.some((n: { type: string }) => n.type === 'network'));
  t.equal(s.linux.resources, undefined);
});

// runc spec is the reference: same container, only the version and hostname differ.
t.test('matches runc spec', async (t) => {
  let runc: string;
  try {
    runc = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
  } catch {
    return skipBecause(t, 'runc is not installed (apt-get install runc)');
  }
  for (const rootless of [false, true]) {
    const dir = t.testdir({});
    execFileSync(runc, ['spec', '--bundle', dir, ...(rootless ? ['--rootless'] : [])]);
    t.ok(existsSync(join(dir, 'config.json')));
    const theirs = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const ours = JSON.parse(JSON.stringify(defaultSpec(rootless)));
    for (const s of [theirs, ours]) {
      delete s.ociVersion;
      delete s.hostname;
    }
    t.same(ours, theirs, `rootless=${rootless}`);
  }
});
