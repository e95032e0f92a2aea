// Where the tests find the repository, the built executable and their fixtures.
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '../..');
export const TSRUN = join(REPO, 'bin', 'tsrun');
/** Programs and data the tests hand to child processes. */
export const FIXTURES = join(REPO, 'test', 'fixtures');
