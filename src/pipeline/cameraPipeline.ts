// The RxJS pipeline: camera messages in, per-frame results out. It owns time: pairing by stamp,
// latest-wins backpressure, bounded concurrency and stats. Transports feed it and consume it.

import { performance } from "node:perf_hooks";
import { Observable, connect, filter, map, merge } from "rxjs";
import { STAGES, type AnchorMeasurement, type CameraCalibration, type Frame, type StageTimings, type Stamp } from "../frame.js";
import { transformPoints } from "../heads/scaleAnchors.js";
import type { RigidTransform } from "../geometry/staticTransforms.js";
import type { GroundPlane } from "../geometry/groundPlane.js";
import { FatalError, FrameError, type FrameFailureReason } from "../errors.js";
import { FrameDecoder, checkStamp, type PendingImage } from "../messages/ingest.js";
import { LOSSLESS_MAX_WAITING_IMAGES, StampPairer, type PairingEvent } from "./stampPairer.js";
import { LatestWinsState, latestWins } from "./latestWins.js";
import type { FrameOutputs, FrameProcessor, OutputSelection } from "./frameProcessor.js";
import { PipelineStats } from "./stats.js";

export type CameraInput =
  | { readonly kind: "image"; readonly pending: PendingImage }
  | {
      readonly kind: "info";
      /** The image topic this CameraInfo belongs to. */
      readonly cameraTopic: string;
      /** The CameraInfo's own topic, named when it is refused; the image topic when absent. */
      readonly infoTopic?: string;
      readonly stamp: Stamp;
      readonly calibration: CameraCalibration;
    }
  | {
      /** Metres from another sensor for scale recovery (scale.source depth_image or points), paired with images by stamp. */
      readonly kind: "anchors";
      /** The image topic of the camera they belong to. */
      readonly cameraTopic: string;
      readonly stamp: Stamp;
      readonly anchors: AnchorMessage;
    }
  | {
      /**
       * A message the transport could not turn into an image or CameraInfo (undecodable CDR):
       * an image counts as read and failed, a CameraInfo as rejected.
       */
      readonly kind: "unreadable";
      readonly message: "image" | "camera_info";
      /** The image topic of the camera it belongs to. */
      readonly cameraTopic: string;
      readonly error: FrameError;
    };

/** An anchor message as received: a registered depth image, or a cloud still in its own frame. */
export type AnchorMessage =
  | Extract<AnchorMeasurement, { kind: "depth_image" }>
  | { readonly kind: "cloud"; readonly frameId: string; readonly points: Float32Array };

/**
 * Live: images that wait for their anchor message. Few, so a sensor that stops sending adds at
 * most this many frames of latency before frames go on without anchors (and keep the last scale).
 */
export const LIVE_MAX_IMAGES_WAITING_FOR_ANCHORS = 2;

/**
 * Below this share of valid (finite, > 0) values in the model's depth output, a frame fails as
 * model_output_invalid instead of being published as mostly NaN.
 */
