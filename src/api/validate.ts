// validateConfig for the library: every problem of a config object as a
// diagnostic with its JSON path, from the one check create applies too
// (src/spec/check.ts), computed on a copy (no side effects).
import { InvalidInputError } from '../errors';
import { acceptConfig, checkConfig, type Diagnostic } from '../spec/check';
import type { Spec } from '../spec/types';

export type { Diagnostic } from '../spec/check';

export function validateConfig(config: unknown): Diagnostic[] {
  return checkConfig({ object: config }).diagnostics;
}

/** A config that fails validateConfig; `diagnostics` holds every problem (the message lists them too). */
export class InvalidConfigError extends InvalidInputError {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `config: ${d.path}: ${d.message}`).join('\n'));
  }
}

/** The checked copy of the config (its warnings logged); InvalidConfigError if it has an error. */
export function acceptedConfig(config: unknown): Spec {
  return acceptConfig(checkConfig({ object: config }), (errors) => new InvalidConfigError(errors));
}
