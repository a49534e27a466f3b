// Waiting for a worker thread's answer to a start-up step (the inference worker's model load, a
// compression worker's "ready"), or for the thread to fail or exit first, whichever comes first;
// the listeners are removed either way, so a long-lived worker does not collect them.

import type { Worker } from "node:worker_threads";

/** What a message means to the waiter: its value, an error, or undefined (not the answer: keep waiting). */
export type ReplyOutcome<T> = { readonly value: T } | { readonly error: Error } | undefined;

export interface ReplyWaitOptions<M, T> {
  readonly settle: (message: M) => ReplyOutcome<T>;
  /** The error for the worker failing ("error" event) or exiting before the answer. */
  readonly failed: (error: Error) => Error;
  readonly exited: (code: number) => Error;
}

export function workerReply<M, T>(worker: Worker, options: ReplyWaitOptions<M, T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    const onMessage = (message: M): void => {
      const outcome = options.settle(message);
      if (!outcome) return;
      cleanup();
      if ("error" in outcome) reject(outcome.error);
      else resolve(outcome.value);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(options.failed(error));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(options.exited(code));
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}
