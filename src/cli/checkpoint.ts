import { unsupportedCommand, CRIU_UNSUPPORTED } from './unsupported';

export const checkpoint = unsupportedCommand('checkpoint [id]', 'checkpoint a running container', CRIU_UNSUPPORTED);
