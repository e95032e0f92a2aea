// validateConfig for the library: every problem of a config object as a
// diagnostic with its JSON path, computed on a copy (no side effects): the
// schema first, then, for a config the schema accepts, the version and the
// cross-field rules that create applies (src/spec/bundle.ts).
import { InvalidInputError } from '../errors';
import { validateConfig as schemaLines } from '../spec/validate';
import { unsupportedVersion } from '../spec/version';
import { absolutizeMountDestinations, checkSemantics } from '../spec/semantics';
import type { Spec } from '../spec/types';

export interface Diagnostic {
  severity: 'error' | 'warning';
  /** JSON pointer into the config ("/process/cwd"), "/" for the whole document. */
  path: string;
  message: string;
}

/** The library's checks word their lines `config.json: <pointer>: <message>`. */
function diagnostic(severity: Diagnostic['severity'], line: string): Diagnostic {
  const m = /^config\.json: (\/\S*): ([\s\S]*)$/.exec(line);
  return m ? { severity, path: m[1], message: m[2] } : { severity, path: '/', message: line.replace(/^config\.json: /, '') };
}

export function validateConfig(config: unknown): Diagnostic[] {
  const schema = schemaLines(config);
  if (schema.length) return schema.map((l) => diagnostic('error', l));
  const copy = JSON.parse(JSON.stringify(config)) as Spec;
  const out: Diagnostic[] = [];
  const version = unsupportedVersion(copy.ociVersion);
  if (version) out.push({ severity: 'error', path: '/ociVersion', message: version });
  out.push(...absolutizeMountDestinations(copy).map((l) => diagnostic('warning', l)));
  const { errors, warnings } = checkSemantics(copy);
  out.push(...errors.map((l) => diagnostic('error', l)), ...warnings.map((l) => diagnostic('warning', l)));
  return out;
}

/** A config that fails validateConfig; `diagnostics` holds every problem (the message lists them too). */
export class InvalidConfigError extends InvalidInputError {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `config: ${d.path}: ${d.message}`).join('\n'));
  }
}

/** Throws InvalidConfigError unless the config has no error (warnings pass). */
export function requireValidConfig(config: unknown): void {
  const errors = validateConfig(config).filter((d) => d.severity === 'error');
  if (errors.length) throw new InvalidConfigError(errors);
}
