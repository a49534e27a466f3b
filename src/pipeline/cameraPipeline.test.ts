// cameraPipeline failure handling: per-frame problems become results, a dead worker or a broken
// output ends the run.

import { performance } from "node:perf_hooks";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { FatalError, FrameError } from "../errors.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import type { PendingImage } from "../messages/ingest.js";
import { CameraStatsRegistry, cameraPipeline, type CameraInput, type FrameSink } from "./cameraPipeline.js";
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

function stubProcessor(process: (index: number) => Promise<void>): FrameProcessor {
  let calls = 0;
  return {
    process: async (frame: FrameOutputs["frame"]) => {
      await process(calls++);
      return { frame, timings: {} } as unknown as FrameOutputs;
    },
    release: () => {},
  } as unknown as FrameProcessor;
}

const okSink: FrameSink = { writeOutputs: async () => 0, writeStatus: async () => {} };

function run(processor: FrameProcessor, sink: FrameSink, count: number) {
  return lastValueFrom(
    from(inputs(count)).pipe(
      cameraPipeline({
        processor,
        sink,
        syncSlopSec: () => 0,
        maxInFlight: 1,
        select: () => ({ depthColorized: false, labelsColorized: false }),
        stats: new CameraStatsRegistry(),
        lossless: true, // a synchronous source: every frame queues
      }),
      toArray(),
    ),
  );
}

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
          select: () => ({ depthColorized: false, labelsColorized: false }),
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
