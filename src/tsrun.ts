// The executable's entry point. One file, two roles: the native helper enters
// it as `tsrun init <sync fd>` to become a container's init (a hidden
// subcommand, as runc's `runc init`); anything else is the CLI. Each role
// evaluates only its own modules.
import { writeSync } from 'node:fs';
import { INIT_COMMAND } from './runtime/init-plan';

/** A failure while a role's modules load (the roles report their own errors after that). */
function loadFailed(e: unknown): never {
  try {
    writeSync(2, `tsrun: ${e instanceof Error ? e.message : String(e)}\n`);
  } catch {
    // no fd 2: the exit code says it
  }
  process.exit(1);
}

const args = process.argv.slice(2);
if (args[0] === INIT_COMMAND) import('./init/main').then((m) => m.runInit(args.slice(1)), loadFailed);
else import('./cli/main').catch(loadFailed);
