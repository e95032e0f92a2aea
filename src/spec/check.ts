// The one check of a config, whichever way it comes: the bundle's
// config.json (the CLI, and the library given a bundle), the library's config
// object (createContainer) and validateConfig. In order: JSON syntax, with the
// line and column of an error; JSON null members read as absent; the schema;
// the version; relative mount destinations made absolute (a warning); the
// cross-field rules. checkConfig only reports; acceptConfig is how create
// takes the verdict.
import { jsonErrorOffset, lineAndColumn } from './json-position';
import { absolutizeMountDestinations, semanticDiagnostics } from './semantics';
import type { Spec } from './types';
import { configSchemaErrors } from './validate';
import { unsupportedVersion } from './version';
import { warn } from '../log';
import { configError, diagnosticLine, isError, type Diagnostic } from './diagnostic';

export type { Diagnostic } from './diagnostic';

/** The text of a config.json, or a config already in memory (never modified). */
export type ConfigSource = { text: string } | { object: unknown };

export interface ConfigCheck {
  /** The checked copy to run, when there is no error. */
  config?: Spec;
  /** Errors and warnings; a text that is not JSON has one error, whose message gives its line and column. */
  diagnostics: Diagnostic[];
  /** The text is not JSON: the file, not a path in it, is what the error is about. */
  notJson?: boolean;
}

export function checkConfig(source: ConfigSource): ConfigCheck {
  let doc: unknown;
  if ('text' in source) {
    try {
      doc = JSON.parse(source.text);
    } catch (err) {
      return {
        notJson: true,
        diagnostics: [configError('/', `not valid JSON: ${describeJsonError(err as Error, source.text)}`)],
      };
    }
  } else doc = source.object;
  const config = withoutNullMembers(doc) as Spec;
  const schema = configSchemaErrors(config);
  if (schema.length) return { diagnostics: schema };
  const version = unsupportedVersion(config.ociVersion);
  const diagnostics = [
    ...(version ? [configError('/ociVersion', version)] : []),
    ...absolutizeMountDestinations(config),
    ...semanticDiagnostics(config),
  ];
  return diagnostics.some(isError) ? { diagnostics } : { config, diagnostics };
}

/**
 * A checked config's warnings logged, its copy returned; with an error, what
 * `fail` makes of the errors is thrown (each caller words them its way).
 */
export function acceptConfig(checked: ConfigCheck, fail: (errors: Diagnostic[]) => Error): Spec {
  for (const d of checked.diagnostics) if (!isError(d)) warn(diagnosticLine(d));
  if (!checked.config) throw fail(checked.diagnostics.filter(isError));
  return checked.config;
}

/**
 * A copy in which a member whose value is JSON null is absent, as Go's
 * decoder (runc) reads it: profiles converted from Docker's carry
 * `"args": null`. In arrays null stays (and the schema refuses it).
 */
function withoutNullMembers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullMembers);
  if (!isPlainObject(value)) return value;
  // fromEntries defines own properties: a "__proto__" member stays a member.
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, withoutNullMembers(v)]),
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** V8's message, plus the line and column where the text stops being JSON. */
function describeJsonError(err: Error, text: string): string {
  const offset = jsonErrorOffset(text);
  if (offset === undefined) return err.message;
  const { line, column } = lineAndColumn(text, offset);
  return `${err.message} (line ${line}, column ${column})`;
}
