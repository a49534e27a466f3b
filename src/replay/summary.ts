// The end-of-run report: counts and per-stage latency percentiles, as a plain-text table.

import { STAGES } from "../frame.js";
import { percentile, type StatsSnapshot } from "../pipeline/stats.js";
import { formatDamage, type BagDamage, type BagDuplicate } from "../transport/mcap/bagReader.js";

export interface ReplaySummary {
  readonly input: string;
  readonly output: string;
  readonly model: string;
  /** The bundle's `trained_on` and `warning` (model.yaml), when it declares them. */
  readonly trainedOn?: string;
  readonly modelWarning?: string;
  readonly depthKind: string;
  readonly provider: string;
  readonly imageTopic: string;
  readonly cameraInfoTopic: string;
  readonly stats: StatsSnapshot;
  readonly wallSeconds: number;
  /** Parts of the input whose messages could not be read; everything else was. */
  readonly damage: readonly BagDamage[];
  /** Input chunks that repeat an earlier chunk byte for byte: read once. */
  readonly duplicates: readonly BagDuplicate[];
  /** Damaged redundant parts of the input that cost no message. */
  readonly inputNotes: readonly string[];
  /** Set when a signal stopped the run before the end of the input (e.g. "SIGINT"). */
  readonly stoppedBy?: string;
  readonly errors: readonly string[];
  /** Routed models: frames processed per depth head; empty for a model with one depth output. */
  readonly depthHeads: Readonly<Record<string, number>>;
  /** Time per frame spent writing the output MCAP (I/O, not a pipeline stage). */
  readonly bagWriteMs: readonly number[];
  /** Size of the output file, and its chunk compression. */
  readonly outputBytes: number;
  readonly compression: string;
  /** Scale recovery (scale.source other than fixed, relative models). */
  readonly scale?: ScaleSummary;
}

/** How the scale of a relative model was recovered over the run. */
export interface ScaleSummary {
  readonly source: string;
  /** The anchor topic; empty for ground_plane. */
  readonly topic: string;
  /** Frames whose own anchors gave the fit. */
  readonly fitted: number;
  /** Frames that kept the last good estimate (too few inliers or no anchor message). */
  readonly held: number;
  /** Frames before any estimate (depth.scale/depth.shift used). */
  readonly none: number;
  /** Estimates that jumped to a frame's fit (first fit, residual jump). */
  readonly resets: number;
  /** Per-frame scale and shift of the frames with an estimate. */
  readonly scales: readonly number[];
  readonly shifts: readonly number[];
  readonly inliers: readonly number[];
  readonly residuals: readonly number[];
  readonly maxAgeSec: number;
}

/** Accumulates ScaleSummary over the frames of a run. */
export class ScaleSummaryBuilder {
  #fitted = 0;
  #held = 0;
  #none = 0;
  #resets = 0;
  #maxAge = 0;
  readonly #scales: number[] = [];
  readonly #shifts: number[] = [];
  readonly #inliers: number[] = [];
  readonly #residuals: number[] = [];

  constructor(readonly source: string, readonly topic: string) {}

  add(report: { estimated: boolean; held: boolean; reset: boolean; inliers: number; residual: number; ageSec: number }, scale: number, shift: number): void {
    if (!report.estimated) {
      this.#none++;
      return;
    }
    if (report.held) this.#held++;
    else this.#fitted++;
    if (report.reset) this.#resets++;
    this.#maxAge = Math.max(this.#maxAge, report.ageSec);
    this.#scales.push(scale);
    this.#shifts.push(shift);
    this.#inliers.push(report.inliers);
    this.#residuals.push(report.residual);
  }

  build(): ScaleSummary {
    return {
      source: this.source,
      topic: this.topic,
      fitted: this.#fitted,
      held: this.#held,
      none: this.#none,
      resets: this.#resets,
      scales: this.#scales,
      shifts: this.#shifts,
      inliers: this.#inliers,
      residuals: this.#residuals,
      maxAgeSec: this.#maxAge,
    };
  }
}

