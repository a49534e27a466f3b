// Pairs each image with a CameraInfo by header stamp. Pure and synchronous: the RxJS operator and
// the tests drive it directly.
//
// The rule, and where it comes from:
// - sync_slop 0 pairs equal stamps only, as image_transport's CameraSubscriber does
//   (message_filters::TimeSynchronizer<Image, CameraInfo>, the ExactTime policy, queue 10).
// - sync_slop > 0 follows message_filters' ApproximateTime policy
//   (ros2/message_filters include/message_filters/sync_policies/approximate_time.hpp, formerly
//   approximate_time.h) for two topics with age_penalty 0 and max_interval_duration = sync_slop:
//   the image gets the CameraInfo nearest in stamp within the slop, and a pair is only emitted
//   once it is provably the best one. ApproximateTime's proof assumes each topic arrives in
//   stamp order: a candidate is final once a later message shows that every future candidate
//   spans a larger interval (its `(end_time - candidate_end) >= pivot_time - candidate_start`
//   test). Here: the best candidate so far, at gap g from the image stamp t, is final when g is 0
//   or when a CameraInfo that arrived no earlier than it has a stamp >= t + g (every later one,
//   in stamp order, is at least that far away). So an image waits for a better CameraInfo that
//   may still come, instead of taking the nearest one present when it arrives.
// Where this differs from message_filters, on purpose:
// - A CameraInfo is not used up: it may pair several images (two images with the same stamp both
//   get it). It describes the calibration, not an event; ApproximateTime/ExactTime would use each
//   message once and fail the second image.
// - Stamps that go backwards (a clock reset, a looped bag): only CameraInfos that arrived after
//   the image (or after its best candidate) count as proof, never older ones with larger stamps,
//   and infos are forgotten oldest-arrived first, not smallest-stamp first. Without a candidate,
//   an image is turned away when a CameraInfo that arrived after it is past t + slop (ExactTime
//   likewise drops older sets once a newer one completes).
// - Offline (`lossless`) an image is never turned away on that evidence, since in a bag whose
//   CameraInfo stamps are out of order the matching one may still come: it waits for the queue
//   bound or the end of input.
// Nothing waits forever: at most `maxWaitingImages` images wait per camera (ApproximateTime's
// queue_size); beyond that the oldest is decided with what is there, and the end of input
// decides the rest. Ties between equally near CameraInfos go to the one that arrived last.

import { stampToNanoseconds, type Stamp } from "../frame.js";

export type PairingEvent<I, C> =
  | { readonly kind: "paired"; readonly image: I; readonly info: C; readonly stamp: Stamp }
  | { readonly kind: "unpaired"; readonly image: I; readonly stamp: Stamp; readonly detail: string };

export interface StampPairerOptions {
  /** Images waiting for a CameraInfo; beyond this the oldest is decided with what is there. */
  readonly maxWaitingImages?: number;
  /** CameraInfos kept for images still to come, newest arrivals first. Default 2 × maxWaitingImages. */
  readonly maxInfos?: number;
  /** Offline: never turn an image away before the queue bound or the end of input. */
  readonly lossless?: boolean;
}

/** Live default: half a second at 30 Hz (image_transport's CameraSubscriber keeps 10). */
export const LIVE_MAX_WAITING_IMAGES = 16;
/** Offline default: how far (in images) a bag's CameraInfo may lag or lead its image. */
export const LOSSLESS_MAX_WAITING_IMAGES = 64;

interface StoredInfo<C> {
  readonly ns: bigint;
  /** Arrival order, shared with images. */
  readonly seq: number;
  readonly value: C;
}

interface Candidate<C> {
  readonly gap: bigint;
  readonly seq: number;
  readonly value: C;
}

interface WaitingImage<I, C> {
  readonly ns: bigint;
  readonly stamp: Stamp;
  readonly seq: number;
  readonly value: I;
  best: Candidate<C> | undefined;
}

export class StampPairer<I, C> {
  #slop: bigint;
  readonly #maxImages: number;
  readonly #maxInfos: number;
  readonly #lossless: boolean;
  #seq = 0;
  // Both in arrival order; short, so linear scans are cheapest.
  readonly #infos: StoredInfo<C>[] = [];
  #images: WaitingImage<I, C>[] = [];

