// `depthseg replay`: a rosbag2 MCAP in, the node's outputs written to another MCAP.

import { CleanupStack } from "../cleanupStack.js";
import { mkdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { Observable, defaultIfEmpty, lastValueFrom, tap } from "rxjs";
import type { DepthsegParams } from "../config/parameters.js";
import { nanosecondsToStamp } from "../frame.js";
import { loadModelBundle, type ModelBundle } from "../inference/bundle.js";
import { startInferenceWorker } from "../inference/inferenceWorker.js";
import { cv } from "../imaging/opencv.js";
import { formatDamage, openBag, type BagMessage, type BagReader } from "../transport/mcap/bagReader.js";
import { BagWriter } from "../transport/mcap/bagWriter.js";
import { DEFAULT_CHUNK_COMPRESSION, type ChunkCompression } from "../transport/mcap/chunkCompression.js";
import type { QosProfile } from "../transport/ros/qosProfiles.js";
import { ALL_TOPICS, TF_STATIC_TOPIC, TF_TOPIC, TF_TYPE, replayTopicQos, type TopicSelection } from "./outputTopics.js";
import { isSameFile } from "../transport/mcap/fileWritable.js";
import { CdrBufferPool, decodeMessage, encodeMessage, type FrameCdrBuffers } from "../messages/cdr.js";
import { cameraInfoToCalibration } from "../messages/camera.js";
import type { CameraInfo, CompressedImage, Image, PointCloud2, RosTypeName, TFMessage } from "../messages/types.js";
import { addStaticTransforms, cloudPoints, depthImageAnchors } from "../messages/anchors.js";
import { StaticTransforms } from "../geometry/staticTransforms.js";
import { cloudPlacer, groundPlacer } from "../pipeline/anchorPlacement.js";
import type { CameraImageMessage } from "../messages/ingest.js";
import { FatalError, FrameError } from "../errors.js";
import { CameraStatsRegistry, cameraPipeline, type CameraInput, type FrameSink } from "../pipeline/cameraPipeline.js";
import { LatestWinsState } from "../pipeline/latestWins.js";
import { FrameProcessor, checkParamsForModel, type FrameOutputs } from "../pipeline/frameProcessor.js";
import { OUTPUT_TOPICS, OutputEncoder } from "../messages/outputMessages.js";
import { DEFAULT_MODEL_DIR } from "../paths.js";
import { CAMERA_INFO_TYPE, COMPRESSED_IMAGE_TYPE, IMAGE_TYPE, selectCameraTopics, type CameraTopics } from "./cameraTopics.js";
import { createProgress } from "./progress.js";
import { imagesToBag, inputKind, type ImageCalibration } from "./imageInput.js";
import { ScaleSummaryBuilder, type ReplaySummary } from "./summary.js";

export interface ReplayOptions {
  readonly input: string;
  readonly output: string;
  readonly params: DepthsegParams;
  /** Play at the recorded rate and let latest-wins drop frames, as a live camera would. */
  readonly realtime: boolean;
  /** Warnings and errors. */
  readonly log: (line: string) => void;
  /** Informational lines (the execution-provider line); `log` when absent, nothing with --quiet. */
  readonly info?: (line: string) => void;
  readonly showProgress: boolean;
  /**
   * Aborting it (its reason: the signal's name) stops reading the input: the frames in flight
   * finish and are written, the output is closed complete, and the summary says so.
   */
  readonly stop?: AbortSignal;
  /** Told where the output is written until it is complete (for a message on a hard exit). */
  readonly onOutputOpened?: (partialPath: string) => void;
  /** Output chunk compression (default DEFAULT_CHUNK_COMPRESSION). */
  readonly compression?: ChunkCompression;
  /** Threads compressing output chunks (BagWriterOptions.compressionWorkers; 0: the main thread). */
  readonly compressionWorkers?: number;
  /** What to write (default: every output, the camera and the transforms). */
  readonly topics?: TopicSelection;
  /** For a folder of images or a video: its camera (required there, refused for a bag). */
  readonly imageCalibration?: ImageCalibration;
}

/**
 * Replays a bag, or a folder of images or a video file (made into a camera bag first, removed
 * afterwards; the summary names the folder or video as the input).
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  await checkPaths(options.input, options.output);
  const kind = await inputKind(options.input);
  if (kind === "bag") {
    if (options.imageCalibration) throw new FatalError(`${options.input}: --camera-info, --fov and --fx are for images and videos; a bag has its CameraInfo`);
    return replayBag(options);
  }
  const images = await imagesToBag(options.input, kind, options.imageCalibration, options.output);
  try {
    for (const note of images.notes) (note.startsWith("NO CALIBRATION") ? options.log : (options.info ?? options.log))(note);
    const params = { ...options.params, imageTopic: images.imageTopic, cameraInfoTopic: images.cameraInfoTopic };
    const summary = await replayBag({ ...options, input: images.path, params });
    return { ...summary, input: options.input, inputNotes: [...images.notes, ...summary.inputNotes] };
  } finally {
    await images.remove();
  }
}

async function replayBag(options: ReplayOptions): Promise<ReplaySummary> {
  const { params, log } = options;
  const started = performance.now();
  // The same file under another name (symlink, hard link) would be truncated as well.
  if (resolve(options.input) === resolve(options.output) || (await isSameFile(options.input, options.output))) {
    throw new FatalError(`--out ${options.output} is the input bag ${options.input} (the same file); choose another output`);
  }
  await checkPaths(options.input, options.output);
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
    const selection = options.topics ?? ALL_TOPICS;
    const compression = options.compression ?? DEFAULT_CHUNK_COMPRESSION;
    // Known once the encoder exists (it names the output topics); channels register on first write, after that.
    let offeredQos: ((topic: string) => QosProfile | undefined) | undefined;
    // Loaded now, not on the first frame: a 0.3 s stall there would drop frames in --realtime.
    cv();
    // The output is opened before the model loads, so a bad --out fails in milliseconds.
    const writer = await mkdir(dirname(resolve(options.output)), { recursive: true })
      .then(() => BagWriter.create(options.output, {
        compression,
        ...(options.compressionWorkers === undefined ? {} : { compressionWorkers: options.compressionWorkers }),
        offeredQos: (topic) => offeredQos?.(topic),
      }))
      .catch((error: unknown) => {
        throw asFatal(error, `cannot write ${options.output}`);
      });
    options.onOutputOpened?.(writer.partialPath);
    // Said before any frame, and not muted by --quiet: outputs of a model used outside what it knows.
    if (bundle.warning !== undefined) log(modelWarningLine(bundle));
    // Closing writes the chunk, summary and footer and gives the file its name: a failure there
    // loses output, so it fails the run. A failed run deletes its unfinished output.
    cleanups.push((failed) =>
      failed
        ? writer.discard()
        : writer.close().catch((error: unknown) => {
            throw asFatal(error, `cannot write ${options.output}`);
          }),
    );

    const worker = await startInferenceWorker(bundle, params, log, options.info ?? log);
    cleanups.push(() => worker.close());

    const stats = new CameraStatsRegistry();
    const encoder = new OutputEncoder({ namespace: params.outputNamespace, bundle, provider: worker.provider });
    offeredQos = replayTopicQos((name) => encoder.topic(name));
    const selectedOutputs = new Set([...selection.outputs].map((name) => encoder.topic(name)));
    const state = new LatestWinsState();
    const processor = new FrameProcessor(bundle, worker, () => params);
    const totalImages = bag.topics.find((t) => t.topic === topics.imageTopic)?.messageCount;
    const progress = options.showProgress ? createProgress(totalImages) : undefined;
    if (progress) cleanups.push(async () => progress.stop());
    const errors: string[] = [];
    const writeMs: number[] = [];
    let handled = 0;

    const reading = { stoppedEarly: false };
    // Passed through as recorded: the camera (so the outputs line up with it) and the transforms.
    const passthroughTopics = new Set<string>(selection.camera ? [topics.imageTopic, topics.cameraInfoTopic] : []);
    if (selection.tf) {
      for (const t of bag.topics) if ((t.topic === TF_TOPIC || t.topic === TF_STATIC_TOPIC) && t.schemaName === TF_TYPE) passthroughTopics.add(t.topic);
    }
    const passthrough = (message: BagMessage): Promise<void> =>
      passthroughTopics.has(message.topic)
        ? write(message.topic, message.schemaName as RosTypeName, message.logTime, message.data)
        : Promise.resolve();
    const anchorTopic = anchorTopicOf(bag, params, log);
    const transforms = new StaticTransforms();
    const groundFrame = params.scale.source === "ground_plane" ? params.scale.groundFrame : "";
    const tf = anchorTopic?.kind === "cloud" || groundFrame !== "" ? { transforms, log } : undefined;
    const source = cameraInputs(bag, topics, options.realtime, state, { signal: options.stop, reading }, [...passthroughTopics], passthrough, anchorTopic, tf);
    // A failed write is not one frame's problem: the writer refuses every later write, so the
    // run ends there (FatalError) rather than counting each remaining frame as failed.
    const write = (topic: string, typeName: RosTypeName, logTime: bigint, bytes: Uint8Array): Promise<void> =>
      writer.writeRaw(topic, typeName, logTime, bytes).catch((error: unknown) => {
        throw asFatal(error, `cannot write ${options.output}`);
      });
    const depthHeads: Record<string, number> = {};
    const scaleSummary = params.scale.source === "fixed" || bundle.outputs.depth.kind === "metric" ? undefined : new ScaleSummaryBuilder(params.scale.source, anchorTopic?.topic ?? "");
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
        // One slot per message the encoder builds, whether or not --topics writes it.
        const encoded = encoder
          .encode(outputs)
          .map((out, slot) => ({ out, slot }))
          .filter(({ out }) => selectedOutputs.has(out.topic))
          .map(({ out, slot }) => ({ out, bytes: buffers.encode(slot, out.typeName, out.message) }));
        const encodeMs = performance.now() - t0;
        const t1 = performance.now();
        for (const { out, bytes } of encoded) await write(out.topic, out.typeName, out.logTime, bytes);
        writeMs.push(performance.now() - t1);
        return encodeMs;
      },
      writeStatus: async (outputs, cameraStats, totalMs) => {
        if (outputs.depthHead) depthHeads[outputs.depthHead] = (depthHeads[outputs.depthHead] ?? 0) + 1;
        if (outputs.scale) scaleSummary?.add(outputs.scale, outputs.depthScale, outputs.depthShift);
        const status = encoder.status(outputs, cameraStats, totalMs);
        if (!selectedOutputs.has(status.topic)) return;
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
        select: () => ({
          depthColorized: selection.outputs.has(OUTPUT_TOPICS.depthColorized),
          labelsColorized: selection.outputs.has(OUTPUT_TOPICS.labelsColorized),
          confidence: selection.outputs.has(OUTPUT_TOPICS.confidence),
        }),
        stats,
        schedulerState: state,
        lossless: !options.realtime,
        rectify: params.rectify,
        warn: log,
        onCameraInfoRejected: (error) => {
          errors.push(error.message);
          log(error.message);
        },
        ...(anchorTopic ? { anchors: { placeCloud: cloudPlacer(transforms, () => params.scale.extrinsics, log) } } : {}),
        ...(groundFrame !== "" ? { groundPlane: groundPlacer(transforms, groundFrame, () => params.scale, log) } : {}),
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
    // Closed here, not by the cleanup (which then does nothing), so the summary has its size.
    await writer.close().catch((error: unknown) => {
      throw asFatal(error, `cannot write ${options.output}`);
    });

    return {
      input: options.input,
      output: options.output,
      model: bundle.name,
      ...(bundle.trainedOn !== undefined ? { trainedOn: bundle.trainedOn } : {}),
      ...(bundle.warning !== undefined ? { modelWarning: bundle.warning } : {}),
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
      outputBytes: writer.bytesWritten,
      compression,
      errors,
      ...(scaleSummary ? { scale: scaleSummary.build() } : {}),
    };
  });
}

/** The warning a bundle declares, with what it was trained on. */
export function modelWarningLine(bundle: Pick<ModelBundle, "name" | "trainedOn" | "warning">): string {
  const trained = bundle.trainedOn !== undefined ? ` (trained on ${bundle.trainedOn})` : "";
  return `warning: model ${bundle.name}${trained}: ${bundle.warning}`;
}

/** A missing input or an --out that is a folder, said before anything is loaded. */
async function checkPaths(input: string, output: string): Promise<void> {
  await stat(input).catch((error: NodeJS.ErrnoException) => {
    throw new FatalError(`${input}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
  });
  if ((await stat(output).catch(() => undefined))?.isDirectory()) {
    const suggestion = join(output, `${basename(input).replace(/\.mcap$/i, "")}.depthseg.mcap`);
    throw new FatalError(`--out ${output} is a directory; name the output file, e.g. --out ${suggestion}`);
  }
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
  passthroughTopics: readonly string[],
  passthrough: (message: BagMessage) => Promise<void>,
  anchors?: AnchorTopic,
  /** Filled from the bag's /tf_static: clouds' placement (scale.source points) or the floor (scale.ground_frame). */
  tf?: { readonly transforms: StaticTransforms; readonly log: (line: string) => void },
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
      const read = new Set([topics.imageTopic, topics.cameraInfoTopic, ...passthroughTopics]);
      if (anchors) read.add(anchors.topic);
      if (tf) read.add(TF_STATIC_TOPIC);
      for await (const message of bag.messages([...read])) {
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
        await passthrough(message);
        if (anchors && message.topic === anchors.topic) {
          const input = toAnchorInput(message, anchors, topics.imageTopic);
          if (input) subscriber.next(input);
          continue;
        }
        if (tf && message.topic === TF_STATIC_TOPIC && message.schemaName === TF_TYPE) {
          readStaticTransforms(tf.transforms, message, tf.log);
          continue;
        }
        if (message.topic !== topics.imageTopic && message.topic !== topics.cameraInfoTopic) continue;
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

interface AnchorTopic {
  readonly topic: string;
  readonly kind: "depth_image" | "cloud";
  readonly log: (line: string) => void;
}

/** scale.source depth_image / points: the anchor topic, checked against the bag (its type must fit the source). */
function anchorTopicOf(bag: BagReader, params: DepthsegParams, log: (line: string) => void): AnchorTopic | undefined {
  const { source, topic } = params.scale;
  if (source !== "depth_image" && source !== "points") return undefined;
  const expected = source === "points" ? POINT_CLOUD2_TYPE : IMAGE_TYPE;
  const found = bag.topics.find((t) => t.topic === topic);
  if (!found) {
    throw new FatalError(`scale.topic ${topic} is not in the bag (scale.source ${source}; topics: ${bag.topics.map((t) => t.topic).join(", ")})`);
  }
  if (found.schemaName !== expected) {
    throw new FatalError(`scale.topic ${topic} is ${found.schemaName}; scale.source ${source} reads ${expected}`);
  }
  return { topic, kind: source === "points" ? "cloud" : "depth_image", log };
}

const POINT_CLOUD2_TYPE = "sensor_msgs/msg/PointCloud2";

/** An anchor message as pipeline input; a bad one is reported and left out (it is not a frame). */
function toAnchorInput(message: BagMessage, anchors: AnchorTopic, cameraTopic: string): CameraInput | undefined {
  try {
    if (anchors.kind === "depth_image") {
      const image = decodeMessage<Image>(IMAGE_TYPE, message.data);
      return { kind: "anchors", cameraTopic, stamp: image.header.stamp, anchors: depthImageAnchors(image) };
    }
    const cloud = decodeMessage<PointCloud2>(POINT_CLOUD2_TYPE, message.data);
    return { kind: "anchors", cameraTopic, stamp: cloud.header.stamp, anchors: { kind: "cloud", frameId: cloud.header.frame_id, points: cloudPoints(cloud) } };
  } catch (error) {
    const why = error instanceof FrameError ? error.detail : (error as Error).message;
    anchors.log(`${message.topic}: scale anchors left out at log time ${message.logTime}: ${why}`);
    return undefined;
  }
}

function readStaticTransforms(transforms: StaticTransforms, message: BagMessage, log: (line: string) => void): void {
  let tf: TFMessage;
  try {
    tf = decodeMessage<TFMessage>(TF_TYPE, message.data);
  } catch (error) {
    log(`${message.topic}: unreadable transforms at log time ${message.logTime} left out of placing the scale anchors: ${(error as Error).message}`);
    return;
  }
  addStaticTransforms(transforms, tf);
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
