// The eval report as a text table (stdout) and as JSON (--json).

import type { DepthMetrics } from "./depthMetrics.js";
import type { EvalReport, FrameResult } from "./evaluate.js";
import type { SegmentationMetrics } from "./segmentationMetrics.js";

const DEPTH_COLUMNS: readonly { key: keyof DepthMetrics; title: string; digits: number }[] = [
  { key: "absRel", title: "AbsRel", digits: 4 },
  { key: "sqRel", title: "SqRel", digits: 4 },
  { key: "rmse", title: "RMSE", digits: 4 },
  { key: "rmseLog", title: "RMSElog", digits: 4 },
  { key: "silog", title: "SILog", digits: 3 },
  { key: "log10", title: "log10", digits: 4 },
  { key: "delta1", title: "δ1", digits: 4 },
  { key: "delta2", title: "δ2", digits: 4 },
  { key: "delta3", title: "δ3", digits: 4 },
];

export function formatReport(report: EvalReport, verbose: boolean): string {
  const { settings, depth, segmentation } = report;
  const lines: string[] = [];
  const range = settings.maxDepth !== null ? `[${settings.minDepth}, ${settings.maxDepth}] m` : `[${settings.minDepth}, ∞) m`;
  lines.push(
    `depthseg eval: ${settings.model} (${settings.depthKind} depth, ${settings.provider}) on ${settings.data} ` +
      `(${settings.dataKind}, ${report.frames.length} frame${report.frames.length === 1 ? "" : "s"})`,
  );
  if (settings.depthHeads) {
    const heads = Object.entries(settings.depthHeads);
    lines.push(`model domain: routed per frame; depth head ${heads.length > 0 ? heads.map(([head, n]) => `${head} ${n}`).join(", ") : "none"}`);
  }
  if (depth) {
    const protocol =
      settings.protocol === "zoedepth"
        ? `protocol zoedepth (ZoeDepth compute_metrics: min < gt < max, predictions clamped into the range, crop ${settings.crop})`
        : "protocol standard (min <= gt <= max, invalid predictions not scored)";
    lines.push(
      `depth: ${protocol}, align ${settings.align}, range ${range}` +
        (settings.depthScale !== null ? `, depth scale ${settings.depthScale}` : "") +
        `; mean = mean of per-frame metrics (${depth.meanFrames} frames), pooled = all scored pixels together`,
    );
    const withSeg = verbose && report.frames.some((f) => f.segmentation);
    const withHead = verbose && report.frames.some((f) => f.depthHead);
    const header = [
      "frame",
      ...(withHead ? ["head"] : []),
      ...DEPTH_COLUMNS.map((c) => c.title),
      "scored",
      "no-pred",
      ...(withSeg ? ["pixAcc", "mIoU"] : []),
    ];
    const pad = withHead ? [""] : [];
    const rows: string[][] = [];
    if (verbose) for (const frame of report.frames) rows.push(frameRow(frame, withSeg, withHead));
    rows.push(["mean", ...pad, ...depthCells(depth.mean), String(depth.pixels.evaluated), String(depth.pixels.predInvalid), ...(withSeg ? ["", ""] : [])]);
    rows.push(["pooled", ...pad, ...depthCells(depth.pooled), "", "", ...(withSeg ? ["", ""] : [])]);
    lines.push("", ...table(header, rows));
    const px = depth.pixels;
    lines.push(
      `pixels: ${px.total} total, ${px.evaluated} scored, ${px.gtInvalid} without ground truth, ` +
        `${px.outOfRange} outside the range, ${px.outsideCrop > 0 ? `${px.outsideCrop} outside the crop, ` : ""}` +
        `${px.predInvalid} without a valid prediction`,
    );
  } else {
    lines.push("depth: the dataset has no ground-truth depth (segmentation only)");
  }
  if (report.segmentationSkipped) lines.push("", `segmentation not scored: ${report.segmentationSkipped}`);

  if (segmentation) {
    lines.push(
      "",
      `segmentation: confusion matrix over all frames, ${segmentation.pixels} pixels` +
        (settings.classMap ? `, dataset ids mapped by ${settings.classMap}` : "") +
        (segmentation.ignoreIndex !== null ? `, ignore index ${segmentation.ignoreIndex} (${segmentation.ignored} pixels)` : ""),
    );
    lines.push("", ...segmentationTable(segmentation));
  }
  return lines.join("\n");
}

/** Per-class IoU rows, then the mIoU / pixel accuracy line (eval's, also fit-head's). */
export function segmentationTable(segmentation: SegmentationMetrics): string[] {
  const classRows = segmentation.classes.map((c) => [
    `${c.id}${c.name !== undefined ? ` ${c.name}` : ""}`,
    fixed(c.iou, 4),
    String(c.gtPixels),
    String(c.tp),
    String(c.fp),
    String(c.fn),
  ]);
  return [
    ...table(["class", "IoU", "gt pixels", "TP", "FP", "FN"], classRows),
    `mIoU ${fixed(segmentation.mIoU, 4)}   pixel accuracy ${fixed(segmentation.pixelAccuracy, 4)}`,
  ];
}

/** Everything in the report; NaN and Infinity are written as null. */
export function reportJson(report: EvalReport): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? null : value), 2)}\n`;
}

function frameRow(frame: FrameResult, withSeg: boolean, withHead: boolean): string[] {
  return [
    frame.stem,
    ...(withHead ? [frame.depthHead ?? ""] : []),
    ...depthCells(frame.depth),
    String(frame.pixels.evaluated),
    String(frame.pixels.predInvalid),
    ...(withSeg ? [fixed(frame.segmentation?.pixelAccuracy ?? NaN, 4), fixed(frame.segmentation?.mIoU ?? NaN, 4)] : []),
  ];
}

function depthCells(m: DepthMetrics): string[] {
  return DEPTH_COLUMNS.map((c) => fixed(m[c.key], c.digits));
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** First column left-aligned, the others right-aligned. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}
