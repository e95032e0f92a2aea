// config.json annotations "org.systemd.property.NAME" = VALUE: extra
// properties of the container's unit, as runc passes them on. VALUE is in
// GVariant's text form ("uint64 5000", "'text'", "true", "['a', 'b']");
// NAME ending in "Sec" is converted to the D-Bus "USec" property, seconds to
// microseconds, as systemctl and runc do. Kept as (name, signature, value),
// 64-bit integers as decimal strings, so that state.json can hold them and
// nothing here needs the D-Bus codec.

export const SYSTEMD_PROPERTY_PREFIX = 'org.systemd.property.';

export interface AnnotationProperty {
  name: string;
  /** D-Bus signature: "t", "u", "x", "i", "q", "n", "y", "d", "b", "s", "as". */
  signature: string;
  /** 64-bit integers ("t", "x") as decimal strings; number, boolean, string, string[]. */
  value: unknown;
}

export class AnnotationError extends Error {}

const INTEGER_TYPES: Record<string, { sig: string; min: bigint; max: bigint }> = {
  byte: { sig: 'y', min: 0n, max: 255n },
  int16: { sig: 'n', min: -(2n ** 15n), max: 2n ** 15n - 1n },
  uint16: { sig: 'q', min: 0n, max: 2n ** 16n - 1n },
  int32: { sig: 'i', min: -(2n ** 31n), max: 2n ** 31n - 1n },
  uint32: { sig: 'u', min: 0n, max: 2n ** 32n - 1n },
  int64: { sig: 'x', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  uint64: { sig: 't', min: 0n, max: 2n ** 64n - 1n },
};

const WIDE = new Set(['x', 't']);

function integer(text: string, type: string): AnnotationProperty['value'] {
  const t = INTEGER_TYPES[type];
  if (!/^[+-]?\d+$/.test(text)) throw new AnnotationError(`"${text}" is not an integer`);
  const n = BigInt(text);
  if (n < t.min || n > t.max) throw new AnnotationError(`${text} is out of range for ${type}`);
  return WIDE.has(t.sig) ? String(n) : Number(n);
}

function quoted(text: string): string | undefined {
  const m = /^'((?:[^'\\]|\\.)*)'$|^"((?:[^"\\]|\\.)*)"$/.exec(text);
  return m ? (m[1] ?? m[2]).replace(/\\(.)/g, '$1') : undefined;
}

/** GVariant text → signature and value (the forms unit properties take). */
export function parseGVariant(text: string): { signature: string; value: unknown } {
  const v = text.trim();
  const typed = /^(byte|u?int16|u?int32|u?int64|double|boolean)\s+(.+)$/.exec(v);
  if (typed) {
    const [, type, rest] = typed;
    if (type === 'boolean')
      return rest === 'true' || rest === 'false' ? { signature: 'b', value: rest === 'true' } : bad(v);
    if (type === 'double') return Number.isFinite(Number(rest)) ? { signature: 'd', value: Number(rest) } : bad(v);
    return { signature: INTEGER_TYPES[type].sig, value: integer(rest.trim(), type) };
  }
  if (v === 'true' || v === 'false') return { signature: 'b', value: v === 'true' };
  if (/^[+-]?\d+$/.test(v)) return { signature: 'i', value: integer(v, 'int32') };
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v)) return { signature: 'd', value: Number(v) };
  const s = quoted(v);
  if (s !== undefined) return { signature: 's', value: s };
  const list = /^(?:@as\s*)?\[(.*)\]$/.exec(v);
  if (list) {
    const items = list[1].trim() === '' ? [] : list[1].split(',').map((i) => quoted(i.trim()));
    if (items.every((i) => i !== undefined)) return { signature: 'as', value: items };
  }
  return bad(v);
}

function bad(text: string): never {
  throw new AnnotationError(`cannot parse ${JSON.stringify(text)} as a GVariant value`);
}

/** "TimeoutStopSec" (a lowercase letter before "Sec") → "TimeoutStopUSec", the value in microseconds. */
function secondsToMicros(name: string, p: { signature: string; value: unknown }): AnnotationProperty {
  const base = name.slice(0, -3);
  if (!name.endsWith('Sec') || !/[a-z]$/.test(base)) return { name, ...p };
  let us: bigint;
  if (p.signature === 'd') us = BigInt(Math.round((p.value as number) * 1e6));
  else if (/^[yqnuixt]$/.test(p.signature)) us = BigInt(p.value as number | string) * 1_000_000n;
  else throw new AnnotationError(`a duration in seconds must be a number, not ${JSON.stringify(p.value)}`);
  if (us < 0n) throw new AnnotationError('a duration cannot be negative');
  return { name: `${base}USec`, signature: 't', value: String(us) };
}

/** The unit properties the annotations ask for; an error names the annotation and the reason. */
export function annotationProperties(
  annotations: Record<string, string | undefined> | undefined,
): AnnotationProperty[] {
  const out: AnnotationProperty[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(SYSTEMD_PROPERTY_PREFIX) || text === undefined) continue;
    const name = key.slice(SYSTEMD_PROPERTY_PREFIX.length);
    const where = `annotations["${key}"]`;
    if (!/^[A-Za-z]{3,}$/.test(name))
      throw new AnnotationError(`${where}: "${name}" is not a unit property name (ASCII letters, 3 or more)`);
    try {
      out.push(secondsToMicros(name, parseGVariant(text)));
    } catch (err) {
      throw new AnnotationError(`${where}: ${(err as Error).message}`);
    }
  }
  return out;
}
