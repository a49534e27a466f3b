// Counters and latency percentiles for the summary, `status` and diagnostics.

import { STAGES, type StageName, type StageTimings } from "../frame.js";
import type { FrameFailureReason } from "../errors.js";

export type LatencyName = StageName | "total";

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly mean: number;
}

export interface StatsSnapshot {
  readonly read: number;
  readonly processed: number;
  readonly dropped: number;
  readonly failed: number;
  readonly failedByReason: Readonly<Partial<Record<FrameFailureReason, number>>>;
  /** CameraInfo messages refused (undecodable, invalid stamp); not frames, so not in `failed`. */
  readonly cameraInfoRejected: number;
  readonly latencyMs: Readonly<Partial<Record<LatencyName, LatencySummary>>>;
}

/** Latency samples are kept in a ring so a long-running node has bounded memory. */
export class PipelineStats {
  read = 0;
  processed = 0;
  dropped = 0;
  cameraInfoRejected = 0;
  readonly failedByReason = new Map<FrameFailureReason, number>();
  readonly #samples = new Map<LatencyName, Float64Array>();
  readonly #counts = new Map<LatencyName, number>();

  constructor(readonly window = 4096) {}

  get failed(): number {
    let total = 0;
    for (const count of this.failedByReason.values()) total += count;
    return total;
  }

  recordFailure(reason: FrameFailureReason): void {
    this.failedByReason.set(reason, (this.failedByReason.get(reason) ?? 0) + 1);
  }

  recordTimings(timings: StageTimings, totalMs: number): void {
    for (const stage of STAGES) {
      const ms = timings[stage];
      if (ms !== undefined) this.#addSample(stage, ms);
    }
    this.#addSample("total", totalMs);
  }

  latency(name: LatencyName): LatencySummary | undefined {
    const count = this.#counts.get(name) ?? 0;
    if (count === 0) return undefined;
    const ring = this.#samples.get(name)!;
    const values = ring.slice(0, Math.min(count, this.window)).sort();
    let sum = 0;
    for (const v of values) sum += v;
    return { count, p50: percentile(values, 0.5), p95: percentile(values, 0.95), mean: sum / values.length };
  }

  snapshot(): StatsSnapshot {
    const latencyMs: Partial<Record<LatencyName, LatencySummary>> = {};
    for (const name of [...STAGES, "total" as const]) {
      const summary = this.latency(name);
      if (summary) latencyMs[name] = summary;
    }
    return {
      read: this.read,
      processed: this.processed,
      dropped: this.dropped,
      failed: this.failed,
      failedByReason: Object.fromEntries(this.failedByReason),
      cameraInfoRejected: this.cameraInfoRejected,
      latencyMs,
    };
  }

  #addSample(name: LatencyName, ms: number): void {
    let ring = this.#samples.get(name);
    if (!ring) {
      ring = new Float64Array(this.window);
      this.#samples.set(name, ring);
    }
    const count = this.#counts.get(name) ?? 0;
    ring[count % this.window] = ms;
    this.#counts.set(name, count + 1);
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}
