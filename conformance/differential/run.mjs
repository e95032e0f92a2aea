#!/usr/bin/env node
// The differential harness: every bundle variant of variants.mjs under the
// runtime under test and a reference runtime, the probe's view compared field
// by field (docs/differential.md).
//
//   node conformance/differential/run.mjs [--runtime PATH|NAME] [--reference PATH|NAME]
//        [--filter REGEX] [--jobs N] [--json FILE] [--keep] [--list]
//
// --runtime (or $RUNTIME): default bin/tsrun of this repo; --reference (or
// $REFERENCE): default runc. Exit status 1 when a difference is not explained
// in explained.json, or a variant does not do what it expects under either.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveRuntime } from '../lib/runtime.mjs';
import { differences, explain, loadExplanations } from './compare.mjs';
import { normalise } from './normalise.mjs';
import { Runtime, runVariant } from './runner.mjs';
import { variants } from './variants.mjs';
import { cleanupSuite, makeSuite } from './suite.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

function parseArgs(argv) {
  const opts = {
    runtime: process.env.RUNTIME || path.join(repo, 'bin/tsrun'),
    reference: process.env.REFERENCE || 'runc',
    filter: null,
    jobs: 2,
    json: null,
    keep: false,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runtime') opts.runtime = value();
    else if (a === '--reference') opts.reference = value();
    else if (a === '--filter') opts.filter = new RegExp(value());
    else if (a === '--jobs') opts.jobs = Math.max(1, Number(value()) || 1);
    else if (a === '--json') opts.json = value();
    else if (a === '--keep') opts.keep = true;
    else if (a === '--list') opts.list = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

function usage(err) {
  if (err) console.error(`differential: ${err}`);
  console.error(
    'usage: node conformance/differential/run.mjs [--runtime PATH|NAME] [--reference PATH|NAME] ' +
      '[--filter REGEX] [--jobs N] [--json FILE] [--keep] [--list]',
  );
  process.exit(err ? 2 : 0);
}

/** Run fn over items, at most n at a time, keeping the order of results; none is started once stopped() holds. */
async function pool(items, n, fn, stopped = () => false) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stopped()) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

/** One variant's verdict: its differences (each explained or not) and its problems. */
function judge(variant, a, b, explanations) {
  const problems = [a, b].filter((n) => n.setupError).map((n) => `the variant's setup failed: ${n.setupError}`);
  for (const [name, n] of [
    ['runtime', a],
    ['reference', b],
  ])
    if (n.probeError && variant.expect === 'accept' && !variant.exec?.noProbe)
      problems.push(`${name}: ${n.probeError}`);
  const want = String(variant.expect === 'accept');
  if (a.fields.accepted !== want && b.fields.accepted !== want)
    problems.push(`expected both to ${variant.expect} it, neither did: the variant tests nothing`);
  // One runtime refused what the other ran: the probe's fields of one side only say nothing more.
  const compared =
    a.fields.accepted === b.fields.accepted
      ? differences(a.fields, b.fields)
      : [{ field: 'accepted', runtime: a.refusal ?? 'accepted', reference: b.refusal ?? 'accepted' }];
  const diffs = compared.map((d) => ({ ...d, explained: explain(explanations, variant.name, d.field) }));
  return { variant: variant.name, section: variant.section, diffs, problems };
}

function report(verdicts, names) {
  let unexplained = 0;
  for (const v of verdicts) {
    const open = v.diffs.filter((d) => !d.explained);
    unexplained += open.length + v.problems.length;
    const status = open.length || v.problems.length ? 'DIFFERS' : v.diffs.length ? 'explained' : 'same';
    console.log(`${status.padEnd(9)} ${v.variant} (${v.section})`);
    for (const p of v.problems) console.log(`    problem: ${p}`);
    for (const d of v.diffs) {
      const tag = d.explained ? `explained (${d.explained.ref})` : 'UNEXPLAINED';
      console.log(`    ${d.field}: ${tag}`);
      if (!d.explained) {
        console.log(`      ${names[0]}: ${JSON.stringify(d.runtime)}`);
        console.log(`      ${names[1]}: ${JSON.stringify(d.reference)}`);
      }
    }
  }
  return unexplained;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const selected = variants.filter((v) => !opts.filter || opts.filter.test(v.name));
  if (opts.list) {
    for (const v of selected) console.log(`${v.name}\t${v.expect}\t${v.section}`);
    return 0;
  }
  if (process.getuid() !== 0) usage('must run as root');
  const explanations = loadExplanations(path.join(here, 'explained.json'));
  const binaries = [resolveRuntime(opts.runtime), resolveRuntime(opts.reference)];
  const suite = makeSuite(repo);
  const runtimes = [new Runtime('runtime', binaries[0], suite.base), new Runtime('reference', binaries[1], suite.base)];
  const names = binaries.map((b) => path.basename(b));
  for (const [i, b] of binaries.entries()) console.log(`${i ? 'reference' : 'runtime  '}: ${b} (${version(b)})`);
  console.log(`variants: ${selected.length}, ${opts.jobs} at a time\n`);
  const started = Date.now();
  let verdicts;
  let leftovers;
  try {
    const jobs = selected.flatMap((v) => runtimes.map((rt) => ({ v, rt })));
    // A SIGTERM (the tap test's timeout) lets the running variants finish, then everything is cleaned up.
    let term = false;
    process.once('SIGTERM', () => (term = true));
    const records = await pool(
      jobs,
      opts.jobs,
      ({ v, rt }) => runVariant(suite, rt, v),
      () => term,
    );
    if (term) throw new Error('stopped by SIGTERM before every variant ran (cleaned up)');
    verdicts = selected.map((v, i) =>
      judge(v, normalise(records[2 * i], suite), normalise(records[2 * i + 1], suite), explanations),
    );
  } finally {
    leftovers = cleanupSuite(suite, runtimes, opts.keep);
  }
  let unexplained = report(verdicts, names);
  const stale = explanations.filter((e) => !e.used && selected.some((v) => e.variantRe.test(v.name)));
  for (const e of stale) console.log(`note: explanation not needed any more: ${e.variant} ${e.field} (${e.ref})`);
  for (const l of leftovers) console.log(`left behind: ${l}`);
  unexplained += leftovers.length;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n${verdicts.length} variants in ${secs} s; ${unexplained} unexplained differences or problems`);
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ binaries, verdicts, secs }, null, 2) + '\n');
  return unexplained ? 1 : 0;
}

function version(binary) {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return (r.stdout || '').split('\n')[0].trim() || 'no --version';
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`differential: ${e.stack || e}`);
    process.exit(2);
  },
);
