// The errors tsrun's library raises, on the bottom floor so that every part
// can use them without the CLI; the CLI maps them to exit codes and runc's
// log lines. A failed kernel call is a SysError (src/sys/libc.ts): call,
// argument and errno.

/** Anything tsrun reports as a failure of the request, not of tsrun itself. */
export class TsrunError extends Error {
  constructor(
    message: string,
    /** The exit status the CLI gives it (runc's: 1, 3 for an unknown command). */
    readonly exitCode = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input is wrong: a config.json field (its JSON path leads the message), a flag, a file. */
export class InvalidInputError extends TsrunError {}

/**
 * The container is not in a state that allows the operation, or does not
 * exist: the cases runtime.md makes errors (start of a started container,
 * delete of a running one, any operation on an unknown id).
 */
export class ContainerStateError extends TsrunError {}

export { SysError } from './sys/errno';

/** No container of that id under the state root (runc's "container does not exist"). */
export class NoSuchContainerError extends ContainerStateError {
  constructor(readonly id: string) {
    super(`container does not exist: ${id}`);
  }
}