/** The summary's scale line(s). */
export function formatScaleSummary(scale: ScaleSummary): string[] {
  const on = scale.topic ? ` on ${scale.topic}` : "";
  const counts = `fitted ${scale.fitted}, held ${scale.held}, no estimate ${scale.none}, resets ${scale.resets}`;
  if (scale.scales.length === 0) return [`  scale      ${scale.source}${on}: ${counts} (no anchors gave a fit: depth.scale/depth.shift were used)`];
  const median = (values: readonly number[]) => percentile(Float64Array.from(values).sort(), 0.5);
  const logs = scale.scales.map(Math.log);
  const meanLog = logs.reduce((a, b) => a + b, 0) / logs.length;
  const stdLog = Math.sqrt(logs.reduce((a, b) => a + (b - meanLog) ** 2, 0) / logs.length);
  return [
    `  scale      ${scale.source}${on}: ${counts}`,
    `             scale median ${median(scale.scales).toPrecision(5)} (${Math.min(...scale.scales).toPrecision(5)} … ${Math.max(...scale.scales).toPrecision(5)}, ` +
      `std of log ${(100 * stdLog).toFixed(2)} %), shift median ${median(scale.shifts).toPrecision(4)}; ` +
      `inliers median ${median(scale.inliers).toFixed(0)}, residual median ${(100 * median(scale.residuals)).toFixed(1)} %, oldest estimate used ${scale.maxAgeSec.toFixed(2)} s`,
  ];
}

export function formatSummary(summary: ReplaySummary): string {
  const { stats } = summary;
  const lines = [
    `depthseg replay: ${summary.input} -> ${summary.output}`,
    `  model      ${summary.model} (${summary.depthKind}) on ${summary.provider}`,
    `  trained on ${summary.trainedOn ?? "(not declared in model.yaml)"}`,
    ...(summary.modelWarning !== undefined ? [`  WARNING    ${summary.modelWarning}`] : []),
    `  camera     ${summary.imageTopic} + ${summary.cameraInfoTopic}`,
    `  frames     read ${stats.read}, processed ${stats.processed}, dropped ${stats.dropped}, failed ${stats.failed}` +
      ` in ${summary.wallSeconds.toFixed(1)} s (${(stats.processed / Math.max(summary.wallSeconds, 1e-9)).toFixed(1)} fps)`,
  ];
  const perFrame = stats.processed > 0 ? `, ${megabytes(summary.outputBytes / stats.processed)} per frame` : "";
  lines.push(`  output     ${megabytes(summary.outputBytes)} (${summary.compression}${perFrame})`);
  if (summary.scale) lines.push(...formatScaleSummary(summary.scale));
  const heads = Object.entries(summary.depthHeads);
  if (heads.length > 0) lines.push(`  depth head ${heads.map(([head, count]) => `${head} ${count}`).join(", ")}`);
  const reasons = Object.entries(stats.failedByReason);
  if (reasons.length > 0) {
    lines.push(`  failed by reason: ${reasons.map(([reason, count]) => `${reason} ${count}`).join(", ")}`);
  }
  if (stats.cameraInfoRejected > 0) {
    lines.push(`  camera_info rejected ${stats.cameraInfoRejected} (undecodable or invalid stamp; see the log)`);
  }
  const rows = [...STAGES, "total" as const].flatMap((name) => {
    const latency = stats.latencyMs[name];
    return latency ? [`    ${name.padEnd(12)}${fmt(latency.p50)}${fmt(latency.p95)}`] : [];
  });
  if (summary.bagWriteMs.length > 0) {
    const sorted = Float64Array.from(summary.bagWriteMs).sort();
    rows.push(`    ${"(bag write)".padEnd(12)}${fmt(percentile(sorted, 0.5))}${fmt(percentile(sorted, 0.95))}`);
  }
  if (rows.length > 0) lines.push(`  latency ms  ${"p50".padStart(9)}${"p95".padStart(9)}`, ...rows);
  if (summary.stoppedBy !== undefined) {
    lines.push(`  stopped    by ${summary.stoppedBy}: the rest of the input was not read; the output holds the ${stats.processed} processed frames`);
  }
  for (const damage of summary.damage) lines.push(`  input damage  ${formatDamage(damage)}; skipped, the rest was read`);
  if (summary.duplicates.length > 0) {
    const messages = summary.duplicates.reduce((sum, d) => sum + d.messages, 0);
    const which = summary.duplicates.map((d) => `chunk ${d.chunk} = chunk ${d.sameAs}`).join(", ");
    const count = summary.duplicates.length;
    lines.push(`  input duplicates  ${count} chunk(s) repeat earlier ones byte for byte (${which}); their ${messages} messages were read once`);
  }
  for (const note of summary.inputNotes) lines.push(`  input note  ${note}`);
  return lines.join("\n");
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}

function fmt(ms: number): string {
  return ms.toFixed(2).padStart(9);
}
