// `depthseg replay`: a rosbag2 MCAP in, the node's outputs written to another MCAP.

import { CleanupStack } from "../cleanupStack.js";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { Observable, defaultIfEmpty, lastValueFrom, tap } from "rxjs";
import type { DepthsegParams } from "../config/parameters.js";
import { nanosecondsToStamp } from "../frame.js";
import { loadModelBundle } from "../inference/bundle.js";
import { startInferenceWorker } from "../inference/inferenceWorker.js";
import { cv } from "../imaging/opencv.js";
import { formatDamage, openBag, type BagReader } from "../transport/mcap/bagReader.js";
import { BagWriter } from "../transport/mcap/bagWriter.js";
import { isSameFile } from "../transport/mcap/fileWritable.js";
import { CdrBufferPool, decodeMessage, encodeMessage, type FrameCdrBuffers } from "../messages/cdr.js";
import { cameraInfoToCalibration } from "../messages/camera.js";
import type { CameraInfo, CompressedImage, Image, RosTypeName } from "../messages/types.js";
import type { CameraImageMessage } from "../messages/ingest.js";
import { FatalError, FrameError } from "../errors.js";
import { CameraStatsRegistry, cameraPipeline, type CameraInput, type FrameSink } from "../pipeline/cameraPipeline.js";
import { LatestWinsState } from "../pipeline/latestWins.js";
import { FrameProcessor, checkParamsForModel, type FrameOutputs } from "../pipeline/frameProcessor.js";
import { OutputEncoder } from "../messages/outputMessages.js";
import { DEFAULT_MODEL_DIR } from "../paths.js";
import { CAMERA_INFO_TYPE, COMPRESSED_IMAGE_TYPE, IMAGE_TYPE, selectCameraTopics, type CameraTopics } from "./cameraTopics.js";
import { createProgress } from "./progress.js";
import type { ReplaySummary } from "./summary.js";

export interface ReplayOptions {
  readonly input: string;
  readonly output: string;
  readonly params: DepthsegParams;
  /** Play at the recorded rate and let latest-wins drop frames, as a live camera would. */
  readonly realtime: boolean;
  readonly log: (line: string) => void;
  readonly showProgress: boolean;
  /**
   * Aborting it (its reason: the signal's name) stops reading the input: the frames in flight
   * finish and are written, the output is closed complete, and the summary says so.
   */
  readonly stop?: AbortSignal;
  /** Told where the output is written until it is complete (for a message on a hard exit). */
  readonly onOutputOpened?: (partialPath: string) => void;
}

