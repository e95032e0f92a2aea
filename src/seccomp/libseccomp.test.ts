// Cross-check with libseccomp (Debian's libseccomp2, driven by the dev-only
// hack/seccomp-libseccomp-export.mjs): for Docker's default profile, every
// x86_64/x86/x32 syscall number and a sample of arguments for the rules
// that have some get the same verdict from both programs. Also prints the
// size and per-syscall instruction counts quoted in docs/seccomp.md.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileSeccomp } from './compile';
import { decode, type Insn } from './bpf';
import { run } from './interpret';
import { actionName } from './profile';
import { ARCHES, X32_SYSCALL_BIT } from './arch';
import { fromDockerProfile } from './docker-profile';
import type { LinuxSeccomp } from '../spec/types';
import { skipBecause } from '../../test/helpers/skip';
import { TWO_CONDITIONS_PROFILE } from '../../test/helpers/seccomp-two-conditions';

const PROFILE = '/usr/share/containers/seccomp.json';
const exporter = join(__dirname, '../../hack/seccomp-libseccomp-export.mjs');

function libseccompProgram(file: string, optimize: number): Insn[] | string {
  const r = spawnSync(process.execPath, [exporter, file, '--optimize', String(optimize)], { encoding: 'utf8' });
  if (r.status === 3) return `libseccomp.so.2 is not loadable (${r.stderr.trim()}); apt-get install libseccomp2`;
  if (r.status !== 0) throw new Error(`exporter failed: ${r.stderr}`);
  return decode(Buffer.from(r.stdout.trim(), 'base64'));
}

function stats(prog: Insn[]) {
  const counts = Object.values(ARCHES.x86_64.table).map((nr) => run(prog, { arch: ARCHES.x86_64.audit, nr }).count);
  return { length: prog.length, worst: Math.max(...counts), mean: counts.reduce((a, b) => a + b, 0) / counts.length };
}

