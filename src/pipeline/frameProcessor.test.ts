// Buffer reuse must never show: every frame's outputs, read at the end of its sink, equal what a
// fresh processor (fresh arrays) computes for that frame alone, with one or two frames in flight,
// with decimation, and across a camera resolution change.

import { FRAME_ID, rgb8 } from "../../tests/support/cameraBag.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Observable, lastValueFrom, toArray } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CameraCalibration, Frame, RgbImage, Stamp } from "../frame.js";
import { resolveParameters, type DepthsegParams } from "../config/parameters.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { loadModelBundle, type ModelBundle } from "../inference/bundle.js";
import { analyticModelYaml, writeAnalyticBundle } from "../../tests/support/analyticBundle.js";
import { toInputTensor } from "../inference/preprocess.js";
import { resizeFloat, resizeFloatAlignCorners } from "../imaging/resize.js";
import { InferenceWorker } from "../inference/inferenceWorker.js";
import { encodePng } from "../imaging/decode.js";
import { decodeFrame, type PendingImage } from "../messages/ingest.js";
import { analyticDepth, analyticDisparity } from "../../tools/onnx/builders.js";
import { CameraStatsRegistry, cameraPipeline, type CameraInput, type FrameSink } from "./cameraPipeline.js";
import { FrameProcessor, type FrameOutputs, type OutputSelection } from "./frameProcessor.js";
import { LatestWinsState } from "./latestWins.js";

const TOPIC = "/cam/image_raw";
const SELECT: OutputSelection = { depthColorized: true, labelsColorized: true, confidence: true };
/** The analytic model's input: frames of this size skip both resizes, others go through them. */
const MODEL_W = 8;
const MODEL_H = 6;

/** Red varies per pixel and per seed (so depth does), one channel dominates (so labels do). */
function testImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const i = (v * width + u) * 3;
      const cls = (u + 2 * v + seed) % 3;
      const strong = 120 + ((u * 7 + v * 3 + seed * 29) % 120);
      data[i] = cls === 0 ? strong : 20 + ((u + seed * 11) % 40);
      data[i + 1] = cls === 1 ? strong : 10;
      data[i + 2] = cls === 2 ? strong : 5;
    }
  }
  return { width, height, data };
}

function stampOf(index: number): Stamp {
  return { sec: 100 + index, nanosec: 0 };
}

function calibrationFor(width: number, height: number): CameraCalibration {
  return pinholeCalibration(width, height, 20, 22, (width - 1) / 2, (height - 1) / 2);
}

type InputKind = "raw" | "png";

/** PNG (lossless) goes through the compressed decode, whose pixels FrameDecoder recycles. */
function pending(index: number, image: RgbImage, input: InputKind = "raw"): PendingImage {
  const raw = rgb8(stampOf(index), image);
  return {
    cameraTopic: TOPIC,
    stamp: stampOf(index),
    frameId: FRAME_ID,
    image:
      input === "raw"
        ? { encoding: "raw", message: raw }
        : { encoding: "compressed", message: { header: raw.header, format: "rgb8; png compressed bgr8", data: encodePng(image) } },
    receivedAt: performance.now(),
  };
}

/** Every output array of a frame, copied to bytes. */
interface Snapshot {
  readonly depth: Buffer;
  readonly labels: Buffer;
  readonly depthColorized: Buffer;
  readonly labelsColorized: Buffer;
  readonly cloud: Buffer;
  /** The decoded camera image (recycled by the decoder once the frame is released). */
  readonly image: Buffer;
}

function bytes(array: Float32Array | Uint16Array | Uint8Array | undefined): Buffer {
  if (!array) throw new Error("missing output");
  return Buffer.from(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
}

function snapshot(outputs: FrameOutputs): Snapshot {
  return {
    depth: bytes(outputs.depth),
    labels: bytes(outputs.labels),
    depthColorized: bytes(outputs.depthColorized),
    labelsColorized: bytes(outputs.labelsColorized),
    cloud: bytes(outputs.cloud.data),
    image: bytes(outputs.frame.image.data),
  };
}

/** 16x12 frames, then model-sized 8x6 ones (a resolution change), then 16x12 again. */
const SIZES: readonly [number, number][] = [
  [16, 12], [16, 12], [16, 12], [16, 12],
  [MODEL_W, MODEL_H], [MODEL_W, MODEL_H], [MODEL_W, MODEL_H],
  [16, 12], [16, 12], [16, 12],
];
const IMAGES = SIZES.map(([w, h], seed) => testImage(w, h, seed));

let root: string;
let bundle: ModelBundle;
let worker: InferenceWorker;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "depthseg-frameprocessor-"));
  bundle = await loadModelBundle(await writeAnalyticBundle(join(root, "analytic"), { size: [MODEL_H, MODEL_W] }));
  worker = await InferenceWorker.start({ bundle, providers: ["cpu"], intraOpThreads: 1 });
});

