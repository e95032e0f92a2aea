// `pause` and `resume`: freeze and thaw every process of a container through
// its cgroup's freezer.
import { ContainerStateError } from '../errors';
import { openContainerCgroup } from './container-cgroup';

export function pauseContainer(root: string, id: string): void {
  const { container, status, cgroup } = openContainerCgroup(root, id);
  try {
    // runc pauses created and running containers; anything else is "not running".
    if (status !== 'running' && status !== 'created') throw new ContainerStateError('container not running');
    cgroup.freeze();
  } finally {
    container.unlock();
  }
}

export function resumeContainer(root: string, id: string): void {
  const { container, status, cgroup } = openContainerCgroup(root, id);
  try {
    if (status !== 'paused') throw new ContainerStateError('container not paused');
    cgroup.thaw();
  } finally {
    container.unlock();
  }
}
