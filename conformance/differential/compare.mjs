// Field-by-field comparison of two normalised records (normalise.mjs) and the
// explanation list (explained.json): every difference must be either explained
// by an entry naming the variant, the field and the clause or documented
// behaviour that justifies it, or it is reported as unexplained.
import fs from 'node:fs';

/** The fields whose values differ: [{ field, runtime, reference }] ("(absent)" where one side has none). */
export function differences(runtime, reference) {
  const keys = [...new Set([...Object.keys(runtime), ...Object.keys(reference)])].sort();
  return keys
    .filter((k) => runtime[k] !== reference[k])
    .map((field) => ({ field, runtime: runtime[field] ?? '(absent)', reference: reference[field] ?? '(absent)' }));
}

/** A glob ("*" = any run of characters, "[abc]" = one of them) as an anchored RegExp. */
export function glob(pattern) {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** explained.json: [{ variant, field, why, ref }], variant and field globs; checked for shape on load. */
export function loadExplanations(file) {
  const list = JSON.parse(fs.readFileSync(file, 'utf8'));
  list.forEach((e, i) => {
    for (const k of ['variant', 'field', 'why', 'ref'])
      if (typeof e[k] !== 'string' || !e[k]) throw new Error(`${file}: entry ${i}: "${k}" must be a non-empty string`);
  });
  return list.map((e) => ({ ...e, variantRe: glob(e.variant), fieldRe: glob(e.field), used: 0 }));
}

/** The explanation of one difference, or undefined; counts uses so stale entries can be reported. */
export function explain(explanations, variant, field) {
  const e = explanations.find((x) => x.variantRe.test(variant) && x.fieldRe.test(field));
  if (e) e.used++;
  return e;
}