afterAll(async () => {
  await worker?.close();
  await rm(root, { recursive: true, force: true });
});

/** What each frame gives through a new processor that never reuses anything. */
async function references(params: DepthsegParams): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  for (const [index, image] of IMAGES.entries()) {
    const frame: Frame = decodeFrame(pending(index, image), calibrationFor(image.width, image.height)).frame;
    out.push(snapshot(await new FrameProcessor(bundle, worker, () => params).process(frame, SELECT)));
  }
  return out;
}

interface SinkRecord {
  readonly index: number;
  readonly snapshot: Snapshot;
  readonly depth: Float32Array;
  /** The memory behind the cloud's bytes (a CloudBuffer's: each fill is a new view of it). */
  readonly cloud: ArrayBufferLike;
  readonly image: Uint8Array;
}

/** The real pipeline; the sink is slow on even frames, so with 2 in flight frames overlap. */
async function runPipeline(params: DepthsegParams, input: InputKind, through: InferenceWorker = worker): Promise<SinkRecord[]> {
  const processor = new FrameProcessor(bundle, through, () => params);
  const state = new LatestWinsState();
  const records: SinkRecord[] = [];
  const sink: FrameSink = {
    writeOutputs: async (outputs) => {
      if (outputs.frame.stamp.sec % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 15));
      return 0;
    },
    // Read at the very end of the sink's lifetime: a later frame writing into this frame's
    // buffers before release would show here.
    writeStatus: async (outputs) => {
      records.push({ index: outputs.frame.stamp.sec - 100, snapshot: snapshot(outputs), depth: outputs.depth, cloud: outputs.cloud.data.buffer, image: outputs.frame.image.data });
    },
  };
  const source = new Observable<CameraInput>((subscriber) => {
    const produce = async () => {
      for (const [index, image] of IMAGES.entries()) {
        await state.whenReady();
        subscriber.next({ kind: "info", cameraTopic: TOPIC, stamp: stampOf(index), calibration: calibrationFor(image.width, image.height) });
        subscriber.next({ kind: "image", pending: pending(index, image, input) });
      }
      subscriber.complete();
    };
    produce().catch((error: unknown) => subscriber.error(error));
  });
  const results = await lastValueFrom(
    source.pipe(
      cameraPipeline({
        processor,
        sink,
        syncSlopSec: () => 0,
        maxInFlight: params.maxInFlight,
        select: () => SELECT,
        stats: new CameraStatsRegistry(),
        schedulerState: state,
      }),
      toArray(),
    ),
  );
  expect(results.map((r) => (r.ok ? "ok" : r.error.message))).toEqual(IMAGES.map(() => "ok"));
  return records.sort((a, b) => a.index - b.index);
}