export const MIN_VALID_DEPTH_FRACTION = 0.5;

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
  readonly anchors?: AnchorMessage;
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
  /**
   * Input warnings, e.g. a distorted CameraInfo without `rectify` or a model whose depth output
   * is invalid (each once per camera).
   */
  readonly warn?: (line: string) => void;
  /**
   * A CameraInfo refused (undecodable, invalid stamp): not a frame, so not in read/failed, but
   * counted (cameraInfoRejected) and reported here; `warn` when not given.
   */
  readonly onCameraInfoRejected?: (error: FrameError) => void;
  /**
   * Scale recovery from messages (scale.source depth_image or points): each paired image also
   * waits for the anchor message nearest its stamp within sync_slop (as for CameraInfo), and goes
   * on without one when none comes. `placeCloud` gives the transform from a cloud's frame into
   * the camera's (the image's frame_id).
   */
  readonly anchors?: {
    readonly placeCloud: (cloudFrame: string, cameraFrame: string) => RigidTransform;
  };
  /**
   * scale.source ground_plane with scale.ground_frame: the floor in the camera's frame (the
   * image's frame_id) from the TF tree, or undefined when the tree does not link them (then the
   * processor uses scale.camera_height/pitch/roll).
   */
  readonly groundPlane?: (cameraFrame: string) => GroundPlane | undefined;
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
  recordCameraInfoRejected(cameraTopic: string): void {
    this.all.cameraInfoRejected++;
    this.camera(cameraTopic).cameraInfoRejected++;
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
 * them, and emits one result per image that was not dropped (failures included): every image
 * read ends as processed, dropped or failed. A FatalError from the processor or the sink errors
 * the stream.
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
  const anchorPairers = new Map<string, StampPairer<PairedImage, AnchorMessage>>();
  const anchorPairerFor = (topic: string) => {
    let pairer = anchorPairers.get(topic);
    if (!pairer) {
      // Never `lossless` here: an image with no anchor message is decided as soon as a later one
      // shows none will come (anchors arrive in stamp order), so frames stay in order offline too.
      const maxWaitingImages = options.lossless ? LOSSLESS_MAX_WAITING_IMAGES : LIVE_MAX_IMAGES_WAITING_FOR_ANCHORS;
      pairer = new StampPairer(options.syncSlopSec(), { maxWaitingImages });
      anchorPairers.set(topic, pairer);
    }
    pairer.slopSec = options.syncSlopSec();
    return pairer;
  };
  const invalidModelWarned = new Set<string>();

  /** Counted where it is made, so a status written after it already includes it. */
  const failed = (error: FrameError): FrameResult => {
    options.stats.recordFailure(error);
    return { ok: false, error };
  };
  const rejectCameraInfo = (error: FrameError, cameraTopic: string): void => {
    options.stats.recordCameraInfoRejected(cameraTopic);
    (options.onCameraInfoRejected ?? ((e: FrameError) => options.warn?.(e.message)))(error);
  };

  const process = async (paired: PairedImage): Promise<FrameResult> => {
    const { pending } = paired;
    // Each stage records its time when it is done: the first without one is where an error came from.
    const timings: StageTimings = {};
    try {
      const decoded = decoder.decode(pending, paired.calibration);
      timings.decode = decoded.decodeMs;
      const groundPlane = options.groundPlane?.(pending.frameId);
      const frame: Frame = {
        ...decoded.frame,
        ...(paired.anchors ? { anchors: placeAnchors(paired.anchors, pending.frameId) } : {}),
        ...(groundPlane ? { groundPlane } : {}),
      };
      const outputs = await options.processor.process(frame, options.select(pending.cameraTopic), timings);
      const invalid = invalidModelOutput(outputs, pending);
      if (invalid) {
        // Nothing is published for it but its status, which says how much depth was valid.
        if (!invalidModelWarned.has(pending.cameraTopic)) {
          invalidModelWarned.add(pending.cameraTopic);
          options.warn?.(
            `${pending.cameraTopic}: the model's depth output is mostly NaN, ±Inf or ≤ 0 ` +
              `(${formatPercent(outputs.depthValidFraction)} valid); such frames are not published and count as failed (model_output_invalid)`,
          );
        }
        const result = failed(invalid);
        await options.sink.writeStatus(outputs, options.stats.camera(pending.cameraTopic), elapsedSince(pending.receivedAt));
        options.processor.release(outputs);
        decoder.recycle(frame);
        return result;
      }
      timings.encode = await options.sink.writeOutputs(outputs);
      const totalMs = elapsedSince(pending.receivedAt);
      options.stats.recordProcessed(pending.cameraTopic, timings, totalMs);
      await options.sink.writeStatus(outputs, options.stats.camera(pending.cameraTopic), totalMs);
      // Lifetime rule: the sink has resolved, so nothing reads this frame's arrays any more (the
      // sink copies what it keeps); a later frame may now overwrite them. A frame whose sink
      // failed is not released: its buffers are left to the garbage collector, in case the
      // failed sink still holds them. The decoded image goes back to the decoder likewise.
      options.processor.release(outputs);
      decoder.recycle(frame);
      return { ok: true, outputs, receivedAt: pending.receivedAt };
    } catch (error) {
      // A FatalError (the inference worker is gone, the output cannot be written) fails every
      // later frame too: it ends the stream instead of becoming one failed result per frame.
      if (error instanceof FatalError) throw error;
      const stage = STAGES.find((name) => timings[name] === undefined) ?? "encode";
      return failed(asFrameError(error, pending, `${stage}_failed`));
    }
  };

  const placeAnchors = (anchors: AnchorMessage, cameraFrame: string): AnchorMeasurement => {
    if (anchors.kind === "depth_image") return anchors;
    const { rotation, translation } = options.anchors!.placeCloud(anchors.frameId, cameraFrame);
    return { kind: "points", points: transformPoints(anchors.points, rotation, translation) };
  };

  type Event =
    | Exclude<PairingEvent<PendingImage, CameraCalibration>, { kind: "paired" }>
    | { readonly kind: "ready"; readonly paired: PairedImage }
    | { readonly kind: "rejected"; readonly error: FrameError };

  /** Paired with its CameraInfo: with scale recovery from messages, on to pairing with anchors. */
  const withAnchors = (events: PairingEvent<PendingImage, CameraCalibration>[]): Event[] =>
    events.flatMap((event): Event[] => {
      if (event.kind !== "paired") return [event];
      const paired: PairedImage = { pending: event.image, calibration: event.info };
      if (!options.anchors) return [{ kind: "ready", paired }];
      return anchorPairerFor(event.image.cameraTopic).addImage(event.stamp, paired).map(anchorEvent);
    });
  const anchorEvent = (event: PairingEvent<PairedImage, AnchorMessage>): Event =>
    // No anchor message for this image: it goes on, and the scale filter keeps its last estimate.
    ({ kind: "ready", paired: event.kind === "paired" ? { ...event.image, anchors: event.info } : event.image });

  return (source) => {
    const intake = (input: CameraInput): Event[] => {
      switch (input.kind) {
        case "image": {
          const { cameraTopic, stamp } = input.pending;
          options.stats.recordRead(cameraTopic);
          const bad = stampProblem(stamp, cameraTopic);
          if (bad) return [{ kind: "rejected", error: bad }];
          return withAnchors(pairerFor(cameraTopic).addImage(stamp, input.pending));
        }
        case "info": {
          const bad = stampProblem(input.stamp, input.infoTopic ?? input.cameraTopic);
          if (bad) {
            rejectCameraInfo(bad, input.cameraTopic);
            return [];
          }
          return withAnchors(pairerFor(input.cameraTopic).addInfo(input.stamp, input.calibration));
        }
        case "anchors": {
          // Anchors are not frames: one with a bad stamp is left out, and its frames keep the last scale.
          if (!options.anchors) return [];
          const bad = stampProblem(input.stamp, input.cameraTopic);
          if (bad) {
            options.warn?.(`scale anchors left out: ${bad.message}`);
            return [];
          }
          return anchorPairerFor(input.cameraTopic).addInfo(input.stamp, input.anchors).map(anchorEvent);
        }
        case "unreadable":
          if (input.message === "camera_info") {
            rejectCameraInfo(input.error, input.cameraTopic);
            return [];
          }
          options.stats.recordRead(input.cameraTopic);
          return [{ kind: "rejected", error: input.error }];
      }
    };
    const flushAll = (): Event[] => [
      ...[...pairers.values()].flatMap((pairer) => withAnchors(pairer.flush())),
      ...[...anchorPairers.values()].flatMap((pairer) => pairer.flush().map(anchorEvent)),
    ];

    const events$ = new Observable<Event>((subscriber) =>
      source.subscribe({
        next: (input) => {
          for (const event of intake(input)) subscriber.next(event);
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
            filter((e) => e.kind === "rejected"),
            map((e) => failed(e.error)),
          ),
          events.pipe(
            filter((e) => e.kind === "unpaired"),
            map((e) => failed(new FrameError("no_camera_info", e.detail, e.image.cameraTopic, e.stamp))),
          ),
          events.pipe(
            filter((e) => e.kind === "ready"),
            map((e) => e.paired),
            latestWins(process, {
              maxInFlight: options.maxInFlight,
              keyOf: (paired) => paired.pending.cameraTopic,
              onDrop: (paired) => options.stats.recordDropped(paired.pending.cameraTopic),
              lossless: options.lossless ?? false,
            }, state),
          ),
        ),
      ),
    );
  };
}

