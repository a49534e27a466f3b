// Resources a run opens (bags, the inference worker, the output writer) are closed in reverse
// order on every path. Every cleanup runs even when one fails, and the run's own error, if any,
// is the one reported: a failing close must not hide why the run stopped.

/** A cleanup; `failed` says whether the run failed (an output then is discarded, not kept). */
export type Cleanup = (failed: boolean) => Promise<void>;

export class CleanupStack {
  readonly #cleanups: Cleanup[] = [];

  push(cleanup: Cleanup): void {
    this.#cleanups.push(cleanup);
  }

  /** Runs `body`, then every cleanup in reverse order. */
  static async run<T>(body: (stack: CleanupStack) => Promise<T>): Promise<T> {
    const stack = new CleanupStack();
    let result: T;
    try {
      result = await body(stack);
    } catch (error) {
      await stack.closeAll(true);
      throw error;
    }
    const cleanupError = await stack.closeAll();
    if (cleanupError !== undefined) throw cleanupError;
    return result;
  }

  /** Runs every cleanup in reverse order; resolves to the first error, if any (never rejects). */
  async closeAll(failed = false): Promise<unknown> {
    let firstError: unknown;
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup(failed);
      } catch (error) {
        firstError ??= error;
      }
    }
    return firstError;
  }
}
