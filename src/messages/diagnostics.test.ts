import { describe, expect, it } from "vitest";
import { PipelineStats } from "../pipeline/stats.js";
import { DiagnosticsReporter, STALE_INPUT_SEC } from "./diagnostics.js";
import { DiagnosticLevel, type DiagnosticStatus } from "./types.js";

const header = { stamp: { sec: 1, nanosec: 0 }, frame_id: "" };
const info = { nodeName: "depthseg", model: "m", provider: "cuda", depthKind: "metric" };

function values(status: DiagnosticStatus): Record<string, string> {
  return Object.fromEntries(status.values.map((kv) => [kv.key, kv.value]));
}

describe("DiagnosticsReporter", () => {
  it("reports per-period rates and totals, OK while frames flow", () => {
    const reporter = new DiagnosticsReporter(info);
    const stats = new PipelineStats();
    stats.read = 20;
    stats.processed = 20;
    stats.recordTimings({ inference: 12 }, 30);
    const first = reporter.report(header, new Map([["/cam", stats.snapshot()]]), 102, 100);
    expect(first.status.map((s) => s.name)).toEqual(["depthseg: inference", "depthseg: /cam"]);
    expect(first.status[0]!.message).toBe("m on cuda");
    const cam = first.status[1]!;
    expect(cam.level).toBe(DiagnosticLevel.OK);
    expect(cam.message).toBe("10.0 Hz");
    expect(values(cam)).toMatchObject({ input_rate_hz: "10.00", output_rate_hz: "10.00", frames_processed: "20", latency_total_p50_ms: "30.0", latency_inference_p50_ms: "12.0", execution_provider: "cuda" });

    stats.read = 30;
    stats.processed = 25;
    stats.dropped = 5;
    const second = reporter.report(header, new Map([["/cam", stats.snapshot()]]), 103, 100).status[1]!;
    expect(second.level).toBe(DiagnosticLevel.WARN);
    expect(second.message).toBe("5.0 Hz, 5 dropped, 0 failed in the last 1.0 s");
    expect(values(second)).toMatchObject({ input_rate_hz: "10.00", output_rate_hz: "5.00", frames_dropped: "5" });
  });

  it("is an ERROR when every frame of the period failed, and a WARN when the camera is silent", () => {
    const reporter = new DiagnosticsReporter(info);
    const stats = new PipelineStats();
    stats.read = 3;
    stats.recordFailure("unknown_encoding");
    stats.recordFailure("unknown_encoding");
    stats.recordFailure("unknown_encoding");
    const failing = reporter.report(header, new Map([["/cam", stats.snapshot()]]), 101, 100).status[1]!;
    expect(failing.level).toBe(DiagnosticLevel.ERROR);
    expect(failing.message).toBe("every frame failed in the last 1.0 s (unknown_encoding: 3)");

    const silent = new DiagnosticsReporter(info).report(header, new Map([["/quiet", new PipelineStats().snapshot()]]), 100 + STALE_INPUT_SEC, 100).status[1]!;
    expect(silent.level).toBe(DiagnosticLevel.WARN);
    expect(silent.message).toBe("no image received yet on /quiet");
  });
});
