// Backpressure that never queues stale frames: at most `maxInFlight` items are processed at once,
// and at most one item per key (camera) waits. A newer item replaces the waiting one, which is
// reported as dropped (with `lossless`, for offline runs, it queues behind it instead). When a
// slot frees, waiting keys are served round robin so one fast camera cannot starve the others.

import { Observable, type OperatorFunction } from "rxjs";

export interface LatestWinsOptions<T> {
  readonly maxInFlight: number;
  /** Camera (or other stream) the item belongs to; one waiting slot per key. */
  readonly keyOf: (item: T) => string;
  /** Called for every item replaced while waiting. */
  readonly onDrop?: (dropped: T) => void;
  /**
   * Offline (bag) mode: a newer item queues behind a waiting one instead of replacing it, so
   * nothing is dropped. Needed because one input can release several items at once (a CameraInfo
   * that pairs several waiting images), which a producer awaiting `whenReady` cannot prevent.
   */
  readonly lossless?: boolean;
}

/** Observable state of the scheduler, for stats and for offline producers that must not drop. */
export class LatestWinsState {
  #waiting = 0;
  #inFlight = 0;
  #maxInFlight = 1;
  #maxWaitingSeen = 0;
  #listeners: (() => void)[] = [];

  get waiting(): number {
    return this.#waiting;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  /** Largest number of items ever waiting at once (tests check it never exceeds the key count). */
  get maxWaitingSeen(): number {
    return this.#maxWaitingSeen;
  }

  /**
   * Resolves once an item offered now would start at once (nothing waits, a slot is free): an
   * offline producer awaits this before each item, so nothing is dropped and nothing waits.
   */
  whenReady(): Promise<void> {
    if (this.#ready()) return Promise.resolve();
    return new Promise((resolve) => this.#listeners.push(resolve));
  }

  #ready(): boolean {
    return this.#waiting === 0 && this.#inFlight < this.#maxInFlight;
  }

  /** @internal */
  update(waiting: number, inFlight: number, maxInFlight: number): void {
    this.#waiting = waiting;
    this.#inFlight = inFlight;
    this.#maxInFlight = maxInFlight;
    this.#maxWaitingSeen = Math.max(this.#maxWaitingSeen, waiting);
    if (this.#ready() && this.#listeners.length > 0) {
      const listeners = this.#listeners;
      this.#listeners = [];
      for (const listener of listeners) listener();
    }
  }
}

/**
 * Runs `process` on items with latest-wins backpressure. Results are emitted as they complete.
 * A rejected `process` errors the stream: callers turn per-item failures into result values.
 */
export function latestWins<T, R>(
  process: (item: T) => Promise<R>,
  options: LatestWinsOptions<T>,
  state: LatestWinsState = new LatestWinsState(),
): OperatorFunction<T, R> {
  if (!(options.maxInFlight >= 1)) throw new RangeError("maxInFlight must be >= 1");
  return (source) =>
    new Observable<R>((subscriber) => {
      // Per key, the items waiting in arrival order: at most one unless `lossless`.
      const waiting = new Map<string, T[]>();
      let waitingCount = 0;
      // When each key was last served; the least recently served waiting key goes next (round
      // robin that also treats a camera that appears later fairly).
      const lastServed = new Map<string, number>();
      let serveCount = 0;
      let inFlight = 0;
      let sourceDone = false;
      let closed = false;

      const publishState = (): void => state.update(waitingCount, inFlight, options.maxInFlight);

      const finishIfDone = (): void => {
        if (sourceDone && inFlight === 0 && waitingCount === 0 && !closed) {
          closed = true;
          subscriber.complete();
        }
      };

      const start = (key: string, item: T): void => {
        lastServed.set(key, ++serveCount);
        inFlight++;
        publishState();
        process(item).then(
          (result) => {
            if (closed) return;
            subscriber.next(result);
            inFlight--;
            pump();
          },
          (error: unknown) => {
            if (closed) return;
            closed = true;
            subscriber.error(error);
          },
        );
      };

      const pump = (): void => {
        while (inFlight < options.maxInFlight && waiting.size > 0) {
          let key = "";
          let oldest = Infinity;
          for (const candidate of waiting.keys()) {
            const served = lastServed.get(candidate) ?? 0;
            if (served < oldest) [key, oldest] = [candidate, served];
          }
          const queue = waiting.get(key)!;
          const item = queue.shift() as T;
          if (queue.length === 0) waiting.delete(key);
          waitingCount--;
          start(key, item);
        }
        publishState();
        finishIfDone();
      };

      const subscription = source.subscribe({
        next: (item) => {
          const key = options.keyOf(item);
          if (inFlight < options.maxInFlight && waiting.size === 0) {
            start(key, item);
            return;
          }
          const queue = waiting.get(key);
          let replaced: T[] = [];
          if (!queue) waiting.set(key, [item]);
          else if (options.lossless) queue.push(item);
          else replaced = queue.splice(0, queue.length, item);
          waitingCount += 1 - replaced.length;
          publishState();
          for (const dropped of replaced) options.onDrop?.(dropped);
          pump();
        },
        error: (error: unknown) => {
          closed = true;
          subscriber.error(error);
        },
        complete: () => {
          sourceDone = true;
          finishIfDone();
        },
      });

      return () => {
        closed = true;
        subscription.unsubscribe();
      };
    });
}
