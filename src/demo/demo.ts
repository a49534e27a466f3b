// `depthseg demo` (npm start): replay of the bundled sample on the default (demo) model, its
// summary, the eval table against the sample's ground truth, and PNG previews to look at.

import { join } from "node:path";
import type { DepthsegParams } from "../config/parameters.js";
import { evaluate, type EvalReport } from "../eval/evaluate.js";
import { replay } from "../replay/replay.js";
import type { ReplaySummary } from "../replay/summary.js";
import { writeReplayPreviews } from "./previews.js";

export interface DemoOptions {
  readonly sampleBag: string;
  readonly outDir: string;
  readonly params: DepthsegParams;
  readonly log: (line: string) => void;
  /** Informational lines (muted by --quiet); `log` when absent. */
  readonly info?: (line: string) => void;
  readonly showProgress: boolean;
}

export interface DemoResult {
  readonly summary: ReplaySummary;
  readonly report: EvalReport;
  readonly outputBag: string;
  readonly previews: readonly string[];
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const outputBag = join(options.outDir, "sample.depthseg.mcap");
  const summary = await replay({
    input: options.sampleBag,
    output: outputBag,
    params: options.params,
    realtime: false,
    log: options.log,
    ...(options.info ? { info: options.info } : {}),
    showProgress: options.showProgress,
  });
  const report = await evaluate({
    data: options.sampleBag,
    params: options.params,
    align: "none",
    range: { min: 1e-3, max: Infinity },
    depthScale: 1000,
    ignoreIndex: 255,
    log: options.log,
  });
  const previews = await writeReplayPreviews(summary, options.params, join(options.outDir, "previews"));
  return { summary, report, outputBag, previews };
}
