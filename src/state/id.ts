import { InvalidInputError } from '../errors';

/** runc's rule: ids are used as directory and cgroup names, so keep them tame. */
export function validateId(id: string | undefined): string {
  if (id === undefined || id === '') throw new InvalidInputError('container id cannot be empty');
  if (Buffer.byteLength(id) > 1024) throw new InvalidInputError(`invalid container id: longer than 1024 bytes`);
  if (id === '.' || id === '..' || id.includes('/'))
    throw new InvalidInputError(`invalid container id ${JSON.stringify(id)}: must not be "." or ".." or contain "/"`);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\x00-\x1f\x7f]/.test(id))
    throw new InvalidInputError(`invalid container id ${JSON.stringify(id)}: contains control characters`);
  if (!/^[\w+\-.]+$/.test(id))
    throw new InvalidInputError(
      `invalid container id ${JSON.stringify(id)}: only letters, digits, "_", "+", "-" and "." are allowed`,
    );
  return id;
}