t.test("Docker's default profile: same verdicts as libseccomp, no more instructions per syscall", (t) => {
  if (!existsSync(PROFILE)) {
    skipBecause(
      t,
      `${PROFILE} is missing: apt-get install golang-github-containers-common (Debian 12's containers-common)`,
    );
    return t.end();
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-seccomp-x-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const seccomp = fromDockerProfile(JSON.parse(readFileSync(PROFILE, 'utf8')), ARCHES.x86_64);
  const file = join(dir, 'seccomp.json');
  writeFileSync(file, JSON.stringify(seccomp));

  const lib = libseccompProgram(file, 1);
  if (typeof lib === 'string') {
    skipBecause(t, lib);
    return t.end();
  }
  const libTree = libseccompProgram(file, 2) as Insn[];
  const times: number[] = [];
  let ours: Insn[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    ours = decode(compileSeccomp(seccomp, { nativeArch: ARCHES.x86_64 }).program);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);

  // Arguments worth trying: the rules' own values, their neighbours, and edge values.
  const values = new Set<bigint>([0n, 1n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0xffffffffffffff9cn]);
  for (const r of seccomp.syscalls ?? [])
    for (const a of r.args ?? [])
      for (const d of [-1, 0, 1]) values.add(BigInt.asUintN(64, BigInt(a.value) + BigInt(d)));
  const argSamples = [...values].flatMap((v) => [[v], [v, 0n, v], [16n, 0n, v], [v, 0n, 9n]]);
  const withArgs = new Set((seccomp.syscalls ?? []).filter((r) => r.args?.length).flatMap((r) => r.names));

  let compared = 0;
  let mismatch = '';
  for (const abi of [ARCHES.x86_64, ARCHES.x86, ARCHES.x32]) {
    const base = abi.name === 'x32' ? X32_SYSCALL_BIT : 0;
    const argNrs = new Set([...withArgs].map((n) => abi.table[n]).filter((n) => n !== undefined));
    for (let nr = base; nr < base + 1024 && !mismatch; nr++) {
      for (const args of argNrs.has(nr) ? argSamples : [[]]) {
        const a = run(ours, { arch: abi.audit, nr, args }).ret;
        const b = run(lib, { arch: abi.audit, nr, args }).ret;
        compared++;
        if (a !== b)
          mismatch =
            `${abi.name} nr ${nr} args ${args.map((x) => '0x' + x.toString(16))}: ` +
            `tsrun ${actionName(a)}, libseccomp ${actionName(b)}`;
      }
    }
  }
  t.equal(mismatch, '', `${compared} (arch, nr, args) cases agree`);

  const o = stats(ours);
  const l = stats(lib);
  const lt = stats(libTree);
  t.comment(
    `tsrun:            ${o.length} instructions; per x86_64 syscall worst ${o.worst}, mean ${o.mean.toFixed(2)}`,
  );
  t.comment(
    `libseccomp:       ${l.length} instructions; per x86_64 syscall worst ${l.worst}, mean ${l.mean.toFixed(2)}`,
  );
  t.comment(
    `libseccomp tree:  ${lt.length} instructions; per x86_64 syscall worst ${lt.worst}, mean ${lt.mean.toFixed(2)}`,
  );
  t.comment(
    `compile time: median ${times[10].toFixed(2)} ms, min ${times[0].toFixed(2)} ms, ` +
      `max ${times[19].toFixed(2)} ms (20 runs)`,
  );
  t.ok(o.worst <= l.worst && o.mean <= l.mean, 'no more instructions than libseccomp (default, as runc uses it)');
  t.ok(o.worst <= lt.worst && o.mean <= lt.mean, 'no more instructions than libseccomp with its binary tree');
  t.end();
});

t.test('single argument rules: same verdicts as libseccomp for random operators and values', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-seccomp-x-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'rule.json');
  const OPS = [
    'SCMP_CMP_EQ',
    'SCMP_CMP_NE',
    'SCMP_CMP_GE',
    'SCMP_CMP_GT',
    'SCMP_CMP_LE',
    'SCMP_CMP_LT',
    'SCMP_CMP_MASKED_EQ',
  ] as const;
  const VALUES = [0, 1, 2, 8, 0xffffffff, 2 ** 32, 2 ** 53, -100];
  const SAMPLES = [0n, 1n, 2n, 3n, 7n, 8n, 9n, 0xffffffffn, 2n ** 32n, 2n ** 53n, 2n ** 64n - 1n, 2n ** 64n - 100n];
  let seed = 0x2545f491; // xorshift32: a fixed, well-spread sequence
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let compared = 0;
  let mismatch = '';
  for (let i = 0; i < 60 && !mismatch; i++) {
    const op = OPS[rnd(OPS.length)];
    const arg = {
      index: rnd(2),
      op,
      value: VALUES[rnd(VALUES.length)],
      ...(op === 'SCMP_CMP_MASKED_EQ' ? { valueTwo: VALUES[rnd(VALUES.length)] } : {}),
    };
    const seccomp: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [arg] }],
    };
    writeFileSync(file, JSON.stringify(seccomp));
    const lib = libseccompProgram(file, 1);
    if (typeof lib === 'string') {
      skipBecause(t, lib);
      return t.end();
    }
    const ours = decode(compileSeccomp(seccomp, { nativeArch: ARCHES.x86_64 }).program);
    for (const abi of [ARCHES.x86_64, ARCHES.x86]) {
      for (const a0 of SAMPLES) {
        for (const a1 of [0n, 8n, 2n ** 32n]) {
          const data = { arch: abi.audit, nr: abi.table.personality, args: [a0, a1] };
          const a = run(ours, data).ret;
          const b = run(lib, data).ret;
          compared++;
          if (a !== b && !mismatch)
            mismatch =
              `${JSON.stringify(arg)} on ${abi.name} args ${a0},${a1}: ` +
              `tsrun ${actionName(a)}, libseccomp ${actionName(b)}`;
        }
      }
    }
  }
  t.equal(mismatch, '', `${compared} (rule, arch, args) cases agree`);
  t.end();
});

t.test('two conditions on one argument: the same verdicts as libseccomp driven as runc drives it', (t) => {
  // runc 1.1.5 makes each condition a rule of its own when two test one argument.
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-seccomp-x-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'rule.json');
  const seccomp: LinuxSeccomp = TWO_CONDITIONS_PROFILE;
  writeFileSync(file, JSON.stringify(seccomp));
  const lib = libseccompProgram(file, 1);
  if (typeof lib === 'string') {
    skipBecause(t, lib);
    return t.end();
  }
  const ours = decode(compileSeccomp(seccomp, { nativeArch: ARCHES.x86_64 }).program);
  const values = [0n, 1n, 2n, 5n, 100n, 1337n, 2020n, 9001n];
  let compared = 0;
  let mismatch = '';
  for (const abi of [ARCHES.x86_64, ARCHES.x86]) {
    for (const name of ['process_vm_readv', 'process_vm_writev', 'kcmp', 'personality']) {
      for (const a0 of values) {
        for (const a1 of values) {
          const data = { arch: abi.audit, nr: abi.table[name], args: [a0, a1] };
          const a = run(ours, data).ret;
          const b = run(lib, data).ret;
          compared++;
          if (a !== b && !mismatch)
            mismatch = `${abi.name} ${name}(${a0}, ${a1}): tsrun ${actionName(a)}, libseccomp ${actionName(b)}`;
        }
      }
    }
  }
  t.equal(mismatch, '', `${compared} (arch, syscall, args) cases agree`);
  t.end();
});
