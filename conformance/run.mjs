#!/usr/bin/env node
// OCI runtime-spec conformance suite, runnable against any runtime that
// speaks runc's command line.
//
//   RUNTIME=runc node conformance/run.mjs [--filter REGEX] [--json FILE] [--list] [--keep]
//
// RUNTIME is a path or a name on PATH (default: bin/tsrun of this repo).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClauseFailure, ClauseSkip } from './lib/check.mjs';
import { Runtime, resolveRuntime } from './lib/runtime.mjs';
import { Sandbox } from './lib/sandbox.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.dirname(here);
const CLAUSE_TIMEOUT_MS = 60000;

function parseArgs(argv) {
  const opts = { filter: null, json: null, list: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--filter') opts.filter = new RegExp(value());
    else if (a === '--json') opts.json = value();
    else if (a === '--list') opts.list = true;
    else if (a === '--keep') opts.keep = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

function usage(err) {
  if (err) console.error(`conformance: ${err}`);
  console.error('usage: RUNTIME=<path|name> node conformance/run.mjs [--filter REGEX] [--json FILE] [--list] [--keep]');
  process.exit(err ? 2 : 0);
}

async function loadClauses() {
  const dir = path.join(here, 'clauses');
  const all = [];
  for (const f of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.mjs'))
    .sort()) {
    const mod = await import(path.join(dir, f));
    all.push(...mod.clauses);
  }
  const seen = new Set();
  for (const c of all) {
    if (seen.has(c.id)) throw new Error(`duplicate clause id ${c.id}`);
    seen.add(c.id);
  }
  return all;
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new ClauseFailure(`clause timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function runClause(suite, clause) {
  const t = new Sandbox(suite, clause.id);
  const started = Date.now();
  let status = 'PASS';
  let reason = '';
  try {
    await withTimeout(
      Promise.resolve().then(() => clause.run(t)),
      CLAUSE_TIMEOUT_MS,
    );
  } catch (e) {
    if (e instanceof ClauseSkip) {
      status = 'SKIP';
      reason = e.message;
    } else {
      status = 'FAIL';
      reason = e instanceof ClauseFailure ? e.message : `error: ${e.stack || e}`;
    }
  } finally {
    let leaked = [];
    try {
      leaked = suite.keep ? [] : t.cleanup();
    } catch (e) {
      leaked = [`cleanup failed: ${e.message}`];
    }
    if (leaked.length && status === 'PASS') {
      status = 'FAIL';
      reason = `mounts left on the host: ${leaked.join(', ')}`;
    }
  }
  return {
    id: clause.id,
    spec: clause.spec,
    quote: clause.quote,
    status,
    reason: oneLine(reason),
    ms: Date.now() - started,
  };
}

const oneLine = (s) => s.replace(/\s+/g, ' ').trim();

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const clauses = (await loadClauses()).filter((c) => !opts.filter || opts.filter.test(c.id));
  if (opts.list) {
    for (const c of clauses) console.log(`${c.id}\t${c.spec}\t${c.quote}`);
    return 0;
  }
  if (process.getuid() !== 0) {
    console.error('conformance: must run as root');
    return 2;
  }
  const binary = resolveRuntime(process.env.RUNTIME || path.join(repo, 'bin/tsrun'));
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-conformance-'));
  fs.chmodSync(base, 0o755);
  const rootfs = path.join(base, 'rootfs');
  const mk = spawnSync(path.join(repo, 'hack/mkrootfs.sh'), [rootfs], { encoding: 'utf8' });
  if (mk.status !== 0) {
    console.error(`conformance: hack/mkrootfs.sh failed: ${mk.stderr}`);
    return 2;
  }
  // Mount points used by clauses on the shared (read-only) rootfs, made once
  // so no runtime has to create them in it.
  for (const d of ['out', 'mnt/a', 'mnt/b', 'mnt/c']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  const stateRoot = path.join(base, 'state');
  fs.mkdirSync(stateRoot);
  const suite = { runtime: new Runtime(binary, stateRoot), base, rootfs, counter: 0, keep: opts.keep };

  const version = suite.runtime.exec(['--version']).stdout.split('\n')[0].trim();
  console.log(`runtime: ${binary} (${version || 'no --version'})`);
  console.log(`clauses: ${clauses.length}\n`);
  const width = Math.max(...clauses.map((c) => c.id.length), 6);
  console.log(`| ${'clause'.padEnd(width)} | result | detail`);
  console.log(`|${'-'.repeat(width + 2)}|--------|-------`);

  const results = [];
  for (const clause of clauses) {
    const r = await runClause(suite, clause);
    results.push(r);
    console.log(`| ${r.id.padEnd(width)} | ${r.status.padEnd(6)} | ${r.reason}`);
  }

  const n = (s) => results.filter((r) => r.status === s).length;
  console.log(`\n${n('PASS')} passed, ${n('FAIL')} failed, ${n('SKIP')} skipped`);

  if (opts.json) {
    fs.writeFileSync(
      opts.json,
      JSON.stringify({ runtime: binary, version, date: new Date().toISOString(), results }, null, 2) + '\n',
    );
  }
  if (!opts.keep) {
    // Never recurse into a mount a runtime may have leaked under the suite's dir.
    const mounts = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4]);
    for (const m of mounts.filter((m) => m && m.startsWith(base + '/')).reverse()) spawnSync('umount', ['-l', m]);
    fs.rmSync(base, { recursive: true, force: true });
  } else console.log(`kept ${base}`);
  return n('FAIL') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`conformance: ${e.stack || e}`);
    process.exit(2);
  },
);
