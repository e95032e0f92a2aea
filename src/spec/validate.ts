// Schema validation of config.json and state.json with the validators that
// hack/gen-spec.mjs precompiled; nothing is compiled at run time. Each problem
// becomes one line: `config.json: /process/cwd: must match pattern "^/"`.
import type { ErrorObject } from 'ajv';
import {
  validateConfig as configValidator,
  validateState as stateValidator,
  type Validator,
} from './generated/validators';
import { OCI_VERSION } from './version';
import { configError, type Diagnostic } from './diagnostic';
import { processValueErrors } from './semantics';
import type { Process } from './types';

export function validateConfig(doc: unknown): string[] {
  return run(configValidator, doc, 'config.json');
}

/** The schema's verdict on a config as diagnostics (check.ts), one per path and rule. */
export function configSchemaErrors(doc: unknown): Diagnostic[] {
  return problems(configValidator, doc).map(([path, message]) => configError(path, message));
}

export function validateState(doc: unknown): string[] {
  return run(stateValidator, doc, 'state.json');
}

/** A process.json of `exec --process`: the config's process schema, paths relative to the file. */
export function validateProcess(doc: unknown, file: string): string[] {
  const schema = run(configValidator, { ociVersion: OCI_VERSION, root: { path: 'rootfs' }, process: doc }, file).map(
    (l) => l.replace(`${file}: /process`, `${file}: `).replace(`${file}: : `, `${file}: /: `),
  );
  if (schema.length) return schema;
  // What config.json's check adds for its process (semantics.ts), relative to the file.
  return processValueErrors(doc as Process, '').map((p) => `${file}: ${p.path}: ${p.message}`);
}

function run(validator: Validator, doc: unknown, file: string): string[] {
  return problems(validator, doc).map(([path, msg]) => `${file}: ${path}: ${msg}`);
}

/** [JSON pointer, rule] of each failure, each once. */
function problems(validator: Validator, doc: unknown): [string, string][] {
  if (validator(doc)) return [];
  const unique = new Map<string, [string, string]>();
  for (const [path, msg] of (validator.errors ?? []).flatMap((e) => describe(e))) {
    const p: [string, string] = [path || '/', msg];
    unique.set(JSON.stringify(p), p);
  }
  return [...unique.values()];
}

const pointerToken = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function describe(e: ErrorObject): [string, string][] {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    // An if/then failure is reported again by the rule inside `then`, and a
    // propertyNames failure by the rule the name broke.
    case 'if':
    case 'propertyNames':
      return [];
    case 'required':
      return [[`${e.instancePath}/${pointerToken(String(p.missingProperty))}`, 'is required']];
    case 'dependencies':
      return [
        [
          `${e.instancePath}/${pointerToken(String(p.missingProperty))}`,
          `is required when "${String(p.property)}" is set`,
        ],
      ];
  }
  const rule =
    e.keyword === 'enum'
      ? `must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
      : (e.message ?? e.keyword);
  // A rule on property names reports the object, so say which name broke it.
  return [
    [e.instancePath, e.propertyName === undefined ? rule : `property name ${JSON.stringify(e.propertyName)} ${rule}`],
  ];
}
