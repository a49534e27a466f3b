// The RxJS pipeline: camera messages in, per-frame results out. It owns time: pairing by stamp,
// latest-wins backpressure, bounded concurrency and stats. Transports feed it and consume it.

import { performance } from "node:perf_hooks";
import { Observable, connect, filter, map, merge, tap } from "rxjs";
import type { CameraCalibration, StageTimings, Stamp } from "../frame.js";
import { FatalError, FrameError } from "../errors.js";
import { FrameDecoder, type PendingImage } from "../messages/ingest.js";
import { StampPairer, type PairingEvent } from "./stampPairer.js";
import { LatestWinsState, latestWins } from "./latestWins.js";
import type { FrameOutputs, FrameProcessor, OutputSelection } from "./frameProcessor.js";
import { PipelineStats } from "./stats.js";

export type CameraInput =
  | { readonly kind: "image"; readonly pending: PendingImage }
  | {
      readonly kind: "info";
      /** The image topic this CameraInfo belongs to. */
      readonly cameraTopic: string;
      readonly stamp: Stamp;
      readonly calibration: CameraCalibration;
    };

/**
 * One result per frame. The typed arrays of `outputs` (depth, labels, colourised views, cloud) are
 * recycled for later frames once the sink is done with them, so read them in the sink, not here;
 * the other fields (frame, timings, depth kind, scale) stay valid.
 */
export type FrameResult =
  | { readonly ok: true; readonly outputs: FrameOutputs; readonly receivedAt: number }
  | { readonly ok: false; readonly error: FrameError };

interface PairedImage {
  readonly pending: PendingImage;
  readonly calibration: CameraCalibration;
}

/**
 * Where a processed frame goes (bag writer, ROS publishers). It runs inside the frame's scheduler
 * slot, so a slow sink slows intake (and, live, causes drops) instead of queueing frames.
 * The output arrays are the sink's to read until writeStatus resolves, no longer: then they go
 * back to the processor for later frames. Anything the sink keeps must be a copy (CDR bytes are).
 */
export interface FrameSink {
  /** Encodes and writes every output but status; resolves to the encode time in ms. */
  writeOutputs(outputs: FrameOutputs): Promise<number>;
  /** Status goes last: it reports the frame's full latency and the counts including it. */
  writeStatus(outputs: FrameOutputs, cameraStats: PipelineStats, totalMs: number): Promise<void>;
}

export interface PipelineOptions {
  readonly processor: FrameProcessor;
  readonly sink: FrameSink;
  readonly syncSlopSec: () => number;
  readonly maxInFlight: number;
  readonly select: (cameraTopic: string) => OutputSelection;
  readonly stats: CameraStatsRegistry;
  /** Shared with the producer: offline replay awaits `whenReady()` so nothing is dropped. */
  readonly schedulerState?: LatestWinsState;
  /**
   * Offline (bag) mode: paired frames queue instead of replacing a waiting one, so none is
   * dropped even when one CameraInfo pairs several waiting images at once; and an image waits
   * for its CameraInfo up to the offline queue bound or the end of input (StampPairer).
   */
  readonly lossless?: boolean;
  /** Undistort each image with its CameraInfo before inference (parameter `rectify`). */
  readonly rectify?: boolean;
  /** Input warnings, e.g. a distorted CameraInfo without `rectify` (once per camera). */
  readonly warn?: (line: string) => void;
}

/** Stats for all cameras together (summary, diagnostics) and for each camera (status, drops). */
export class CameraStatsRegistry {
  readonly all = new PipelineStats();
  readonly #byCamera = new Map<string, PipelineStats>();

  camera(topic: string): PipelineStats {
    let stats = this.#byCamera.get(topic);
    if (!stats) {
      stats = new PipelineStats(256);
      this.#byCamera.set(topic, stats);
    }
    return stats;
  }

  cameras(): ReadonlyMap<string, PipelineStats> {
    return this.#byCamera;
  }

  recordRead(topic: string): void {
    this.all.read++;
    this.camera(topic).read++;
  }
  recordDropped(topic: string): void {
    this.all.dropped++;
    this.camera(topic).dropped++;
  }
  recordFailure(error: FrameError): void {
    this.all.recordFailure(error.reason);
    if (error.topic) this.camera(error.topic).recordFailure(error.reason);
  }
  recordProcessed(topic: string, timings: StageTimings, totalMs: number): void {
    this.all.processed++;
    this.all.recordTimings(timings, totalMs);
    const stats = this.camera(topic);
    stats.processed++;
    stats.recordTimings(timings, totalMs);
  }
}