  /** @param slopSec 0 pairs exact stamps only. */
  constructor(slopSec: number, options: StampPairerOptions = {}) {
    this.#slop = secondsToNs(slopSec);
    this.#lossless = options.lossless ?? false;
    this.#maxImages = options.maxWaitingImages ?? (this.#lossless ? LOSSLESS_MAX_WAITING_IMAGES : LIVE_MAX_WAITING_IMAGES);
    this.#maxInfos = options.maxInfos ?? 2 * this.#maxImages;
    if (!(Number.isInteger(this.#maxImages) && this.#maxImages >= 1 && Number.isInteger(this.#maxInfos) && this.#maxInfos >= 1)) {
      throw new RangeError(`StampPairer: queue bounds must be integers >= 1, got ${this.#maxImages} and ${this.#maxInfos}`);
    }
  }

  /** Changed at run time by the live node's `sync_slop` parameter; waiting images are re-judged. */
  set slopSec(value: number) {
    const slop = secondsToNs(value);
    if (slop === this.#slop) return;
    this.#slop = slop;
    for (const image of this.#images) {
      image.best = undefined;
      for (const info of this.#infos) this.#consider(image, info);
    }
  }

  addImage(stamp: Stamp, image: I): PairingEvent<I, C>[] {
    const entry: WaitingImage<I, C> = { ns: stampToNanoseconds(stamp), stamp, seq: ++this.#seq, value: image, best: undefined };
    for (const info of this.#infos) this.#consider(entry, info);
    const best = entry.best;
    if (best && (best.gap === 0n || this.#infos.some((info) => info.seq >= best.seq && info.ns >= entry.ns + best.gap))) {
      return [paired(entry, best)];
    }
    this.#images.push(entry);
    const events: PairingEvent<I, C>[] = [];
    while (this.#images.length > this.#maxImages) events.push(this.#decide(this.#images.shift()!));
    return events;
  }

  addInfo(stamp: Stamp, info: C): PairingEvent<I, C>[] {
    const entry: StoredInfo<C> = { ns: stampToNanoseconds(stamp), seq: ++this.#seq, value: info };
    this.#infos.push(entry);
    if (this.#infos.length > this.#maxInfos) this.#infos.shift();

    const events: PairingEvent<I, C>[] = [];
    const stillWaiting: WaitingImage<I, C>[] = [];
    for (const image of this.#images) {
      this.#consider(image, entry);
      const best = image.best;
      // `entry` arrived after the image and after its best candidate: it is the proof ApproximateTime waits for.
      if (best && (best.gap === 0n || entry.ns >= image.ns + best.gap)) events.push(paired(image, best));
      else if (!best && !this.#lossless && entry.ns > image.ns + this.#slop) events.push(this.#decide(image));
      else stillWaiting.push(image);
    }
    this.#images = stillWaiting;
    return events;
  }

  /** End of input: every image still waiting is decided with the CameraInfos there are. */
  flush(): PairingEvent<I, C>[] {
    const events = this.#images.map((image) => this.#decide(image));
    this.#images = [];
    return events;
  }

  get waitingImages(): number {
    return this.#images.length;
  }

  /** Keeps the nearer CameraInfo within the slop; on a tie the later arrival (infos come in arrival order). */
  #consider(image: WaitingImage<I, C>, info: StoredInfo<C>): void {
    const gap = info.ns > image.ns ? info.ns - image.ns : image.ns - info.ns;
    if (gap > this.#slop) return;
    if (!image.best || gap <= image.best.gap) image.best = { gap, seq: info.seq, value: info.value };
  }

  #decide(image: WaitingImage<I, C>): PairingEvent<I, C> {
    if (image.best) return paired(image, image.best);
    return { kind: "unpaired", image: image.value, stamp: image.stamp, detail: this.#missDetail(image.ns) };
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

function paired<I, C>(image: WaitingImage<I, C>, info: Candidate<C>): PairingEvent<I, C> {
  return { kind: "paired", image: image.value, info: info.value, stamp: image.stamp };
}

function secondsToNs(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e9));
}
