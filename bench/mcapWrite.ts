// Output MCAP writing against a raw write of the same bytes (issue 13: <= 1.5x). The messages are
// a real replay's: the tiny model's outputs of 640x480 frames (depth 32FC1, both colourised views,
// cloud, labels, label info, status) plus the camera passed through (CompressedImage, CameraInfo),
// CDR-encoded once; then, alternating in rounds so drift hits all alike, the same bytes go to
//   raw     FileHandle.write of each message's bytes, one after the other (the disk-speed floor)
//   before  @mcap/core's McapWriter (what BagWriter used; same options) over FileWritable
//   after   BagWriter (McapFileWriter), compression none
//   zstd    BagWriter with zstd chunks compressed on the main thread (compressionWorkers 0, as
//           before issue 13's worker pool)
//   zstdWorkers  BagWriter with zstd chunks compressed by its worker pool (replay's default)
// Each writer gets a fresh file in the OS temp folder, deleted after its round. Timed: the awaited
// writes of every frame (as replay's sink awaits them); not timed: open, the summary, fsync, close.
// close() is timed apart: with workers it also waits for the chunks still being compressed.
// Main-thread time during the awaited writes is what the writer costs the thread that runs the
// pipeline, measured two ways: the main thread's own CPU time (Linux /proc schedstat; what a
// machine with a core per thread would see) and the event loop's active time
// (performance.eventLoopUtilization), which also counts time the active thread waited for a core
// (with a worker compressing flat out on 2 shared cores, much of it). Time spent waiting for
// the disk or a worker is neither. Main-thread GC pauses are summed over each writer's
// whole round (what its garbage costs).

