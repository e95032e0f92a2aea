// What the cgroup code can do on this host, for `tsrun features` and for
// callers that want to know before they ask.
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { controllerVersions, hostLayout, type CgroupMode } from './layout';
import { cgHasBelow } from './files';
import { hugePageSizes } from './hugepages';

export interface CgroupFeatures {
  mode: CgroupMode;
  /** controller → the cgroup version serving it */
  controllers: Record<string, 1 | 2>;
  /** Devices: "v1" rules, "bpf" programs on cgroup2, or none. */
  devices: 'v1' | 'bpf' | 'none';
  freezer: 'v1' | 'v2' | 'none';
  kill: boolean; // cgroup.kill
  systemd: boolean;
  /** Optional interface files the kernel has. */
  files: Record<string, boolean>;
  /** Huge page sizes the kernel offers ("2MB"). */
  hugepageSizes: string[];
}

export function cgroupFeatures(): CgroupFeatures {
  const layout = hostLayout();
  const controllers = Object.fromEntries(controllerVersions(layout));
  const v1 = (c: string) => layout.v1.find((h) => h.key.split(',').includes(c));
  const unified = layout.unified?.mountpoint;
  const has = (c: string, file: string) => {
    const h = v1(c);
    const mount = h ? h.mountpoint : unified;
    return mount !== undefined && cgHasBelow(mount, mount, file);
  };
  const sizes = hugePageSizes();
  return {
    mode: layout.mode,
    controllers,
    devices: v1('devices') ? 'v1' : unified ? 'bpf' : 'none',
    freezer: v1('freezer') ? 'v1' : unified ? 'v2' : 'none',
    // The root cgroup has no cgroup.kill; every other v2 cgroup has it from 5.14 on.
    kill: unified !== undefined && kernelAtLeast(5, 14),
    systemd: existsSync('/run/systemd/system'),
    files: {
      'memory.memsw': has('memory', 'memory.memsw.limit_in_bytes') || has('memory', 'memory.swap.max'),
      'memory.kmem': has('memory', 'memory.kmem.limit_in_bytes'),
      'memory.kmem.tcp': has('memory', 'memory.kmem.tcp.limit_in_bytes'),
      'cpu.burst': has('cpu', 'cpu.cfs_burst_us') || has('cpu', 'cpu.max.burst'),
      'cpu.idle': has('cpu', 'cpu.idle'),
      'cpu.rt': has('cpu', 'cpu.rt_runtime_us'),
      'blkio.weight':
        has('blkio', 'blkio.weight') ||
        has('blkio', 'blkio.bfq.weight') ||
        has('io', 'io.weight') ||
        has('io', 'io.bfq.weight'),
      'hugetlb.rsvd': layout.unified !== undefined && controllers.hugetlb === 2,
    },
    hugepageSizes: sizes,
  };
}

function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = release()
    .split('.')
    .map((x) => parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}
