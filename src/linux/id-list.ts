// Lists of small numbers as the kernel's cpuset files write them, "0-3,7":
// CPUs (process.execCPUAffinity) and memory nodes (linux.memoryPolicy).

/** `list` → a bit mask of `bytes` bytes; errors name `where` and call the numbers `noun`s. */
export function listMask(list: string, bytes: number, noun: string, where: string): Uint8Array {
  const mask = new Uint8Array(bytes);
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`${where}: invalid ${noun} list ${JSON.stringify(list)}`);
    const lo = Number(m[1]);
    const hi = Number(m[2] ?? m[1]);
    if (hi < lo || hi >= bytes * 8) throw new Error(`${where}: invalid ${noun} range ${JSON.stringify(part)}`);
    for (let n = lo; n <= hi; n++) mask[n >> 3] |= 1 << (n & 7);
  }
  return mask;
}

/** The numbers set in `mask`, lowest first. */
export function maskMembers(mask: Uint8Array): number[] {
  const out: number[] = [];
  for (let n = 0; n < mask.length * 8; n++) if (mask[n >> 3] & (1 << (n & 7))) out.push(n);
  return out;
}
