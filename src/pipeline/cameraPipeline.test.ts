// cameraPipeline failure handling: per-frame problems become results, a dead worker or a broken
// output ends the run.

import { performance } from "node:perf_hooks";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { FatalError, FrameError } from "../errors.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import type { PendingImage } from "../messages/ingest.js";
import type { StageTimings } from "../frame.js";
import { CameraStatsRegistry, cameraPipeline, type CameraInput, type FrameResult, type FrameSink } from "./cameraPipeline.js";
import type { FrameOutputs, FrameProcessor } from "./frameProcessor.js";

const TOPIC = "/cam/image_raw";
const W = 4;
const H = 2;

function inputs(count: number, stampSec = (i: number) => 10 + i, imageFirst = false): CameraInput[] {
  const out: CameraInput[] = [];
  for (let i = 0; i < count; i++) {
    const stamp = { sec: stampSec(i), nanosec: 0 };
    const pending: PendingImage = {
      cameraTopic: TOPIC,
      stamp,
      frameId: "cam",
      image: {
        encoding: "raw",
        message: { header: { stamp, frame_id: "cam" }, height: H, width: W, encoding: "rgb8", is_bigendian: 0, step: W * 3, data: new Uint8Array(W * H * 3) },
      },
      receivedAt: performance.now(),
    };
    const info: CameraInput = { kind: "info", cameraTopic: TOPIC, stamp, calibration: pinholeCalibration(W, H, 5, 5, 1.5, 0.5) };
    out.push(...(imageFirst ? [{ kind: "image", pending } as const, info] : [info, { kind: "image", pending } as const]));
  }
  return out;
}

/**
 * `process(index, timings)` may throw, or return a depth valid fraction (default 1); a stage it
 * finishes it marks in `timings`, as the real processor does.
 */
function stubProcessor(process: (index: number, timings: StageTimings) => Promise<number | void>): FrameProcessor {
  let calls = 0;
  return {
    process: async (frame: FrameOutputs["frame"], _select: unknown, timings: StageTimings = {}) => {
      const depthValidFraction = (await process(calls++, timings)) ?? 1;
      return { frame, timings, depthValidFraction } as unknown as FrameOutputs;
    },
    release: () => {},
  } as unknown as FrameProcessor;
}

const okSink: FrameSink = { writeOutputs: async () => 0, writeStatus: async () => {} };

function run(
  processor: FrameProcessor,
  sink: FrameSink,
  count: number | CameraInput[],
  extra: { stats?: CameraStatsRegistry; warn?: (line: string) => void; onCameraInfoRejected?: (error: FrameError) => void } = {},
) {
  return lastValueFrom(
    from(typeof count === "number" ? inputs(count) : count).pipe(
      cameraPipeline({
        processor,
        sink,
        syncSlopSec: () => 0,
        maxInFlight: 1,
        select: () => ({ depthColorized: false, labelsColorized: false, confidence: false }),
        stats: extra.stats ?? new CameraStatsRegistry(),
        lossless: true, // a synchronous source: every frame queues
        ...(extra.warn ? { warn: extra.warn } : {}),
        ...(extra.onCameraInfoRejected ? { onCameraInfoRejected: extra.onCameraInfoRejected } : {}),
      }),
      toArray(),
    ),
  );
}

const reasons = (results: readonly FrameResult[]) => results.map((r) => (r.ok ? "ok" : r.error.reason));

