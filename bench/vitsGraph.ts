// The bench's ViT-S/14 + DPT graphs: Depth Anything V2 Small's architecture with random weights,
// exported by the project's own exporter (tools/export/export_depth_anything_v2.py
// --random-weights, architecture in tools/export/standins.py) into .bench/ at 518x518 and at
// 518x686 (a 640x480 camera's keep-aspect size). Needs Python with torch and onnx, as the
// exporter's tests (DEPTHSEG_PYTHON overrides /usr/bin/python3); without them the rows are skipped
// with the reason. An export (~20 s, 99 MB) is kept and redone only when the exporter or the
// architecture changed.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../src/paths.js";

export interface VitsGraph {
  /** How the bench names it: "vits 518x518". */
  readonly label: string;
  /** The bundle folder (model.onnx + model.yaml). */
  readonly dir: string;
}

const PYTHON = process.env["DEPTHSEG_PYTHON"] ?? "/usr/bin/python3";
const EXPORT_DIR = join(PACKAGE_ROOT, "tools", "export");
const EXPORTER = join(EXPORT_DIR, "export_depth_anything_v2.py");
/** Exporter arguments per graph; --camera 640x480 gives 518x686 (keep aspect, lower bound 518). */
const SIZES: readonly { readonly label: string; readonly args: readonly string[] }[] = [
  { label: "vits 518x518", args: ["--height", "518", "--width", "518"] },
  { label: "vits 518x686", args: ["--camera", "640x480"] },
];

/** The graphs, exported now if missing or stale; or why there are none. */
export function vitsGraphs(benchDir: string): VitsGraph[] | string {
  if (spawnSync(PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" }).status !== 0) {
    return `${PYTHON} has no torch + onnx (Debian: python3-torch python3-onnx): ViT-S rows skipped`;
  }
  // The files that define the graph: a change to either re-exports.
  const stamp = createHash("sha256")
    .update(readFileSync(EXPORTER))
    .update(readFileSync(join(EXPORT_DIR, "standins.py")))
    .update(readFileSync(join(EXPORT_DIR, "onnx_export.py")))
    .digest("hex");
  const graphs: VitsGraph[] = [];
  for (const size of SIZES) {
    const dir = join(benchDir, size.label.replace(" ", "-"));
    const stampFile = join(dir, "exported-from.sha256");
    const fresh = existsSync(join(dir, "model.onnx")) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp;
    if (!fresh) {
      mkdirSync(dir, { recursive: true });
      console.error(`bench: exporting ${size.label} (ViT-S/14 + DPT, random weights) to ${dir}`);
      const run = spawnSync(PYTHON, [EXPORTER, "--random-weights", ...size.args, "--out", dir], { encoding: "utf8", timeout: 600_000 });
      if (run.status !== 0) throw new Error(`${EXPORTER} --random-weights ${size.args.join(" ")} failed (${run.status}):\n${run.stderr}`);
      writeFileSync(stampFile, stamp);
    }
    graphs.push({ label: size.label, dir });
  }
  return graphs;
}