import { readFileSync } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { McapWriter } from "@mcap/core";
import type { CameraCalibration } from "../src/frame.js";
import type { ModelBundle } from "../src/inference/bundle.js";
import type { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { calibrationToCameraInfo } from "../src/messages/camera.js";
import { encodeMessage } from "../src/messages/cdr.js";
import { rosTypeSchema } from "../src/messages/definitions.js";
import { decodeFrame, type PendingImage } from "../src/messages/ingest.js";
import { OutputEncoder } from "../src/messages/outputMessages.js";
import type { CompressedImage, RosTypeName } from "../src/messages/types.js";
import { CameraStatsRegistry } from "../src/pipeline/cameraPipeline.js";
import { FrameProcessor, type OutputSelection } from "../src/pipeline/frameProcessor.js";
import { resolveParameters } from "../src/config/parameters.js";
import { stampToNanoseconds } from "../src/frame.js";
import { BagWriter } from "../src/transport/mcap/bagWriter.js";
import { FileWritable } from "../src/transport/mcap/fileWritable.js";

export interface EncodedMessage {
  readonly topic: string;
  readonly typeName: RosTypeName;
  readonly logTime: bigint;
  readonly bytes: Uint8Array;
}

/** Each frame's messages in the order replay writes them (camera, outputs, status). */
export async function replayMessages(
  bundle: ModelBundle,
  worker: InferenceWorker,
  count: number,
  image: (index: number) => PendingImage,
  calibration: CameraCalibration,
  select: OutputSelection,
): Promise<EncodedMessage[][]> {
  const params = resolveParameters({});
  const processor = new FrameProcessor(bundle, worker, () => params);
  const encoder = new OutputEncoder({ namespace: params.outputNamespace, bundle, provider: worker.provider });
  const stats = new CameraStatsRegistry();
  const frames: EncodedMessage[][] = [];
  for (let i = 0; i < count; i++) {
    const pending = image(i);
    const { frame } = decodeFrame(pending, calibration);
    const outputs = await processor.process(frame, select);
    const logTime = stampToNanoseconds(frame.stamp);
    const compressed = pending.image.message as CompressedImage;
    const messages: EncodedMessage[] = [
      { topic: pending.cameraTopic, typeName: "sensor_msgs/msg/CompressedImage", logTime, bytes: encodeMessage("sensor_msgs/msg/CompressedImage", compressed) },
      { topic: "/camera/color/camera_info", typeName: "sensor_msgs/msg/CameraInfo", logTime, bytes: encodeMessage("sensor_msgs/msg/CameraInfo", calibrationToCameraInfo(compressed.header, calibration)) },
    ];
    const status = encoder.status(outputs, stats.camera(pending.cameraTopic), 0);
    for (const out of [...encoder.encode(outputs), status]) {
      messages.push({ topic: out.topic, typeName: out.typeName, logTime: out.logTime, bytes: encodeMessage(out.typeName, out.message) });
    }
    processor.release(outputs);
    frames.push(messages);
  }
  return frames;
}

type Way = "raw" | "before" | "after" | "zstd" | "zstdWorkers";
const WAYS: readonly Way[] = ["raw", "before", "after", "zstd", "zstdWorkers"];

export interface McapWriteResult {
  /** Per way: ms per frame of each round. */
  readonly msPerFrame: Record<Way, number[]>;
  /** Per way: main-thread busy (event loop active) ms per frame of each round, during the writes. */
  readonly busyMsPerFrame: Record<Way, number[]>;
  /** Per way: main-thread CPU ms per frame of each round, during the writes; empty off Linux. */
  readonly cpuMsPerFrame: Record<Way, number[]>;
  /** Per way: ms of each round's close() (0 for raw's file close, which is not timed). */
  readonly closeMs: Record<Way, number[]>;
  readonly bytesPerFrame: number;
  readonly fileBytesPerFrame: Record<Way, number>;
  /** Per way: main-thread GC pause ms per frame over its timed rounds. */
  readonly gcMsPerFrame: Record<Way, number>;
}

/** Writes `frames` frames (cycling through `messages`) `rounds` times each way. */
export async function benchMcapWrite(
  messages: readonly EncodedMessage[][],
  frames: number,
  rounds: number,
  /** GC pause ms between two performance.now() times (the bench's PerformanceObserver). */
  gcMs: (from: number, to: number) => Promise<number>,
): Promise<McapWriteResult> {
  const dir = await mkdtemp(join(tmpdir(), "depthseg-bench-mcap-"));
  const perWay = <T>(make: () => T): Record<Way, T> => ({ raw: make(), before: make(), after: make(), zstd: make(), zstdWorkers: make() });
  const msPerFrame = perWay((): number[] => []);
  const busyMsPerFrame = perWay((): number[] => []);
  const cpuMsPerFrame = perWay((): number[] => []);
  const closeMs = perWay((): number[] => []);
  const fileBytesPerFrame = perWay(() => 0);
  const gcMsPerFrame = perWay(() => 0);
  const frameAt = (i: number) => messages[i % messages.length]!;
  try {
    // One untimed warm-up round, then the timed ones.
    for (let round = 0; round <= rounds; round++) {
      for (const way of WAYS) {
        const path = join(dir, `${way}.mcap`);
        const from = performance.now();
        const timed = await writeOnce(way, path, frames, frameAt);
        const gc = await gcMs(from, performance.now());
        if (round > 0) {
          msPerFrame[way].push(timed.ms / frames);
          busyMsPerFrame[way].push(timed.busyMs / frames);
          if (Number.isFinite(timed.cpuMs)) cpuMsPerFrame[way].push(timed.cpuMs / frames);
          closeMs[way].push(timed.closeMs);
          gcMsPerFrame[way] += gc / (frames * rounds);
        }
        fileBytesPerFrame[way] = (await stat(path)).size / frames;
        await rm(path, { force: true });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const bytesPerFrame = messages.reduce((sum, frame) => sum + frame.reduce((s, m) => s + m.bytes.byteLength, 0), 0) / messages.length;
  return { msPerFrame, busyMsPerFrame, cpuMsPerFrame, closeMs, bytesPerFrame, fileBytesPerFrame, gcMsPerFrame };
}

interface Timed {
  /** Wall ms in the awaited writes of all frames. */
  readonly ms: number;
  /** Of those, ms the main thread's event loop was active (not waiting). */
  readonly busyMs: number;
  /** Of those, the main thread's CPU ms (NaN where /proc schedstat is missing). */
  readonly cpuMs: number;
  /** close() / end(), ms. */
  readonly closeMs: number;
}

/** The main thread's CPU time in ms (its first schedstat field, ns on a CPU); NaN off Linux. */
function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** Times one frame's writes: adds their wall, event-loop-active and main-thread CPU ms to `into`. */
async function timeFrame(into: { ms: number; busyMs: number; cpuMs: number }, write: () => Promise<void>): Promise<void> {
  const cpu0 = mainThreadCpuMs();
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  await write();
  into.ms += performance.now() - t0;
  into.busyMs += performance.eventLoopUtilization(elu).active;
  into.cpuMs += mainThreadCpuMs() - cpu0;
}

async function writeOnce(way: Way, path: string, frames: number, frameAt: (i: number) => readonly EncodedMessage[]): Promise<Timed> {
  const timed = { ms: 0, busyMs: 0, cpuMs: 0 };
  if (way === "raw") {
    const file = await open(path, "w");
    try {
      for (let i = 0; i < frames; i++) {
        await timeFrame(timed, async () => {
          for (const m of frameAt(i)) {
            for (let done = 0; done < m.bytes.byteLength; ) done += (await file.write(m.bytes, done, m.bytes.byteLength - done)).bytesWritten;
          }
        });
      }
    } finally {
      await file.close();
    }
    return { ...timed, closeMs: 0 };
  }
  if (way === "before") {
    const file = await open(path, "w");
    try {
      const writer = new McapWriter({ writable: new FileWritable(file), useStatistics: true, useSummaryOffsets: true, useChunks: true, useMessageIndex: true, useChunkIndex: true });
      await writer.start({ profile: "ros2", library: "depthseg" });
      const channels = new Map<string, number>();
      const schemas = new Map<string, number>();
      const sequences = new Map<number, number>();
      for (let i = 0; i < frames; i++) {
        await timeFrame(timed, async () => {
          for (const m of frameAt(i)) {
            // As BagWriter registered them before: schema and channel on first use.
            let channelId = channels.get(m.topic);
            if (channelId === undefined) {
              let schemaId = schemas.get(m.typeName);
              if (schemaId === undefined) {
                schemaId = await writer.registerSchema({ name: m.typeName, encoding: "ros2msg", data: new TextEncoder().encode(rosTypeSchema(m.typeName).schemaText) });
                schemas.set(m.typeName, schemaId);
              }
              channelId = await writer.registerChannel({ topic: m.topic, schemaId, messageEncoding: "cdr", metadata: new Map([["offered_qos_profiles", ""]]) });
              channels.set(m.topic, channelId);
            }
            const sequence = sequences.get(channelId) ?? 0;
            sequences.set(channelId, sequence + 1);
            await writer.addMessage({ channelId, sequence, logTime: m.logTime, publishTime: m.logTime, data: m.bytes });
          }
        });
      }
      const t0 = performance.now();
      await writer.end();
      return { ...timed, closeMs: performance.now() - t0 };
    } finally {
      await file.close();
    }
  }
  const writer = await BagWriter.create(path, way === "after" ? { compression: "none" } : { compression: "zstd", ...(way === "zstd" ? { compressionWorkers: 0 } : {}) });
  try {
    for (let i = 0; i < frames; i++) {
      await timeFrame(timed, async () => {
        for (const m of frameAt(i)) await writer.writeRaw(m.topic, m.typeName, m.logTime, m.bytes);
      });
    }
    const t0 = performance.now();
    await writer.close();
    return { ...timed, closeMs: performance.now() - t0 };
  } catch (error) {
    await writer.discard();
    throw error;
  }
}
