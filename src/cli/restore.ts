import { unsupportedCommand, CRIU_UNSUPPORTED } from './unsupported';

export const restore = unsupportedCommand(
  'restore [id]',
  'restore a container from a previous checkpoint',
  CRIU_UNSUPPORTED,
);
