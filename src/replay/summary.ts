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
