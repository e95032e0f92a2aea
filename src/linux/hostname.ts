// The container's uts names (the init is already in its uts namespace).
import type { Spec } from '../spec/types';
import { sethostname, setdomainname } from '../sys/mount';

export function setHostname(config: Spec): void {
  if (config.hostname) sethostname(config.hostname);
  if (config.domainname) setdomainname(config.domainname);
}
