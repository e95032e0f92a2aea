import t from 'tap';
import { jsonErrorOffset, lineAndColumn } from './json-position';

t.test('finds where JSON goes wrong', async (t) => {
  const cases: [string, number | undefined][] = [
    ['{"a": 1}', undefined],
    [' [1, -2.5e3, "x\\n\\u00e9", true, null, {}] ', undefined],
    ['{"a": }', 6],
    ['{', 1],
    ['{"a":1,}', 7],
    ['[1 2]', 3],
    ['{"a":\n tru}', 10],
    ['"\\u00zz"', 2],
    ['{} x', 3],
    ['', 0],
    ['01', 1],
  ];
  for (const [text, offset] of cases) {
    t.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
    let valid = true;
    try {
      JSON.parse(text);
    } catch {
      valid = false;
    }
    t.equal(valid, offset === undefined, `agrees with JSON.parse on ${JSON.stringify(text)}`);
  }
});

t.test('line and column', async (t) => {
  t.same(lineAndColumn('ab\ncd\nef', 4), { line: 2, column: 2 });
  t.same(lineAndColumn('x', 0), { line: 1, column: 1 });
});