/** The FrameError for a stamp ROS would refuse, naming the topic (not the stamp: it is the problem). */
function stampProblem(stamp: Stamp, topic: string): FrameError | undefined {
  try {
    checkStamp(stamp);
    return undefined;
  } catch (error) {
    if (error instanceof FrameError) return error.at(topic, undefined);
    throw error;
  }
}

function invalidModelOutput(outputs: FrameOutputs, pending: PendingImage): FrameError | undefined {
  const fraction = outputs.depthValidFraction;
  if (!(fraction < MIN_VALID_DEPTH_FRACTION)) return undefined;
  return new FrameError(
    "model_output_invalid",
    `${formatPercent(1 - fraction)} of the model's depth output is NaN, ±Inf or ≤ 0 ` +
      `(more than ${formatPercent(1 - MIN_VALID_DEPTH_FRACTION)} fails the frame)`,
    pending.cameraTopic,
    pending.stamp,
  );
}

function formatPercent(fraction: number): string {
  return `${(100 * fraction).toFixed(1)} %`;
}

function asFrameError(error: unknown, pending: PendingImage, unexpected: FrameFailureReason): FrameError {
  if (error instanceof FrameError) return error.topic ? error : error.at(pending.cameraTopic, pending.stamp);
  const message = error instanceof Error ? error.message : String(error);
  return new FrameError(unexpected, message, pending.cameraTopic, pending.stamp);
}

/** End-to-end latency of a processed frame, from arrival to now. */
export function elapsedSince(receivedAt: number): number {
  return performance.now() - receivedAt;
}
