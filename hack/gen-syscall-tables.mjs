// Generates src/seccomp/tables/<arch>.ts (syscall name → number) from the
// Linux UAPI headers Debian ships, so the seccomp compiler needs no libseccomp.
//
// Headers used (all Debian bookworm packages):
//   x86_64, x86, x32: linux-libc-dev          /usr/include/x86_64-linux-gnu/asm/unistd_{64,32,x32}.h
//   aarch64:          linux-libc-dev-arm64-cross /usr/aarch64-linux-gnu/include/asm/unistd.h (→ asm-generic/unistd.h)
//   arm (EABI):       linux-libc-dev-armhf-cross /usr/arm-linux-gnueabihf/include/asm/unistd.h (→ unistd-eabi.h)
// Run: node hack/gen-syscall-tables.mjs   (apt-get install linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross)
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'src/seccomp/tables');

const arches = [
  {
    name: 'x86_64',
    pkg: 'linux-libc-dev',
    file: '/usr/include/x86_64-linux-gnu/asm/unistd_64.h',
    incdir: '/usr/include/x86_64-linux-gnu',
    defines: {},
  },
  {
    name: 'x86',
    pkg: 'linux-libc-dev',
    file: '/usr/include/x86_64-linux-gnu/asm/unistd_32.h',
    incdir: '/usr/include/x86_64-linux-gnu',
    defines: {},
  },
  {
    name: 'x32',
    pkg: 'linux-libc-dev',
    file: '/usr/include/x86_64-linux-gnu/asm/unistd_x32.h',
    incdir: '/usr/include/x86_64-linux-gnu',
    defines: { __X32_SYSCALL_BIT: '0x40000000' },
  },
  {
    name: 'aarch64',
    pkg: 'linux-libc-dev-arm64-cross',
    file: '/usr/aarch64-linux-gnu/include/asm/unistd.h',
    incdir: '/usr/aarch64-linux-gnu/include',
    defines: { __BITS_PER_LONG: '64' },
  },
  {
    name: 'arm',
    pkg: 'linux-libc-dev-armhf-cross',
    file: '/usr/arm-linux-gnueabihf/include/asm/unistd.h',
    incdir: '/usr/arm-linux-gnueabihf/include',
    defines: { __ARM_EABI__: '1', __BITS_PER_LONG: '32' },
    armPrivate: true,
  },
];

// A preprocessor just large enough for the unistd headers: #define/#undef,
// #if/#ifdef/#ifndef/#elif/#else/#endif, and #include of other unistd headers.
function preprocess(file, incdir, defines) {
  const macros = new Map(Object.entries(defines));
  const expand = (expr, depth = 0) => {
    if (depth > 20) throw new Error(`macro recursion in ${expr}`);
    return expr.replace(/\b[A-Za-z_]\w*/g, (id) => (macros.has(id) ? `(${expand(macros.get(id), depth + 1)})` : id));
  };
  const evalExpr = (expr) => {
    let e = expr
      .replace(/\/\*.*?\*\//g, '')
      .replace(/defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)/g, (_, a, b) => (macros.has(a ?? b) ? '1' : '0'));
    e = expand(e).replace(/\b[A-Za-z_]\w*/g, '0'); // undefined identifiers are 0 in #if
    if (!/^[\s\d()xa-fA-F+\-*|&!=<>]*$/.test(e)) throw new Error(`cannot evaluate #if ${expr}`);
    return Number(Function(`return (${e});`)());
  };
  const walk = (path) => {
    const stack = []; // { active, taken }
    const active = () => stack.every((s) => s.active);
    for (let line of readFileSync(path, 'utf8').split('\n')) {
      line = line.replace(/\/\*.*?\*\//g, '').trim();
      const m = /^#\s*(\w+)\s*(.*)$/.exec(line);
      if (!m) continue;
      const [, dir, rest] = m;
      if (dir === 'ifdef' || dir === 'ifndef' || dir === 'if') {
        const cond = !active()
          ? false
          : dir === 'if'
            ? evalExpr(rest) !== 0
            : macros.has(rest.trim()) === (dir === 'ifdef');
        stack.push({ active: cond, taken: cond });
      } else if (dir === 'elif') {
        const top = stack[stack.length - 1];
        const outer = stack.slice(0, -1).every((s) => s.active);
        top.active = outer && !top.taken && evalExpr(rest) !== 0;
        top.taken ||= top.active;
      } else if (dir === 'else') {
        const top = stack[stack.length - 1];
        top.active = !top.taken;
        top.taken = true;
      } else if (dir === 'endif') {
        stack.pop();
      } else if (!active()) {
        continue;
      } else if (dir === 'define') {
        const d = /^(\w+)(\([^)]*\))?\s*(.*)$/.exec(rest);
        if (d && !d[2]) macros.set(d[1], d[3]);
      } else if (dir === 'undef') {
        macros.delete(rest.trim());
      } else if (dir === 'include') {
        const inc = /^[<"]([^>"]+)[>"]/.exec(rest)?.[1];
        if (inc && inc.includes('unistd'))
          walk(existsSync(join(incdir, inc)) ? join(incdir, inc) : join(dirname(path), inc));
      }
    }
  };
  walk(file);
  return { macros, value: (name) => evalExpr(macros.get(name)) };
}

function pkgVersion(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

mkdirSync(outDir, { recursive: true });
for (const arch of arches) {
  if (!existsSync(arch.file)) {
    console.error(`gen-syscall-tables: ${arch.file} missing; apt-get install ${arch.pkg}`);
    process.exit(1);
  }
  const { macros, value } = preprocess(arch.file, arch.incdir, arch.defines);
  const table = {};
  for (const name of macros.keys()) {
    let sys;
    if (name.startsWith('__NR_')) sys = name.slice(5);
    else if (arch.armPrivate && name.startsWith('__ARM_NR_') && name !== '__ARM_NR_BASE') sys = name.slice(9);
    else continue;
    if (
      sys === 'syscalls' ||
      sys === 'arch_specific_syscall' ||
      sys === 'SYSCALL_BASE' ||
      sys === 'OABI_SYSCALL_BASE' ||
      sys === 'SYSCALL_MASK'
    )
      continue;
    table[sys] = value(name);
  }
  const entries = Object.entries(table).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const source = `${arch.file.replace(/^\/usr\//, '')} (${arch.pkg} ${pkgVersion(arch.pkg)})`;
  const body = entries.map(([k, v]) => `  ${k}: ${v},`).join('\n');
  const text = `// Generated by hack/gen-syscall-tables.mjs from ${source}. Do not edit.\nexport const source = ${JSON.stringify(source)};\n\nexport const syscalls: Readonly<Record<string, number>> = {\n${body}\n};\n`;
  writeFileSync(join(outDir, `${arch.name}.ts`), text);
  console.log(`${arch.name}: ${entries.length} syscalls from ${source}`);
}
