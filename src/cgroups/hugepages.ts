// The huge page sizes this kernel has (/sys/kernel/mm/hugepages), in the
// names the hugetlb controller's files use ("2MB", "1GB").
import { existsSync, readdirSync } from 'node:fs';

const pageSizeKb: Record<string, number> = { KB: 1, MB: 1024, GB: 1024 ** 2, TB: 1024 ** 3, PB: 1024 ** 4 };

export function hugePageSupported(pageSize: string): boolean {
  const m = /^(\d+)(KB|MB|GB|TB|PB)$/.exec(pageSize);
  return m !== null && existsSync(`/sys/kernel/mm/hugepages/hugepages-${Number(m[1]) * pageSizeKb[m[2]]}kB`);
}

/** The huge page sizes of this kernel, named as the hugetlb controller's files name them ("2MB", "1GB"). */
export function hugePageSizes(): string[] {
  const sizes: string[] = [];
  try {
    for (const e of readdirSync('/sys/kernel/mm/hugepages')) {
      const kb = Number(/hugepages-(\d+)kB/.exec(e)?.[1]);
      if (kb) sizes.push(kb >= 1048576 ? `${kb / 1048576}GB` : kb >= 1024 ? `${kb / 1024}MB` : `${kb}KB`);
    }
  } catch {
    // no hugetlb support
  }
  return sizes;
}
