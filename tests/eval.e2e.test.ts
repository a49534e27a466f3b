// `depthseg eval` end to end through the CLI, with the analytic model (depth = 0.5 + 10·R/255
// metres, label = argmax(R, G, B)), so every expected metric is exact.

import { join } from "node:path";
import { readFile, writeFile } from "node:fs/promises";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import type { EvalReport } from "../src/eval/evaluate.js";
import type { RgbImage } from "../src/frame.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { analyticDepth, analyticDisparity } from "../tools/onnx/builders.js";
import { stampAt, tempDir } from "./support/cameraBag.js";
import { depth16UC1, depth32FC1, mono8, writeEvalBag, writeFolderDataset } from "./evalFixtures.js";

const W = 5;
const H = 4;
const calibration = pinholeCalibration(W, H, 5, 5, 2, 1.5);
/** Red by column: 0, 51, 102, 153, 204 → analytic depth 0.5, 2.5, 4.5, 6.5, 8.5 m exactly. */
const RED = [0, 51, 102, 153, 204];

/**
 * Green and blue by row, chosen so argmax(R, G, B) has no ties:
 * row 0: G 220 → label 1; row 1: B 230 → label 2; rows 2-3: B 1 → label 2 at R 0, else label 0.
 */
function testImage(): RgbImage {
  const data = new Uint8Array(W * H * 3);
  const gb: [number, number][] = [[220, 0], [0, 230], [0, 1], [0, 1]];
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      const i = (v * W + u) * 3;
      data[i] = RED[u]!;
      data[i + 1] = gb[v]![0];
      data[i + 2] = gb[v]![1];
    }
  }
  return { width: W, height: H, data };
}

const image = testImage();
const redAt = (p: number) => Math.fround(image.data[p * 3]! / 255);
const modelDepth = Float32Array.from({ length: W * H }, (_, p) => analyticDepth(redAt(p)));
const modelLabels = Uint8Array.from({ length: W * H }, (_, p) => {
  const [r, g, b] = [image.data[p * 3]!, image.data[p * 3 + 1]!, image.data[p * 3 + 2]!];
  return r > g && r > b ? 0 : g > b ? 1 : 2;
});

function captureOutput() {
  const out = { stdout: "", stderr: "" };
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out.stdout += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((out.stderr += String(chunk)), true));
  return out;
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = captureOutput();
  try {
    const code = await main(["eval", ...args]);
    return { code, ...out };
  } finally {
    vi.restoreAllMocks();
  }
}

async function readReport(path: string): Promise<EvalReport> {
  return JSON.parse(await readFile(path, "utf8")) as EvalReport;
}

