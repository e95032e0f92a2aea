// A push-style producer (a callback per item, a promise for the end) as an
// AsyncIterable: items wait in a queue until the consumer asks for them, and
// a consumer that stops early (break, return, throw) stops the producer.

export type Producer<T> = (push: (item: T) => void, signal: AbortSignal) => Promise<void>;

export async function* iterate<T>(produce: Producer<T>): AsyncGenerator<T, void, undefined> {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: { error: unknown } | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const abort = new AbortController();
  const done = produce((item) => {
    queue.push(item);
    notify();
  }, abort.signal).then(
    () => {
      finished = true;
      notify();
    },
    (error: unknown) => {
      failure = { error };
      finished = true;
      notify();
    },
  );
  try {
    for (;;) {
      while (queue.length) yield queue.shift() as T;
      if (finished) break;
      await new Promise<void>((r) => (wake = r));
    }
    if (failure) throw failure.error;
  } finally {
    abort.abort();
    await done;
  }
}
