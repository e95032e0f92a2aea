/** Global flags shared by every command (runc's names). */
export interface GlobalArgs {
  root: string;
  log?: string;
  logFormat: string;
  debug: boolean;
  systemdCgroup: boolean;
  rootless?: string;
}

export const DEFAULT_ROOT = '/run/tsrun';
