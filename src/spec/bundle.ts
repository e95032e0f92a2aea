// Load and check a bundle (bundle.md): its directory, config.json and rootfs.
// Every problem becomes a InvalidInputError naming the file and what is wrong, so
// that `tsrun create` fails before anything is set up.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InvalidInputError } from '../errors';
import { warn } from '../log';
import { jsonErrorOffset, lineAndColumn } from './json-position';
import { absolutizeMountDestinations, checkSemantics } from './semantics';
import type { Spec } from './types';
import { validateConfig } from './validate';
import { unsupportedVersion } from './version';

export interface Bundle {
  /** Absolute path of the bundle directory. */
  bundle: string;
  config: Spec;
  /** Absolute path of the root filesystem (root.path resolved against the bundle). */
  rootfs: string;
}

/**
 * Reads `<bundle>/config.json`, validates it (schema, version, cross-field
 * rules) and resolves the rootfs. Relative mount destinations are rewritten
 * to absolute ones, with a warning. What tsrun does not implement yet is the
 * caller's to check, with unsupported.ts.
 */
export function loadBundle(bundlePath: string): Bundle {
  const bundle = resolve(bundlePath);
  requireDirectory(bundle, `bundle ${bundle}`);

  const configPath = resolve(bundle, 'config.json');
  return checkParsed(parseConfig(readConfig(configPath), configPath), bundle);
}

/**
 * The checks of loadBundle on a config already parsed (the library's
 * in-memory config; the caller's object is not modified): schema, version,
 * cross-field rules, and the rootfs resolved against the bundle directory.
 */
export function checkBundleConfig(doc: unknown, bundlePath: string): Bundle {
  const bundle = resolve(bundlePath);
  requireDirectory(bundle, `bundle ${bundle}`);
  // A copy: the checks below rewrite mount destinations, and create keeps the config.
  return checkParsed(JSON.parse(JSON.stringify(doc ?? null), nullAsAbsent) as Spec, bundle);
}

function checkParsed(config: Spec, bundle: string): Bundle {
  const schemaErrors = validateConfig(config);
  if (schemaErrors.length) throw new InvalidInputError(schemaErrors.join('\n'));

  const versionProblem = unsupportedVersion(config.ociVersion);
  if (versionProblem) throw new InvalidInputError(`config.json: /ociVersion: ${versionProblem}`);

  for (const w of absolutizeMountDestinations(config)) warn(w);
  const { errors, warnings } = checkSemantics(config);
  if (errors.length) throw new InvalidInputError(errors.join('\n'));
  for (const w of warnings) warn(w);

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
    throw new InvalidInputError(code === 'ENOENT' ? `${what}: does not exist` : `${what}: cannot be read: ${code ?? String(err)}`);
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

/**
 * JSON null as a member's value means "absent", as Go's decoder (runc) reads
 * it: profiles converted from Docker's carry `"args": null`. In arrays it stays.
 */
function nullAsAbsent(this: unknown, _key: string, value: unknown): unknown {
  return value === null && !Array.isArray(this) ? undefined : value;
}

function parseConfig(text: string, configPath: string): Spec {
  try {
    return JSON.parse(text, nullAsAbsent) as Spec;
  } catch (err) {
    throw new InvalidInputError(`${configPath}: not valid JSON: ${describeJsonError(err as Error, text)}`);
  }
}

/** V8's message, plus the line and column where the text stops being JSON. */
function describeJsonError(err: Error, text: string): string {
  const offset = jsonErrorOffset(text);
  if (offset === undefined) return err.message;
  const { line, column } = lineAndColumn(text, offset);
  return `${err.message} (line ${line}, column ${column})`;
}