/**
 * Pairs images with CameraInfo, schedules paired frames latest-wins, decodes and processes
 * them, and emits one result per image that was not dropped (failures included). A FatalError
 * from the processor or the sink errors the stream.
 */
export function cameraPipeline(options: PipelineOptions): (source: Observable<CameraInput>) => Observable<FrameResult> {
  const state = options.schedulerState ?? new LatestWinsState();
  const decoder = new FrameDecoder({ rectify: options.rectify ?? false, warn: options.warn });
  const pairers = new Map<string, StampPairer<PendingImage, CameraCalibration>>();
  const pairerFor = (topic: string) => {
    let pairer = pairers.get(topic);
    if (!pairer) {
      pairer = new StampPairer(options.syncSlopSec(), { lossless: options.lossless ?? false });
      pairers.set(topic, pairer);
    }
    pairer.slopSec = options.syncSlopSec();
    return pairer;
  };

  const process = async (paired: PairedImage): Promise<FrameResult> => {
    const { pending } = paired;
    try {
      const decoded = decoder.decode(pending, paired.calibration);
      const timings: StageTimings = { decode: decoded.decodeMs };
      const outputs = await options.processor.process(decoded.frame, options.select(pending.cameraTopic), timings);
      timings.encode = await options.sink.writeOutputs(outputs);
      const totalMs = elapsedSince(pending.receivedAt);
      options.stats.recordProcessed(pending.cameraTopic, timings, totalMs);
      await options.sink.writeStatus(outputs, options.stats.camera(pending.cameraTopic), totalMs);
      // Lifetime rule: the sink has resolved, so nothing reads this frame's arrays any more (the
      // sink copies what it keeps); a later frame may now overwrite them. A frame whose sink
      // failed is not released: its buffers are left to the garbage collector, in case the
      // failed sink still holds them.
      options.processor.release(outputs);
      return { ok: true, outputs, receivedAt: pending.receivedAt };
    } catch (error) {
      // A FatalError (the inference worker is gone, the output cannot be written) fails every
      // later frame too: it ends the stream instead of becoming one failed result per frame.
      if (error instanceof FatalError) throw error;
      return { ok: false, error: asFrameError(error, pending) };
    }
  };

  return (source) => {
    const pairing = (input: CameraInput): PairingEvent<PendingImage, CameraCalibration>[] => {
      if (input.kind === "image") {
        options.stats.recordRead(input.pending.cameraTopic);
        return pairerFor(input.pending.cameraTopic).addImage(input.pending.stamp, input.pending);
      }
      return pairerFor(input.cameraTopic).addInfo(input.stamp, input.calibration);
    };
    const flushAll = (): PairingEvent<PendingImage, CameraCalibration>[] =>
      [...pairers.values()].flatMap((pairer) => pairer.flush());

    const events$ = new Observable<PairingEvent<PendingImage, CameraCalibration>>((subscriber) =>
      source.subscribe({
        next: (input) => {
          for (const event of pairing(input)) subscriber.next(event);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          for (const event of flushAll()) subscriber.next(event);
          subscriber.complete();
        },
      }),
    );

    return events$.pipe(
      connect((events) =>
        merge(
          events.pipe(
            filter((e) => e.kind === "unpaired"),
            map((e): FrameResult => {
              const error = new FrameError("no_camera_info", e.detail, e.image.cameraTopic, e.stamp);
              return { ok: false, error };
            }),
          ),
          events.pipe(
            filter((e) => e.kind === "paired"),
            map((e): PairedImage => ({ pending: e.image, calibration: e.info })),
            latestWins(process, {
              maxInFlight: options.maxInFlight,
              keyOf: (paired) => paired.pending.cameraTopic,
              onDrop: (paired) => options.stats.recordDropped(paired.pending.cameraTopic),
              lossless: options.lossless ?? false,
            }, state),
          ),
        ),
      ),
      tap((result) => {
        if (!result.ok) options.stats.recordFailure(result.error);
      }),
    );
  };
}

function asFrameError(error: unknown, pending: PendingImage): FrameError {
  if (error instanceof FrameError) return error.topic ? error : error.at(pending.cameraTopic, pending.stamp);
  return new FrameError("inference_failed", (error as Error).message ?? String(error), pending.cameraTopic, pending.stamp);
}

/** End-to-end latency of a processed frame, from arrival to now. */
export function elapsedSince(receivedAt: number): number {
  return performance.now() - receivedAt;
}
