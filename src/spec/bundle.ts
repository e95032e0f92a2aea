// Load and check a bundle (bundle.md): its directory, config.json and rootfs.
// Every problem becomes a InvalidInputError naming the file and what is wrong, so
// that `tsrun create` fails before anything is set up.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InvalidInputError } from '../errors';
import { acceptConfig, checkConfig } from './check';
import { diagnosticLine } from './diagnostic';
import type { Spec } from './types';

export interface Bundle {
  /** Absolute path of the bundle directory. */
  bundle: string;
  config: Spec;
  /** Absolute path of the root filesystem (root.path resolved against the bundle). */
  rootfs: string;
}

/**
 * Reads `<bundle>/config.json`, checks it once (check.ts) and resolves the
 * rootfs. Relative mount destinations are rewritten to absolute ones, with a
 * warning. What tsrun does not implement yet is the caller's to check, with
 * unsupported.ts.
 */
export function loadBundle(bundlePath: string): Bundle {
  const bundle = resolve(bundlePath);
  requireDirectory(bundle, `bundle ${bundle}`);
  const configPath = resolve(bundle, 'config.json');
  const checked = checkConfig({ text: readConfig(configPath) });
  const config = acceptConfig(
    checked,
    (errors) =>
      new InvalidInputError(
        checked.notJson ? `${configPath}: ${errors[0].message}` : errors.map(diagnosticLine).join('\n'),
      ),
  );
  return withRootfs(config, bundle);
}

/** The bundle of a config already accepted (the library's in-memory config): the directory and its rootfs. */
export function bundleOfConfig(config: Spec, bundlePath: string): Bundle {
  const bundle = resolve(bundlePath);
  requireDirectory(bundle, `bundle ${bundle}`);
  return withRootfs(config, bundle);
}

function withRootfs(config: Spec, bundle: string): Bundle {
  const rootfs = isAbsolute(config.root.path) ? resolve(config.root.path) : resolve(bundle, config.root.path);
  requireDirectory(rootfs, `config.json: /root/path: rootfs ${rootfs}`);
  return { bundle, config, rootfs };
}

function requireDirectory(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      code === 'ENOENT' ? `${what}: does not exist` : `${what}: cannot be read: ${code ?? String(err)}`,
    );
  }
  if (!st.isDirectory()) throw new InvalidInputError(`${what}: is not a directory`);
}

function readConfig(configPath: string): string {
  try {
    return readFileSync(configPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InvalidInputError(`${configPath}: does not exist (a bundle needs a config.json)`);
    throw new InvalidInputError(`${configPath}: cannot be read: ${code ?? String(err)}`);
  }
}