describe("depthseg eval (analytic model)", () => {
  let dir: string;
  let bundle: string;
  let relative: string;
  let params: string;
  let folder: string;
  let folderDouble: string;

  beforeAll(async () => {
    dir = await tempDir("depthseg-eval-e2e-");
    bundle = await writeAnalyticBundle(join(dir, "analytic"), { size: [H, W] });
    relative = await writeAnalyticBundle(join(dir, "relative"), { size: [H, W], relative: true });
    params = join(dir, "params.yaml");
    await writeFile(params, "depthseg:\n  ros__parameters:\n    execution_providers: [cpu]\n");
    // Millimetre ground truth equal to the model's depth (0.5, 2.5, ... are whole millimetres).
    const mm = Uint16Array.from(modelDepth, (z) => Math.round(z * 1000));
    expect(Array.from(mm, (v) => v / 1000)).toEqual([...modelDepth]);
    folder = await writeFolderDataset(
      join(dir, "folder"),
      [0, 1].map((i) => ({ stem: `f${i}`, rgb: image, depth: mm, labels: modelLabels })),
      calibration,
    );
    folderDouble = await writeFolderDataset(
      join(dir, "double"),
      [{ stem: "f0", rgb: image, depth: Uint16Array.from(mm, (v) => 2 * v) }],
      calibration,
    );
  });

  afterEach(() => vi.restoreAllMocks());

  it("ground truth equal to the model's depth and labels: AbsRel 0, δ1 1, mIoU 1; JSON written", async () => {
    const json = join(dir, "out", "perfect.json");
    const { code, stdout, stderr } = await run(["--model", bundle, "--data", folder, "--params", params, "--json", json, "--verbose"]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^f0 +0\.0000 +0\.0000 +0\.0000 +0\.0000 +0\.000 +0\.0000 +1\.0000 +1\.0000 +1\.0000 +20 +0/m);
    expect(stdout).toMatch(/^mean +0\.0000 .* 1\.0000 +40 +0$/m);
    expect(stdout).toMatch(/mIoU 1\.0000 {3}pixel accuracy 1\.0000/);
    const report = await readReport(json);
    expect(report.settings).toMatchObject({ model: "analytic", depthKind: "metric", dataKind: "folder", align: "none", minDepth: 0.001, maxDepth: null, depthScale: 1000, ignoreIndex: 255 });
    expect(report.frames.map((f) => f.stem)).toEqual(["f0", "f1"]);
    expect(report.depth!.mean).toMatchObject({ absRel: 0, sqRel: 0, rmse: 0, rmseLog: 0, silog: 0, delta1: 1, delta2: 1, delta3: 1 });
    expect(report.depth!.pooled.absRel).toBe(0);
    expect(report.depth!.pixels).toEqual({ total: 40, gtInvalid: 0, outOfRange: 0, outsideCrop: 0, predInvalid: 0, evaluated: 40 });
    expect(report.segmentation).toMatchObject({ mIoU: 1, pixelAccuracy: 1, pixels: 40, ignored: 0 });
    expect(report.segmentation!.classes.map((c) => [c.id, c.name, c.iou])).toEqual([[0, "red", 1], [1, "green", 1], [2, "blue", 1]]);
  });

  it("ground truth twice the model's depth: AbsRel 0.5 unaligned, 0 after median scaling", async () => {
    const none = join(dir, "double-none.json");
    let result = await run(["--model", bundle, "--data", folderDouble, "--params", params, "--json", none]);
    expect(result.code, result.stderr).toBe(0);
    let report = await readReport(none);
    // p = g/2 everywhere: |p − g|/g = 0.5; (p − g)²/g = g/4; max(p/g, g/p) = 2 > 1.25³; SILog 0 (constant ratio).
    expect(report.depth!.mean.absRel).toBe(0.5);
    expect(report.depth!.mean.delta3).toBe(0);
    expect(report.depth!.mean.silog).toBeCloseTo(0, 4);
    expect(report.depth!.mean.rmseLog).toBeCloseTo(Math.LN2, 6);
    const meanG = modelDepth.reduce((s, z) => s + 2 * z, 0) / modelDepth.length;
    expect(report.depth!.mean.sqRel).toBeCloseTo(meanG / 4, 6);
    expect(report.segmentation).toBeUndefined(); // no labels/ in this dataset

    const median = join(dir, "double-median.json");
    result = await run(["--model", bundle, "--data", folderDouble, "--params", params, "--align", "median", "--json", median]);
    expect(result.code, result.stderr).toBe(0);
    report = await readReport(median);
    expect(report.frames[0]!.alignment).toMatchObject({ scale: 2, shift: 0, fitPixels: 20 });
    expect(report.depth!.mean).toMatchObject({ absRel: 0, rmse: 0, delta1: 1 });
  });

  it("MCAP: 32FC1 ground truth with invalid pixels, labels with an ignored and a wrong pixel", async () => {
    const gt = modelDepth.slice();
    gt[0] = NaN; // no measurement
    gt[1] = 0; // no measurement
    gt[4] = 20; // outside --max-depth 10
    gt[2] = 2 * gt[2]!; // p = g/2: AbsRel 0.5 on this pixel
    const labels = modelLabels.slice();
    labels[0] = 255; // ignored
    labels[1] = 2; // the model says 1 (row 0 is green)
    const path = await writeEvalBag(join(dir, "gt.mcap"), [
      { stamp: stampAt(0), image, calibration, depth: depth32FC1(stampAt(0), gt, W, H), labels: mono8(stampAt(0), labels, W, H) },
    ]);
    const json = join(dir, "bag.json");
    const { code, stdout, stderr } = await run(["--model", bundle, "--data", path, "--params", params, "--max-depth", "10", "--json", json]);
    expect(code, stderr).toBe(0);
    const report = await readReport(json);
    expect(report.settings).toMatchObject({ dataKind: "mcap", maxDepth: 10, depthScale: null });
    expect(report.settings.dataset).toMatchObject({ depthTopic: "/gt/depth/image", labelsTopic: "/gt/labels/image" });
    expect(report.depth!.pixels).toEqual({ total: 20, gtInvalid: 2, outOfRange: 1, outsideCrop: 0, predInvalid: 0, evaluated: 17 });
    // 16 perfect pixels and one at AbsRel 0.5: 0.5 / 17.
    expect(report.depth!.mean.absRel).toBeCloseTo(0.5 / 17, 12);
    expect(report.depth!.mean.delta1).toBeCloseTo(16 / 17, 12);
    // Predicted labels: row 0 all 1; row 1 all 2; rows 2-3: 2 at column 0, else 0.
    // Ground truth differs at pixel 0 (ignored) and pixel 1 (2, predicted 1). Over 19 counted pixels:
    // class 0: TP 8 → IoU 1; class 1: TP 3, FP 1 → 3/4; class 2: TP 7, FN 1 → 7/8.
    // mIoU = (1 + 0.75 + 0.875) / 3 = 0.875; pixel accuracy 18/19.
    const seg = report.segmentation!;
    expect(seg.classes.map((c) => c.iou)).toEqual([1, 0.75, 0.875]);
    expect(seg.mIoU).toBeCloseTo(0.875, 12);
    expect(seg.pixelAccuracy).toBeCloseTo(18 / 19, 12);
    expect(seg).toMatchObject({ pixels: 19, ignored: 1, ignoreIndex: 255 });
    expect(stdout).toMatch(/^1 green +0\.7500 +3 +3 +1 +0$/m);
    expect(stdout).toMatch(/mIoU 0\.8750 {3}pixel accuracy 0\.9474/);
  });

  it("relative model: scale-shift in disparity space recovers the ground truth; no alignment warns", async () => {
    // The relative analytic model's disparity is x = 2·R/255 + 0.5 and the pipeline publishes 1/x.
    // Ground truth 1/(0.5·x + 0.25), stored as 16UC1 millimetres, is recovered up to the rounding to 1 mm.
    const disparity = Float64Array.from({ length: W * H }, (_, p) => analyticDisparity(redAt(p)));
    const mm = Uint16Array.from(disparity, (x) => Math.round(1000 / (0.5 * x + 0.25)));
    const path = await writeEvalBag(join(dir, "relative.mcap"), [
      { stamp: stampAt(0), image, calibration, depth: depth16UC1(stampAt(0), mm, W, H) },
    ]);
    const json = join(dir, "relative.json");
    let result = await run(["--model", relative, "--data", path, "--params", params, "--align", "scale-shift", "--json", json]);
    expect(result.code, result.stderr).toBe(0);
    const report = await readReport(json);
    expect(report.settings.depthKind).toBe("relative_disparity");
    const { scale, shift } = report.frames[0]!.alignment!;
    expect(scale).toBeCloseTo(0.5, 2);
    expect(shift).toBeCloseTo(0.25, 2);
    expect(report.depth!.mean.absRel).toBeLessThan(1e-3);
    expect(report.depth!.mean.delta1).toBe(1);
    expect(result.stderr).not.toMatch(/not meaningful/);

    result = await run(["--model", relative, "--data", path, "--params", params]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/relative_disparity: metrics without alignment .* not meaningful; use --align scale-shift/);
  });

  it("bad input exits 1 with a clear message; bad flags exit 2", async () => {
    let result = await run(["--model", bundle, "--data", join(dir, "missing"), "--params", params]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/depthseg: --data .*missing: no such file or folder/);

    const noDepth = await writeEvalBag(join(dir, "nodepth.mcap"), [{ stamp: stampAt(0), image, calibration }]);
    result = await run(["--model", bundle, "--data", noDepth, "--params", params]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no ground-truth depth topic/);

    const small = await writeEvalBag(join(dir, "small.mcap"), [
      { stamp: stampAt(0), image, calibration, depth: depth32FC1(stampAt(0), new Float32Array(4), 2, 2) },
    ]);
    result = await run(["--model", bundle, "--data", small, "--params", params]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ground-truth depth is 2x2 but the image is 5x4/);

    result = await run(["--data", folder, "--align", "affine"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--align must be one of none, median, scale-shift/);
    result = await run(["--model", bundle]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/eval needs --data/);
    result = await run(["--data", folder, "--min-depth", "5", "--max-depth", "1"]);
    expect(result.code).toBe(2);
    result = await run(["--data", folder, "--ignore-index", "70000"]);
    expect(result.code).toBe(2);
    result = await run(["--data", folder, "--layout", "kitti"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--layout must be one of mcap, folder, tum, nyu, sunrgbd, images-labels, cityscapes, got "kitti"/);
    result = await run(["--data", folder, "--crop", "eigen"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--crop is part of --protocol zoedepth/);
    result = await run(["--data", folder, "--gt-slop", "-1"]);
    expect(result.code).toBe(2);
    // --layout overrides detection: this folder is not a TUM sequence.
    result = await run(["--model", bundle, "--data", folder, "--params", params, "--layout", "tum"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/folder: no rgb.txt \(TUM RGB-D layout: rgb.txt, depth.txt, rgb\/, depth\/\)/);
  });
});
