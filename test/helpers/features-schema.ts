// schemas/features.schema.json (runtime-spec 1.3's features.md and features-linux.md) compiled for tests: tsrun
// ships no features validator, it only prints the document.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SCHEMAS = join(__dirname, '..', '..', 'schemas');

/** Every schema error of `doc` as "path: message" lines; empty when it is a valid features document. */
export function featuresSchemaErrors(doc: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  for (const f of readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json')))
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')) as object);
  const validate = ajv.getSchema('features.schema.json')!;
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message} ${JSON.stringify(e.params)}`);
}
