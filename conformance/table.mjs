#!/usr/bin/env node
// Merge `run.mjs --json` result files into one markdown table, one column per file.
//   node conformance/table.mjs NAME=runc.json NAME=tsrun.json
import fs from 'node:fs';

const cols = process.argv.slice(2).map((a) => {
  const [name, file] = a.includes('=') ? a.split(/=(.*)/s) : [a, a];
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { name, byId: new Map(data.results.map((r) => [r.id, r])) };
});
if (!cols.length) {
  console.error('usage: node conformance/table.mjs NAME=results.json ...');
  process.exit(2);
}
const ids = [...new Set(cols.flatMap((c) => [...c.byId.keys()]))];
const clause = (id) => cols.map((c) => c.byId.get(id)).find(Boolean);
const cell = (r) =>
  !r ? '—' : r.status === 'PASS' ? 'PASS' : `${r.status}: ${r.reason.replace(/\|/g, '\\|').slice(0, 160)}`;
console.log(`| clause | spec | ${cols.map((c) => c.name).join(' | ')} |`);
console.log(`|---|---|${cols.map(() => '---').join('|')}|`);
for (const id of ids)
  console.log(`| \`${id}\` | ${clause(id).spec} | ${cols.map((c) => cell(c.byId.get(id))).join(' | ')} |`);
for (const c of cols) {
  const n = (s) => [...c.byId.values()].filter((r) => r.status === s).length;
  console.log(`\n${c.name}: ${n('PASS')} passed, ${n('FAIL')} failed, ${n('SKIP')} skipped`);
}
