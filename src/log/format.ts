// One log line exactly as runc's logger (logrus) writes it: text
// `time="…" level=… msg=… key=value…` or JSON with the keys in order, and
// the time in RFC 3339 to the second.
export type Level = 'debug' | 'info' | 'warning' | 'error';
export type Fields = Record<string, string | number>;

/** logrus quotes a text value unless it is made only of these. */
const BARE = /^[A-Za-z0-9\-._/@^+]*$/;

/** A string as Go's %q writes it (strconv.Quote). */
function goQuote(s: string): string {
  const named: Record<string, string> = {
    '"': '\\"',
    '\\': '\\\\',
    '\x07': '\\a',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
  };
  const escaped = s.replace(
    // eslint-disable-next-line no-control-regex -- escaping control characters is the point
    /["\\\x00-\x1f\x7f]/g,
    (c) => named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return `"${escaped}"`;
}

const textValue = (v: string | number) => (BARE.test(String(v)) ? String(v) : goQuote(String(v)));

export function logLine(level: Level, msg: string, json: boolean, fields: Fields = {}, now = new Date()): string {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  if (json) {
    const all: Fields = { ...fields, level, msg, time };
    const sorted = Object.fromEntries(
      Object.keys(all)
        .sort()
        .map((k) => [k, all[k]]),
    );
    return JSON.stringify(sorted) + '\n';
  }
  const rest = Object.keys(fields)
    .sort()
    .map((k) => ` ${k}=${textValue(fields[k])}`)
    .join('');
  return `time=${textValue(time)} level=${level} msg=${textValue(msg)}${rest}\n`;
}