describe("cameraPipeline failures", () => {
  it("turns a FrameError into a failed result and goes on", async () => {
    const processor = stubProcessor(async (i) => {
      if (i === 1) throw new FrameError("inference_failed", "bad frame");
    });
    const results = await run(processor, okSink, 3);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
  });

  it("ends the run on a FatalError (the inference worker is gone) instead of failing every later frame", async () => {
    let calls = 0;
    const processor = stubProcessor(async (i) => {
      calls++;
      if (i >= 1) throw new FatalError("inference worker exited unexpectedly (code 1)");
    });
    await expect(run(processor, okSink, 5)).rejects.toThrow(new FatalError("inference worker exited unexpectedly (code 1)"));
    expect(calls).toBe(2);
  });

  it("ends the run when the sink fails fatally (the output cannot be written)", async () => {
    const sink: FrameSink = {
      writeOutputs: async () => {
        throw new FatalError("cannot write out.mcap: ENOSPC");
      },
      writeStatus: async () => {},
    };
    await expect(run(stubProcessor(async () => {}), sink, 3)).rejects.toBeInstanceOf(FatalError);
  });

  it("names the stage of an unexpected error instead of calling everything inference_failed", async () => {
    const processor = stubProcessor(async (i, timings) => {
      timings.preprocess = 1;
      if (i === 0) throw new TypeError("x is undefined");
      timings.inference = 1;
      if (i === 1) throw new RangeError("offset out of bounds");
      timings.postprocess = 1;
      timings.backproject = 1;
    });
    let writes = 0;
    const sink: FrameSink = {
      writeOutputs: async () => {
        if (writes++ === 0) throw new Error("cannot encode sensor_msgs/msg/Image");
        return 0;
      },
      writeStatus: async () => {},
    };
    const results = await run(processor, sink, 4);
    expect(reasons(results)).toEqual(["inference_failed", "postprocess_failed", "encode_failed", "ok"]);
    expect(results[1]!.ok ? "" : results[1]!.error.message).toBe(`${TOPIC} @ stamp 11.000000000: postprocess_failed: offset out of bounds`);
  });

  it("fails a frame whose depth output is mostly invalid, still writes its status, and warns once", async () => {
    const fractions = [1, 0.2, 0, 0.5, 0.49];
    const processor = stubProcessor(async (i) => fractions[i]);
    const written: string[] = [];
    const statusFailed: number[] = [];
    const sink: FrameSink = {
      writeOutputs: async (outputs) => {
        written.push(`outputs ${outputs.frame.stamp.sec}`);
        return 0;
      },
      writeStatus: async (outputs, cameraStats) => {
        written.push(`status ${outputs.frame.stamp.sec}`);
        statusFailed.push(cameraStats.failed);
      },
    };
    const warnings: string[] = [];
    const stats = new CameraStatsRegistry();
    const results = await run(processor, sink, fractions.length, { stats, warn: (line) => warnings.push(line) });
    expect(reasons(results)).toEqual(["ok", "model_output_invalid", "model_output_invalid", "ok", "model_output_invalid"]);
    expect(results[1]!.ok ? "" : results[1]!.error.detail).toBe(
      "80.0 % of the model's depth output is NaN, ±Inf or ≤ 0 (more than 50.0 % fails the frame)",
    );
    // Invalid frames publish only their status, which already counts them as failed.
    expect(written).toEqual(["outputs 10", "status 10", "status 11", "status 12", "outputs 13", "status 13", "status 14"]);
    expect(statusFailed).toEqual([0, 1, 2, 2, 3]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/mostly NaN, ±Inf or ≤ 0 \(20\.0 % valid\)/);
    expect(stats.all.snapshot()).toMatchObject({ read: 5, processed: 2, failed: 3, failedByReason: { model_output_invalid: 3 } });
  });

  it("refuses stamps with nanosec ≥ 1e9 or a negative sec before pairing, images as failed frames", async () => {
    const good = inputs(1);
    const bad = (stamp: { sec: number; nanosec: number }): CameraInput[] =>
      inputs(1).map((input) =>
        input.kind === "image" ? { kind: "image", pending: { ...input.pending, stamp } } : { ...input, stamp } as CameraInput,
      );
    const rejected: FrameError[] = [];
    const stats = new CameraStatsRegistry();
    const results = await run(
      stubProcessor(async () => {}),
      okSink,
      [...bad({ sec: 100, nanosec: 1_500_000_000 }), ...bad({ sec: -1, nanosec: 0 }), ...good],
      { stats, onCameraInfoRejected: (error) => rejected.push(error) },
    );
    expect(reasons(results)).toEqual(["invalid_stamp", "invalid_stamp", "ok"]);
    expect(results[0]!.ok ? "" : results[0]!.error.message).toBe(
      `${TOPIC}: invalid_stamp: header.stamp has sec 100, nanosec 1500000000: nanosec must be in 0..999999999`,
    );
    expect(rejected.map((e) => e.reason)).toEqual(["invalid_stamp", "invalid_stamp"]);
    expect(stats.all.snapshot()).toMatchObject({ read: 3, processed: 1, dropped: 0, failed: 2, cameraInfoRejected: 2 });
  });

  it("counts an unreadable image as read and failed, and an unreadable CameraInfo as rejected", async () => {
    const error = new FrameError("bad_message", "cannot decode", TOPIC, { sec: 5, nanosec: 0 });
    const stats = new CameraStatsRegistry();
    const results = await run(
      stubProcessor(async () => {}),
      okSink,
      [
        { kind: "unreadable", message: "image", cameraTopic: TOPIC, error },
        { kind: "unreadable", message: "camera_info", cameraTopic: TOPIC, error },
        ...inputs(1),
      ],
      { stats, onCameraInfoRejected: () => {} },
    );
    expect(reasons(results)).toEqual(["bad_message", "ok"]);
    const s = stats.all.snapshot();
    expect(s).toMatchObject({ read: 2, processed: 1, failed: 1, cameraInfoRejected: 1 });
    expect(s.read).toBe(s.processed + s.dropped + s.failed);
  });
});

describe("cameraPipeline pairing", () => {
  it("live (not lossless): frames after the camera clock jumps back are paired, not failed as no_camera_info", async () => {
    // 30 frames at 1000 s, then 10 at 1 s whose image arrives before its CameraInfo.
    const before = inputs(30, (i) => 1000 + i);
    const after = inputs(10, (i) => 1 + i, true);
    const stats = new CameraStatsRegistry();
    const results = await lastValueFrom(
      from([...before, ...after]).pipe(
        cameraPipeline({
          processor: stubProcessor(async () => {}),
          sink: okSink,
          syncSlopSec: () => 0,
          maxInFlight: 1,
          select: () => ({ depthColorized: false, labelsColorized: false, confidence: false }),
          stats,
          lossless: false,
        }),
        toArray(),
      ),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    // A synchronous source outruns the processor: latest-wins drops, but every frame is paired.
    expect(stats.all.read).toBe(40);
    expect(stats.all.processed + stats.all.dropped).toBe(40);
    expect(stats.all.processed).toBeGreaterThanOrEqual(2);
  });
});