describe("FrameProcessor buffer reuse", () => {
  for (const [maxInFlight, decimation, input] of [[1, 1, "raw"], [2, 1, "raw"], [2, 2, "raw"], [1, 1, "png"], [2, 1, "png"]] as const) {
    it(`every frame gets its own values (max_in_flight ${maxInFlight}, decimation ${decimation}, ${input} images)`, async () => {
      const params = resolveParameters({ max_in_flight: maxInFlight, "pointcloud.decimation": decimation, execution_providers: ["cpu"] });
      const expected = await references(params);
      const records = await runPipeline(params, input);
      expect(records.map((r) => r.index)).toEqual(IMAGES.map((_, i) => i));

      for (const [i, record] of records.entries()) {
        const want = expected[i]!;
        for (const key of ["depth", "labels", "depthColorized", "labelsColorized", "cloud", "image"] as const) {
          expect(record.snapshot[key].equals(want[key]), `frame ${i} ${key}`).toBe(true);
        }
        // Consecutive inputs differ, so a stale buffer could not pass as the right answer.
        if (i > 0) expect(record.snapshot.depth.equals(records[i - 1]!.snapshot.depth), `frame ${i} vs ${i - 1}`).toBe(false);
      }

      // Where the model size is the camera size, the analytic model's answer is exact.
      for (const [i, image] of IMAGES.entries()) {
        if (image.width !== MODEL_W) continue;
        const depth = new Float32Array(new Uint8Array(records[i]!.snapshot.depth).buffer);
        for (let p = 0; p < depth.length; p++) {
          const metres = analyticDepth(Math.fround(image.data[3 * p]! / 255));
          if (metres <= 11) expect(depth[p]).toBe(metres);
          else expect(depth[p]).toBeNaN();
        }
      }

      // And the buffers were in fact reused: at most maxInFlight sets per camera size.
      const distinct = (arrays: readonly object[]) => new Set(arrays).size;
      const large = records.filter((r) => IMAGES[r.index]!.width === 16);
      const small = records.filter((r) => IMAGES[r.index]!.width === MODEL_W);
      expect(distinct(large.map((r) => r.depth))).toBeLessThanOrEqual(maxInFlight);
      expect(distinct(large.map((r) => r.cloud))).toBeLessThanOrEqual(maxInFlight);
      expect(distinct(small.map((r) => r.depth))).toBeLessThanOrEqual(maxInFlight);
      // Decoded compressed images too (FrameDecoder.recycle): the 7 large frames share a few
      // buffers (one per frame in flight, plus those lost where the size changes).
      if (input === "png") expect(distinct(large.map((r) => r.image))).toBeLessThanOrEqual(maxInFlight + 2);
      // A resolution change reallocates: no 16x12 frame shares a cloud with an 8x6 one.
      const smallClouds = new Set(small.map((r) => r.cloud));
      expect(large.some((r) => smallClouds.has(r.cloud))).toBe(false);
      // The frames ran in the worker's shared slots, each given back once its frame was done with it.
      expect(worker.slots.size).toBeGreaterThan(0);
      expect(worker.slots.inUse).toBe(0);
    });
  }

  it("frames that find no shared slot free run by transfer, with the same values", async () => {
    // One slot, two frames in flight: the second frame's run often finds it taken.
    const oneSlot = await InferenceWorker.start({ bundle, providers: ["cpu"], intraOpThreads: 1, sharedSlots: 1 });
    const calls = { run: 0, runInSlot: 0 };
    const counted = new Proxy(oneSlot, {
      get(target, key) {
        if (key === "run" || key === "runInSlot") calls[key]++;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    try {
      const params = resolveParameters({ max_in_flight: 2, execution_providers: ["cpu"] });
      const expected = await references(params);
      const records = await runPipeline(params, "raw", counted);
      for (const [i, record] of records.entries()) {
        for (const key of ["depth", "labels", "cloud"] as const) expect(record.snapshot[key].equals(expected[i]![key]), `frame ${i} ${key}`).toBe(true);
      }
      expect(calls.run + calls.runInSlot).toBe(IMAGES.length);
      expect(calls.runInSlot).toBeGreaterThan(0);
      expect(calls.run).toBeGreaterThan(0);
      expect([oneSlot.slots.size, oneSlot.slots.inUse]).toEqual([1, 0]);
    } finally {
      await oneSlot.close();
    }
  });

  it("hands out fresh arrays until outputs are released, and ignores a second release", async () => {
    const params = resolveParameters({ execution_providers: ["cpu"] });
    const processor = new FrameProcessor(bundle, worker, () => params);
    const frameOf = (index: number) => decodeFrame(pending(index, IMAGES[index]!), calibrationFor(16, 12)).frame;
    const a = await processor.process(frameOf(0), SELECT);
    const aBytes = snapshot(a);
    const b = await processor.process(frameOf(1), SELECT);
    expect(b.depth).not.toBe(a.depth);
    expect(snapshot(a).depth.equals(aBytes.depth)).toBe(true);
    processor.release(a);
    processor.release(a);
    const c = await processor.process(frameOf(2), SELECT);
    expect(c.depth).toBe(a.depth);
    expect(c.cloud.data.buffer).toBe(a.cloud.data.buffer);
    expect(b.cloud.data.buffer).not.toBe(a.cloud.data.buffer);
    const d = await processor.process(frameOf(3), SELECT);
    expect(d.depth).not.toBe(c.depth);
    expect(d.depth).not.toBe(b.depth);
  });
});

describe("FrameProcessor with a sky output (Depth Anything 3 Mono/Metric)", () => {
  it("publishes NaN depth on sky pixels and metres elsewhere; the validity check ignores the sky", async () => {
    // The analytic model's `sky` is the green channel: sky where G/255 >= 0.5.
    const skyBundle = await loadModelBundle(await writeAnalyticBundle(join(root, "sky"), { size: [MODEL_H, MODEL_W], skyThreshold: 0.5 }));
    const skyWorker = await InferenceWorker.start({ bundle: skyBundle, providers: ["cpu"], intraOpThreads: 1 });
    try {
      const n = MODEL_W * MODEL_H;
      const data = new Uint8Array(3 * n);
      let expectedSky = 0;
      for (let i = 0; i < n; i++) {
        data[3 * i] = 10 + 4 * i;                      // red: the depth
        data[3 * i + 1] = i % 3 === 0 ? 200 : 60;      // green: the sky map (200/255 >= 0.5 > 60/255)
        if (i % 3 === 0) expectedSky++;
      }
      const image = { width: MODEL_W, height: MODEL_H, data };
      const frame = decodeFrame(pending(0, image), calibrationFor(MODEL_W, MODEL_H)).frame;
      const params = resolveParameters({ model: skyBundle.dir, execution_providers: ["cpu"] });
      const outputs = await new FrameProcessor(skyBundle, skyWorker, () => params).process(frame, SELECT);
      expect(outputs.skyPixels).toBe(expectedSky);
      expect(outputs.depthValidFraction).toBe(1);
      let nan = 0;
      for (let i = 0; i < n; i++) {
        if (i % 3 === 0) {
          expect(outputs.depth[i], `pixel ${i} is sky`).toBeNaN();
          nan++;
        } else {
          expect(outputs.depth[i]).toBe(analyticDepth(Math.fround(data[3 * i]! / 255)));
        }
      }
      expect(nan).toBe(16);
    } finally {
      await skyWorker.close();
    }
  });
});

describe("relative_disparity: the disparity is upsampled, then inverted (as Depth Anything's infer_image)", () => {
  for (const upsample of [undefined, "align_corners"] as const) {
    it(`upsample: ${upsample ?? "half-pixel (default)"}`, async () => {
      const yaml = analyticModelYaml({ relative: true, size: [MODEL_H, MODEL_W] })
        .replace("kind: relative_disparity }", `kind: relative_disparity${upsample ? `, upsample: ${upsample}` : ""} }`);
      const dir = await writeAnalyticBundle(join(root, `relative-${upsample ?? "default"}`), { relative: true, modelYaml: yaml });
      const relative = await loadModelBundle(dir);
      expect(relative.outputs.depth?.upsample).toBe(upsample);
      const relWorker = await InferenceWorker.start({ bundle: relative, providers: ["cpu"], intraOpThreads: 1 });
      try {
        const image = testImage(16, 12, 3);
        const params = resolveParameters({ model: dir, execution_providers: ["cpu"], "depth.scale": 2, "depth.shift": 0.5 });
        const frame = decodeFrame(pending(0, image), calibrationFor(16, 12)).frame;
        const published = Float32Array.from((await new FrameProcessor(relative, relWorker, () => params).process(frame, SELECT)).depth);
        // The model's disparity at its 8x6 resolution: the analytic model of the red channel.
        const tensor = toInputTensor(image, relative.input);
        const disparity = Float32Array.from({ length: MODEL_W * MODEL_H }, (_, i) => analyticDisparity(tensor.data[i]!));
        const resize = (a: Float32Array) =>
          upsample ? resizeFloatAlignCorners(a, MODEL_W, MODEL_H, 16, 12) : resizeFloat(a, MODEL_W, MODEL_H, 16, 12, "linear");
        const want = resize(disparity).map((d) => 1 / (2 * d + 0.5));
        const depthFirst = resize(disparity.map((d) => 1 / (2 * d + 0.5)));
        let worst = 0;
        let gap = 0;
        for (let i = 0; i < want.length; i++) {
          worst = Math.max(worst, Math.abs(published[i]! - want[i]!) / want[i]!);
          gap = Math.max(gap, Math.abs(depthFirst[i]! - want[i]!) / want[i]!);
        }
        expect(worst).toBeLessThan(1e-6);
        expect(gap).toBeGreaterThan(1e-3); // the two orders differ on this image: the test can tell them apart
      } finally {
        await relWorker.close();
      }
    });
  }
});