export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const { params, log } = options;
  const started = performance.now();
  // The same file under another name (symlink, hard link) would be truncated as well.
  if (resolve(options.input) === resolve(options.output) || (await isSameFile(options.input, options.output))) {
    throw new FatalError(`--out ${options.output} is the input bag ${options.input} (the same file); choose another output`);
  }
  // Everything opened is closed in reverse order, on success and on every failure path.
  return CleanupStack.run(async (cleanups) => {
    const bundle = await loadModelBundle(params.model || DEFAULT_MODEL_DIR);
    checkParamsForModel(params, bundle);
    const bag = await openBag(options.input).catch((error: unknown) => {
      throw asFatal(error, `cannot read ${options.input}`);
    });
    cleanups.push(() => bag.close());
    if (bag.topics.length === 0 && bag.damage.length > 0) {
      throw new FatalError(`${options.input} holds no readable message: ${bag.damage.map(formatDamage).join("; ")}`);
    }
    const topics = await chooseTopics(bag, params);
    // Loaded now, not on the first frame: a 0.3 s stall there would drop frames in --realtime.
    cv();
    // The output is opened before the model loads, so a bad --out fails in milliseconds.
    const writer = await mkdir(dirname(resolve(options.output)), { recursive: true })
      .then(() => BagWriter.create(options.output))
      .catch((error: unknown) => {
        throw asFatal(error, `cannot write ${options.output}`);
      });
    options.onOutputOpened?.(writer.partialPath);
    // Closing writes the chunk, summary and footer and gives the file its name: a failure there
    // loses output, so it fails the run. A failed run deletes its unfinished output.
    cleanups.push((failed) =>
      failed
        ? writer.discard()
        : writer.close().catch((error: unknown) => {
            throw asFatal(error, `cannot write ${options.output}`);
          }),
    );

    const worker = await startInferenceWorker(bundle, params, log);
    cleanups.push(() => worker.close());

    const stats = new CameraStatsRegistry();
    const encoder = new OutputEncoder({ namespace: params.outputNamespace, bundle, provider: worker.provider });
    const state = new LatestWinsState();
    const processor = new FrameProcessor(bundle, worker, () => params);
    const totalImages = bag.topics.find((t) => t.topic === topics.imageTopic)?.messageCount;
    const progress = options.showProgress ? createProgress(totalImages) : undefined;
    if (progress) cleanups.push(async () => progress.stop());
    const errors: string[] = [];
    const writeMs: number[] = [];
    let handled = 0;

    const reading = { stoppedEarly: false };
    const source = cameraInputs(bag, topics, options.realtime, state, { signal: options.stop, reading });
    // A failed write is not one frame's problem: the writer refuses every later write, so the
    // run ends there (FatalError) rather than counting each remaining frame as failed.
    const write = (topic: string, typeName: RosTypeName, logTime: bigint, bytes: Uint8Array): Promise<void> =>
      writer.writeRaw(topic, typeName, logTime, bytes).catch((error: unknown) => {
        throw asFatal(error, `cannot write ${options.output}`);
      });
    const depthHeads: Record<string, number> = {};
    // Each frame's ~9 MiB of CDR goes into reused buffers: a frame's set is taken when its
    // outputs are encoded and given back once its status is written, when the bag writer has
    // copied every one of its messages (writeRaw resolves after McapWriter.addMessage).
    const cdrBuffers = new CdrBufferPool(2 * Math.max(1, params.maxInFlight));
    const frameCdr = new WeakMap<FrameOutputs, FrameCdrBuffers>();
    const sink: FrameSink = {
      writeOutputs: async (outputs) => {
        const t0 = performance.now();
        const buffers = cdrBuffers.take();
        frameCdr.set(outputs, buffers);
        const encoded = encoder.encode(outputs).map((out, slot) => ({ out, bytes: buffers.encode(slot, out.typeName, out.message) }));
        const encodeMs = performance.now() - t0;
        const t1 = performance.now();
        for (const { out, bytes } of encoded) await write(out.topic, out.typeName, out.logTime, bytes);
        writeMs.push(performance.now() - t1);
        return encodeMs;
      },
      writeStatus: async (outputs, cameraStats, totalMs) => {
        if (outputs.depthHead) depthHeads[outputs.depthHead] = (depthHeads[outputs.depthHead] ?? 0) + 1;
        const status = encoder.status(outputs, cameraStats, totalMs);
        await write(status.topic, status.typeName, status.logTime, encodeMessage(status.typeName, status.message));
        const buffers = frameCdr.get(outputs);
        if (buffers) {
          frameCdr.delete(outputs);
          cdrBuffers.give(buffers);
        }
      },
    };
    const results = source.pipe(
      cameraPipeline({
        processor,
        sink,
        syncSlopSec: () => params.syncSlopSec,
        maxInFlight: params.maxInFlight,
        select: () => ({ depthColorized: true, labelsColorized: true }),
        stats,
        schedulerState: state,
        lossless: !options.realtime,
        rectify: params.rectify,
        warn: log,
        onCameraInfoRejected: (error) => {
          errors.push(error.message);
          log(error.message);
        },
      }),
      tap((result) => {
        handled++;
        progress?.update(handled + stats.all.dropped);
        if (!result.ok) {
          errors.push(result.error.message);
          log(result.error.message);
        }
      }),
      defaultIfEmpty(undefined),
    );
    await lastValueFrom(results);
    if (stats.all.read === 0 && bag.damage.length > 0 && !reading.stoppedEarly) {
      // Nothing of the camera could be read (e.g. every chunk damaged, or an unsupported compression).
      throw new FatalError(`${options.input}: no camera message could be read: ${bag.damage.map(formatDamage).join("; ")}`);
    }

    return {
      input: options.input,
      output: options.output,
      model: bundle.name,
      depthKind: bundle.outputs.depth.kind,
      provider: worker.provider,
      imageTopic: topics.imageTopic,
      cameraInfoTopic: topics.cameraInfoTopic,
      stats: stats.all.snapshot(),
      wallSeconds: (performance.now() - started) / 1000,
      damage: bag.damage,
      duplicates: bag.duplicates,
      inputNotes: bag.notes,
      ...(reading.stoppedEarly ? { stoppedBy: String(options.stop?.reason) } : {}),
      depthHeads,
      bagWriteMs: writeMs,
      errors,
    };
  });
}

