// /diagnostics (diagnostic_msgs/DiagnosticArray) from the pipeline's counters: one status per
// camera with rates over the last period, drops, errors and latency, plus one for inference.

import type { StatsSnapshot } from "../pipeline/stats.js";
import { DiagnosticLevel, type DiagnosticArray, type DiagnosticStatus, type Header, type KeyValue } from "./types.js";

export interface InferenceInfo {
  readonly nodeName: string;
  readonly model: string;
  readonly provider: string;
  readonly depthKind: string;
}

export interface CameraCounters {
  readonly read: number;
  readonly processed: number;
  readonly dropped: number;
  readonly failed: number;
}

/** A camera that has sent nothing for this long is reported as a warning. */
export const STALE_INPUT_SEC = 5;

/** Keeps the previous counters of each camera so each report has per-period rates. */
export class DiagnosticsReporter {
  readonly #previous = new Map<string, { counters: CameraCounters; atSec: number }>();
  readonly #lastInputSec = new Map<string, number>();

  constructor(readonly info: InferenceInfo) {}

  /**
   * One DiagnosticArray for `cameras` (topic → stats) at `nowSec` (monotonic seconds).
   * The first report of a camera has rates over the time since `startSec`.
   */
  report(header: Header, cameras: ReadonlyMap<string, StatsSnapshot>, nowSec: number, startSec: number): DiagnosticArray {
    const status: DiagnosticStatus[] = [this.#inferenceStatus()];
    for (const [camera, snapshot] of cameras) status.push(this.#cameraStatus(camera, snapshot, nowSec, startSec));
    return { header, status };
  }

  #inferenceStatus(): DiagnosticStatus {
    const { nodeName, model, provider, depthKind } = this.info;
    return {
      level: DiagnosticLevel.OK,
      name: `${nodeName}: inference`,
      message: `${model} on ${provider}`,
      hardware_id: provider,
      values: keyValues({ model, execution_provider: provider, depth_kind: depthKind }),
    };
  }

  #cameraStatus(camera: string, snapshot: StatsSnapshot, nowSec: number, startSec: number): DiagnosticStatus {
    const previous = this.#previous.get(camera) ?? { counters: { read: 0, processed: 0, dropped: 0, failed: 0 }, atSec: startSec };
    const periodSec = Math.max(nowSec - previous.atSec, 1e-3);
    const delta = {
      read: snapshot.read - previous.counters.read,
      processed: snapshot.processed - previous.counters.processed,
      dropped: snapshot.dropped - previous.counters.dropped,
      failed: snapshot.failed - previous.counters.failed,
    };
    this.#previous.set(camera, { counters: snapshot, atSec: nowSec });
    if (delta.read > 0 || !this.#lastInputSec.has(camera)) {
      this.#lastInputSec.set(camera, delta.read > 0 ? nowSec : startSec);
    }
    const silentSec = nowSec - this.#lastInputSec.get(camera)!;
    const outputHz = delta.processed / periodSec;

    let level: number = DiagnosticLevel.OK;
    let message = `${outputHz.toFixed(1)} Hz`;
    if (delta.failed > 0 && delta.processed === 0) {
      level = DiagnosticLevel.ERROR;
      message = `every frame failed in the last ${periodSec.toFixed(1)} s (${describeFailures(snapshot)})`;
    } else if (silentSec >= STALE_INPUT_SEC) {
      level = DiagnosticLevel.WARN;
      message = snapshot.read === 0 ? `no image received yet on ${camera}` : `no image for ${silentSec.toFixed(0)} s`;
    } else if (delta.failed > 0 || delta.dropped > 0) {
      level = DiagnosticLevel.WARN;
      message = `${outputHz.toFixed(1)} Hz, ${delta.dropped} dropped, ${delta.failed} failed in the last ${periodSec.toFixed(1)} s`;
    }
    const total = snapshot.latencyMs.total;
    const inference = snapshot.latencyMs.inference;
    return {
      level,
      name: `${this.info.nodeName}: ${camera}`,
      message,
      hardware_id: camera,
      values: keyValues({
        input_rate_hz: (delta.read / periodSec).toFixed(2),
        output_rate_hz: outputHz.toFixed(2),
        frames_received: snapshot.read,
        frames_processed: snapshot.processed,
        frames_dropped: snapshot.dropped,
        frames_failed: snapshot.failed,
        failures: describeFailures(snapshot),
        latency_total_p50_ms: total ? total.p50.toFixed(1) : "",
        latency_total_p95_ms: total ? total.p95.toFixed(1) : "",
        latency_inference_p50_ms: inference ? inference.p50.toFixed(1) : "",
        execution_provider: this.info.provider,
      }),
    };
  }
}

function describeFailures(snapshot: StatsSnapshot): string {
  const entries = Object.entries(snapshot.failedByReason);
  return entries.length === 0 ? "none" : entries.map(([reason, count]) => `${reason}: ${count}`).join(", ");
}

function keyValues(record: Readonly<Record<string, string | number>>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value: String(value) }));
}
