// Dev-only: compile an OCI linux.seccomp object with Debian's libseccomp2
// (the way runc does: seccomp_init, seccomp_arch_add, seccomp_rule_add_array,
// seccomp_export_bpf) and print the BPF program as base64 on stdout, to
// compare tsrun's compiler with it. Never used at run time.
//
//   node hack/seccomp-libseccomp-export.mjs profile.json [--optimize 2]
// profile.json holds linux.seccomp (not a whole config.json).
// Exit 3 when libseccomp.so.2 cannot be loaded.
import { readFileSync, openSync, closeSync, readFileSync as read, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';

let lib;
try {
  lib = koffi.load('libseccomp.so.2');
} catch (err) {
  process.stderr.write(`libseccomp.so.2 not loadable: ${err.message}\n`);
  process.exit(3);
}
const seccomp_init = lib.func('void *seccomp_init(uint32_t def_action)');
const seccomp_release = lib.func('void seccomp_release(void *ctx)');
const seccomp_arch_add = lib.func('int seccomp_arch_add(void *ctx, uint32_t arch)');
const seccomp_arch_resolve_name = lib.func('uint32_t seccomp_arch_resolve_name(const char *name)');
const seccomp_syscall_resolve_name = lib.func('int seccomp_syscall_resolve_name(const char *name)');
const seccomp_rule_add_array = lib.func(
  'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int cnt, const uint8_t *args)',
);
const seccomp_attr_set = lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)');
const seccomp_export_bpf = lib.func('int seccomp_export_bpf(void *ctx, int fd)');

const SCMP_FLTATR_CTL_OPTIMIZE = 8;
const ACT = {
  SCMP_ACT_KILL: 0,
  SCMP_ACT_KILL_THREAD: 0,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x30000,
  SCMP_ACT_ERRNO: 0x50000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};
const OP = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};
const ARCH = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_ARM: 'arm',
};

const action = (name, errnoRet) =>
  (name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE' ? ACT[name] | (errnoRet ?? 1) : ACT[name]) >>> 0;

/** struct scmp_arg_cmp[] for seccomp_rule_add_array. */
function conditions(args) {
  const buf = Buffer.alloc(24 * Math.max(args.length, 1));
  args.forEach((a, i) => {
    buf.writeUInt32LE(a.index, 24 * i);
    buf.writeUInt32LE(OP[a.op], 24 * i + 4);
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a.value)), 24 * i + 8);
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a.valueTwo ?? 0)), 24 * i + 16);
  });
  return buf;
}

const [file, ...rest] = process.argv.slice(2);
const optimize = rest[0] === '--optimize' ? Number(rest[1]) : 1;
const s = JSON.parse(readFileSync(file, 'utf8'));
const def = action(s.defaultAction, s.defaultErrnoRet);
const ctx = seccomp_init(def);
if (!ctx) throw new Error('seccomp_init failed');
const must = (rc, what) => {
  if (rc < 0) throw new Error(`${what}: ${rc}`);
};
must(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, optimize), 'seccomp_attr_set(OPTIMIZE)');
for (const a of s.architectures ?? []) {
  const rc = seccomp_arch_add(ctx, seccomp_arch_resolve_name(ARCH[a] ?? a));
  if (rc < 0 && rc !== -17) must(rc, `seccomp_arch_add(${a})`); // EEXIST: the native one
}
for (const rule of s.syscalls ?? []) {
  const act = action(rule.action, rule.errnoRet);
  if (act === def) continue; // libseccomp refuses these; runc skips them
  const args = rule.args ?? [];
  // runc adds each condition as a rule of its own when two test one argument.
  const repeated = args.some((a, i) => args.findIndex((b) => b.index === a.index) !== i);
  for (const conds of repeated ? args.map((a) => [a]) : [args]) {
    const buf = conditions(conds);
    for (const name of rule.names) {
      const nr = seccomp_syscall_resolve_name(name);
      if (nr === -1) continue; // unknown everywhere: runc skips it
      must(seccomp_rule_add_array(ctx, act, nr, conds.length, buf), `seccomp_rule_add(${name})`);
    }
  }
}
const dir = mkdtempSync(join(tmpdir(), 'libseccomp-export-'));
try {
  const fd = openSync(join(dir, 'bpf'), 'w+');
  must(seccomp_export_bpf(ctx, fd), 'seccomp_export_bpf');
  closeSync(fd);
  process.stdout.write(read(join(dir, 'bpf')).toString('base64') + '\n');
} finally {
  seccomp_release(ctx);
  rmSync(dir, { recursive: true, force: true });
}