/** Input/output problems end the run with a message, not a stack trace. */
function asFatal(error: unknown, context: string): FatalError {
  if (error instanceof FatalError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FatalError(message.includes(context.split(" ").pop()!) ? message : `${context}: ${message}`);
}

async function chooseTopics(bag: BagReader, params: DepthsegParams): Promise<CameraTopics> {
  const encodings = new Map<string, string>();
  for (const topic of bag.topics) {
    if (topic.schemaName !== IMAGE_TYPE || params.imageTopic) continue;
    for await (const message of bag.messages([topic.topic])) {
      try {
        encodings.set(topic.topic, decodeMessage<Image>(IMAGE_TYPE, message.data).encoding);
      } catch {
        // An undecodable first message: the topic is simply not offered as a candidate.
      }
      break;
    }
  }
  return selectCameraTopics(
    bag.topics,
    { imageTopic: params.imageTopic, cameraInfoTopic: params.cameraInfoTopic },
    (topic) => encodings.get(topic),
  );
}

/**
 * Bag messages as pipeline inputs. Offline, the next image is read only once nothing waits in
 * the scheduler, so no frame is dropped; with `realtime`, messages are released at their
 * recorded rate and the scheduler drops what inference cannot keep up with.
 */
function cameraInputs(
  bag: BagReader,
  topics: CameraTopics,
  realtime: boolean,
  state: LatestWinsState,
  stop: { readonly signal: AbortSignal | undefined; readonly reading: { stoppedEarly: boolean } },
): Observable<CameraInput> {
  const stopNow = (isImage: boolean): boolean => {
    if (!isImage || stop.signal?.aborted !== true) return false;
    stop.reading.stoppedEarly = true;
    return true;
  };
  return new Observable<CameraInput>((subscriber) => {
    let cancelled = false;
    const run = async () => {
      let firstLogTime: bigint | undefined;
      const wallStart = performance.now();
      for await (const message of bag.messages([topics.imageTopic, topics.cameraInfoTopic])) {
        if (cancelled) return;
        // A stop takes effect at the next image: the CameraInfo of the last image is still read.
        const isImage = message.topic === topics.imageTopic;
        if (stopNow(isImage)) break;
        if (realtime) {
          firstLogTime ??= message.logTime;
          const due = Number(message.logTime - firstLogTime) / 1e6 - (performance.now() - wallStart);
          if (due > 0) await delay(due, stop.signal);
        } else if (isImage) {
          await state.whenReady();
        }
        if (stopNow(isImage)) break;
        subscriber.next(toCameraInput(message.topic, message.data, message.logTime, topics));
      }
      subscriber.complete();
    };
    run().catch((error: unknown) => subscriber.error(error));
    return () => {
      cancelled = true;
    };
  });
}

/** Resolves after `ms`, or at once when `stop` is aborted. */
function delay(ms: number, stop: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop?.addEventListener("abort", done, { once: true });
  });
}

function toCameraInput(topic: string, data: Uint8Array, logTime: bigint, topics: CameraTopics): CameraInput {
  const receivedAt = performance.now();
  try {
    if (topic === topics.cameraInfoTopic) {
      const info = decodeMessage<CameraInfo>(CAMERA_INFO_TYPE, data);
      return {
        kind: "info",
        cameraTopic: topics.imageTopic,
        infoTopic: topic,
        stamp: info.header.stamp,
        calibration: cameraInfoToCalibration(info),
      };
    }
    const image: CameraImageMessage =
      topics.imageEncoding === "compressed"
        ? { encoding: "compressed", message: decodeMessage<CompressedImage>(COMPRESSED_IMAGE_TYPE, data) }
        : { encoding: "raw", message: decodeMessage<Image>(IMAGE_TYPE, data) };
    const { stamp, frame_id: frameId } = image.message.header;
    return { kind: "image", pending: { cameraTopic: topic, stamp, frameId, image, receivedAt } };
  } catch (error) {
    // The header is inside the bytes that failed: the message is named by its MCAP log time.
    const why = error instanceof FrameError ? error.detail : (error as Error).message;
    const frameError = new FrameError("bad_message", `${why} (stamp unreadable; this is the MCAP log time)`, topic, nanosecondsToStamp(logTime));
    return {
      kind: "unreadable",
      message: topic === topics.cameraInfoTopic ? "camera_info" : "image",
      cameraTopic: topics.imageTopic,
      error: frameError,
    };
  }
}
