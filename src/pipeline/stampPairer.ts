// Pairs each image with the CameraInfo of the same stamp (exact), or the nearest one within a
// slop (approximate). Pure and synchronous: the RxJS operator and the tests drive it directly.

import { stampToNanoseconds, type Stamp } from "../frame.js";

export type PairingEvent<I, C> =
  | { readonly kind: "paired"; readonly image: I; readonly info: C; readonly stamp: Stamp }
  | { readonly kind: "unpaired"; readonly image: I; readonly stamp: Stamp; readonly detail: string };

interface Stamped<T> {
  readonly ns: bigint;
  readonly stamp: Stamp;
  readonly value: T;
}

export class StampPairer<I, C> {
  #slop: bigint;
  readonly #capacity: number;
  // Both lists stay sorted by stamp; they are short (capacity), so linear scans are cheapest.
  #infos: Stamped<C>[] = [];
  #images: Stamped<I>[] = [];

  /** @param slopSec 0 pairs exact stamps only. @param capacity infos/images kept waiting. */
  constructor(slopSec: number, capacity = 16) {
    this.#slop = secondsToNs(slopSec);
    this.#capacity = capacity;
  }

  /** Changed at run time by the live node's `sync_slop` parameter. */
  set slopSec(value: number) {
    this.#slop = secondsToNs(value);
  }

  addImage(stamp: Stamp, image: I): PairingEvent<I, C>[] {
    const entry = { ns: stampToNanoseconds(stamp), stamp, value: image };
    const info = this.#nearestInfo(entry.ns);
    if (info) return [{ kind: "paired", image, info: info.value, stamp }];
    const newest = this.#infos.at(-1);
    // Infos arrive in stamp order, so once one is past the window no later one can match.
    if (newest && newest.ns > entry.ns + this.#slop) {
      return [{ kind: "unpaired", image, stamp, detail: this.#missDetail(entry.ns) }];
    }
    insertSorted(this.#images, entry);
    const events: PairingEvent<I, C>[] = [];
    while (this.#images.length > this.#capacity) {
      const oldest = this.#images.shift()!;
      events.push({ kind: "unpaired", image: oldest.value, stamp: oldest.stamp, detail: this.#missDetail(oldest.ns) });
    }
    return events;
  }

  addInfo(stamp: Stamp, info: C): PairingEvent<I, C>[] {
    const ns = stampToNanoseconds(stamp);
    insertSorted(this.#infos, { ns, stamp, value: info });
    if (this.#infos.length > this.#capacity) this.#infos.shift();

    const events: PairingEvent<I, C>[] = [];
    const stillWaiting: Stamped<I>[] = [];
    for (const image of this.#images) {
      const match = this.#nearestInfo(image.ns);
      if (match) events.push({ kind: "paired", image: image.value, info: match.value, stamp: image.stamp });
      else if (ns > image.ns + this.#slop) {
        events.push({ kind: "unpaired", image: image.value, stamp: image.stamp, detail: this.#missDetail(image.ns) });
      } else stillWaiting.push(image);
    }
    this.#images = stillWaiting;
    return events;
  }

  /** End of input: every image still waiting will never be paired. */
  flush(): PairingEvent<I, C>[] {
    const events = this.#images.map(
      (image): PairingEvent<I, C> => ({
        kind: "unpaired",
        image: image.value,
        stamp: image.stamp,
        detail: this.#missDetail(image.ns),
      }),
    );
    this.#images = [];
    return events;
  }

  get waitingImages(): number {
    return this.#images.length;
  }

  #nearestInfo(ns: bigint): Stamped<C> | undefined {
    let best: Stamped<C> | undefined;
    let bestGap = this.#slop + 1n;
    for (const info of this.#infos) {
      const gap = info.ns > ns ? info.ns - ns : ns - info.ns;
      if (gap < bestGap) {
        best = info;
        bestGap = gap;
      }
    }
    return best;
  }

  #missDetail(ns: bigint): string {
    const window = this.#slop === 0n ? "with the exact stamp" : `within sync_slop ${Number(this.#slop) / 1e9} s`;
    if (this.#infos.length === 0) return `no CameraInfo received ${window}`;
    let nearestGap: bigint | undefined;
    for (const info of this.#infos) {
      const gap = info.ns > ns ? info.ns - ns : ns - info.ns;
      if (nearestGap === undefined || gap < nearestGap) nearestGap = gap;
    }
    return `no CameraInfo ${window} (nearest is ${(Number(nearestGap) / 1e9).toFixed(6)} s away)`;
  }
}

function secondsToNs(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e9));
}

function insertSorted<T>(list: Stamped<T>[], entry: Stamped<T>): void {
  let index = list.length;
  while (index > 0 && list[index - 1]!.ns > entry.ns) index--;
  list.splice(index, 0, entry);
}
