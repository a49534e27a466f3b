import { describe, expect, it } from "vitest";
import { PipelineStats, percentile } from "./stats.js";

describe("PipelineStats", () => {
  it("nearest-rank percentiles", () => {
    const values = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(values, 0.5)).toBe(5);
    expect(percentile(values, 0.95)).toBe(10);
    expect(percentile(Float64Array.from([7]), 0.95)).toBe(7);
  });

  it("summarises stage latencies and failures by reason", () => {
    const stats = new PipelineStats(8);
    for (let i = 1; i <= 20; i++) stats.recordTimings({ inference: i }, i * 2);
    stats.recordFailure("corrupt_compressed_image");
    stats.recordFailure("corrupt_compressed_image");
    stats.recordFailure("no_camera_info");
    const inference = stats.latency("inference")!;
    // Window of 8 keeps samples 13..20.
    expect(inference.count).toBe(20);
    expect(inference.p50).toBe(16);
    expect(inference.p95).toBe(20);
    expect(stats.latency("total")!.p95).toBe(40);
    expect(stats.latency("decode")).toBeUndefined();
    expect(stats.failed).toBe(3);
    expect(stats.snapshot().failedByReason).toEqual({ corrupt_compressed_image: 2, no_camera_info: 1 });
  });
});
