// depthseg fit-head on the committed demo model (its encoder output exposed as outputs.features)
// and the synthetic world: the written bundle's graph (one input, the encoder once, logits =
// the fitted head on the original graph's features), the held-out score through eval, and the
// errors for bad input.

import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveParameters } from "../src/config/parameters.js";
import { evaluate } from "../src/eval/evaluate.js";
import { ConfusionMatrix } from "../src/eval/segmentationMetrics.js";
import { FITTED_LOGITS, fitHead, type FitHeadOptions, type FitHeadResult } from "../src/heads/fit/fitHead.js";
import { applyHead } from "../src/heads/fit/softmaxHead.js";
import { loadModelBundle } from "../src/inference/bundle.js";
import { countNodes, decodeModel, graphInputNames } from "../src/onnx/graph.js";
import { DEFAULT_MODEL_DIR, SAMPLE_BAG } from "../src/paths.js";
import { generateScene, renderFrame, syntheticCalibration } from "../src/synthetic/index.js";
import { FolderDatasetWriter } from "../src/synthetic/folder.js";
import { encodePngGrey } from "../src/synthetic/png.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { readOutputBag, tempDir, typed } from "./support/cameraBag.js";
import { cli } from "./support/runCli.js";

const calibration = syntheticCalibration(320, 240);

async function writeScenes(dir: string, seeds: readonly number[], framesPerScene: number): Promise<string> {
  const writer = await FolderDatasetWriter.create(dir, { calibration });
  for (const seed of seeds) {
    const scene = generateScene(seed);
    for (let f = 0; f < framesPerScene; f++) {
      await writer.addFrame(`s${seed}_f${f}`, renderFrame(scene, f, { calibration, framesPerLoop: framesPerScene }));
    }
  }
  return dir;
}

const quiet = { log: () => {} };

describe("depthseg fit-head on the demo model's encoder features", () => {
  let root: string;
  let train: string;
  let heldOut: string;
  let fitted: FitHeadResult;
  const base = (): Omit<FitHeadOptions, "out"> => ({
    model: DEFAULT_MODEL_DIR,
    data: train,
    head: "linear",
    seed: 1,
    ignoreIndex: 255,
    providers: ["cpu"],
    ...quiet,
  });

  beforeAll(async () => {
    root = await tempDir();
    // 16 labelled frames, one per scene (scene seeds apart from the demo model's training, 1000+).
    train = await writeScenes(join(root, "train"), Array.from({ length: 16 }, (_, i) => 5000 + i), 1);
    // The demo model test's held-out scenes.
    heldOut = await writeScenes(join(root, "held-out"), [1, 2, 3], 4);
    fitted = await fitHead({ ...base(), out: join(root, "fitted"), val: heldOut });
  });

  it("writes a bundle whose graph has one input and runs the encoder once, the old segmentation decoder gone", async () => {
    const original = decodeModel(await readFile(join(DEFAULT_MODEL_DIR, "model.onnx")));
    const written = decodeModel(await readFile(join(fitted.bundleDir, "model.onnx")));
    expect(graphInputNames(written)).toEqual(["image"]);
    const encoder = (n: { name: string }) => n.name.startsWith("/enc");
    expect(countNodes(original, encoder)).toBe(16); // 4 blocks × (Conv, ReLU, Conv, ReLU)
    expect(countNodes(written, encoder)).toBe(16);
    expect(countNodes(written, (n) => n.name.startsWith("/s"))).toBe(0);
    expect(countNodes(written, (n) => n.opType === "Conv" && n.name.startsWith(`${FITTED_LOGITS}_head`))).toBe(1);
    const bundle = await loadModelBundle(fitted.bundleDir);
    expect(bundle.outputs.segmentation?.name).toBe(FITTED_LOGITS);
    expect(bundle.outputs.segmentation?.labels).toEqual((await loadModelBundle(DEFAULT_MODEL_DIR)).outputs.segmentation?.labels);
    const record = JSON.parse(await readFile(join(fitted.bundleDir, "fit.json"), "utf8")) as Record<string, unknown>;
    expect(record).toMatchObject({ command: "depthseg fit-head", head: "linear", seed: 1, data: train });
    expect((record["frames"] as string[]).length).toBe(16);
    expect(record["valMIoU"]).toBeCloseTo(fitted.metrics.mIoU, 10);
  });

  it("its logits are the fitted head applied to the original graph's features, bilinearly resized to depth (1e-4); depth is unchanged", async () => {
    const original = await InferenceSession.create(join(DEFAULT_MODEL_DIR, "model.onnx"));
    const written = await InferenceSession.create(join(fitted.bundleDir, "model.onnx"));
    const [h, w] = [120, 160];
    const pixels = Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const feed = { image: new Tensor("float32", pixels, [1, 3, h, w]) };
    const a = await original.run(feed, ["depth", "features"]);
    const b = await written.run(feed, ["depth", FITTED_LOGITS]);
    expect(b["depth"]!.data).toEqual(a["depth"]!.data);
    const [, C, fh, fw] = a["features"]!.dims as number[];
    const features = a["features"]!.data as Float32Array;
    const cells = fh! * fw!;
    const rows = Float32Array.from({ length: cells * C! }, (_, i) => features[(i % C!) * cells + Math.floor(i / C!)]!);
    const small = applyHead(fitted.head.layers, rows, cells); // cells × K
    const K = fitted.head.layers[0]!.outChannels;
    const logits = b[FITTED_LOGITS]!;
    const [, k, H, W] = logits.dims as number[];
    expect([k, H, W]).toEqual([K, ...a["depth"]!.dims.slice(2)]);
    // ONNX Resize linear, half_pixel: source coordinate (x + 0.5) / scale − 0.5, clamped to the edges.
    const source = (x: number, out: number, size: number) => Math.min(size - 1, Math.max(0, ((x + 0.5) * size) / out - 0.5));
    let worst = 0;
    const got = logits.data as Float32Array;
    for (let c = 0; c < K; c++) {
      for (let y = 0; y < H!; y++) {
        const sy = source(y, H!, fh!);
        const y0 = Math.floor(sy);
        const y1 = Math.min(fh! - 1, y0 + 1);
        for (let x = 0; x < W!; x++) {
          const sx = source(x, W!, fw!);
          const x0 = Math.floor(sx);
          const x1 = Math.min(fw! - 1, x0 + 1);
          const at = (yy: number, xx: number) => small[(yy * fw! + xx) * K + c]!;
          const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * (sx - x0);
          const bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * (sx - x0);
          const want = top + (bottom - top) * (sy - y0);
          worst = Math.max(worst, Math.abs(got[(c * H! + y) * W! + x]! - want));
        }
      }
    }
    expect(worst).toBeLessThan(1e-4);
    await original.release();
    await written.release();
  });

  it("16 labelled frames give mIoU >= 0.5 on held-out scenes through depthseg eval of the written bundle", async () => {
    const report = await evaluate({
      data: heldOut,
      params: resolveParameters({ model: fitted.bundleDir, execution_providers: ["cpu"] }),
      align: "none",
      range: { min: 1e-3, max: Infinity },
      ignoreIndex: 255,
      ...quiet,
    });
    expect(report.frames).toHaveLength(12);
    expect(report.segmentation!.mIoU).toBeGreaterThanOrEqual(0.5);
    // The fit's own validation (feature grid) agrees with the full-resolution eval within a few points.
    expect(Math.abs(report.segmentation!.mIoU - fitted.metrics.mIoU)).toBeLessThan(0.05);
    expect(fitted.metrics.classes.filter((c) => c.gtPixels > 0)).toHaveLength(6);
  });

  it("works unchanged in replay: the published labels agree with the sample bag's ground truth", async () => {
    const out = join(root, "replayed.mcap");
    const { code, stderr } = await cli("replay", SAMPLE_BAG, "--model", fitted.bundleDir, "--out", out, "--quiet");
    expect(code, stderr).toBe(0);
    const truth = typed(await readOutputBag(SAMPLE_BAG), "/camera/labels/ground_truth", "sensor_msgs/msg/Image");
    const published = typed(await readOutputBag(out), "/depthseg/segmentation/labels", "sensor_msgs/msg/Image");
    expect(published).toHaveLength(truth.length);
    expect(published.length).toBeGreaterThan(0);
    const confusion = new ConfusionMatrix(fitted.metrics.classes);
    published.forEach((labels, i) => {
      const gt = truth[i]!;
      expect([labels.width, labels.height, labels.encoding]).toEqual([gt.width, gt.height, "mono8"]);
      confusion.accumulate(gt.data, labels.data);
    });
    const { mIoU } = confusion.metrics();
    // A constant "wall" answer would score pixel accuracy ~0.6 but mIoU ~0.1.
    expect(mIoU).toBeGreaterThan(0.4);
  });

  it("from the command line: prints the per-class table and mIoU, and the MLP head fits too", async () => {
    const out = join(root, "cli-mlp");
    const { code, stdout, stderr } = await cli("fit-head", "--model", DEFAULT_MODEL_DIR, "--data", train, "--out", out, "--head", "mlp", "--hidden", "16", "--frames", "8");
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/mlp head on features \(192 channels, stride 16\) from 7 frame\(s\)/); // 8 frames, the 5th held out
    expect(stdout).toMatch(/validation: held-out frames of .*, 1 frame\(s\)/);
    expect(stdout).toMatch(/^3 furniture +\d\.\d{4}/m);
    expect(stdout).toMatch(/^mIoU \d\.\d{4} {3}pixel accuracy \d\.\d{4}$/m);
    const written = decodeModel(await readFile(join(out, "model.onnx")));
    expect(countNodes(written, (n) => n.opType === "Relu" && n.name.startsWith(`${FITTED_LOGITS}_head`))).toBe(1);
  });

  describe("bad input", () => {
    it("a bundle without outputs.features: the error says how to expose one", async () => {
      const bundle = await writeAnalyticBundle(join(root, "analytic"));
      await expect(fitHead({ ...base(), model: bundle, out: join(root, "x1") })).rejects.toThrow(
        /has no outputs\.features: .*`depthseg expose-features .* --tensor <graph tensor name> --stride/,
      );
      const { code, stderr } = await cli("fit-head", "--model", bundle, "--data", train, "--out", join(root, "x1"));
      expect(code).toBe(1);
      expect(stderr).toContain("outputs.features");
    });

    it("label ids that are not in --labels", async () => {
      const labels = join(root, "five.yaml");
      const all = await readFile(join(DEFAULT_MODEL_DIR, "labels.yaml"), "utf8");
      await writeFile(labels, all.split("\n").filter((l) => !l.includes("cylinder")).join("\n"));
      await expect(fitHead({ ...base(), labels, out: join(root, "x2") })).rejects.toThrow(
        /s5000_f0 has label ids 5 \(\d+ px\) that are not classes in .*five\.yaml nor the ignore index 255/,
      );
    });

    it("a label image of another size than its image", async () => {
      const data = join(root, "wrong-size");
      await cp(train, data, { recursive: true });
      await writeFile(join(data, "labels", "s5003_f0.png"), encodePngGrey(new Uint8Array(160 * 120), 160, 120));
      await expect(fitHead({ ...base(), data, out: join(root, "x3") })).rejects.toThrow(/s5003_f0.*160x120.*320x240|320x240.*160x120/);
    });

    it("an empty dataset, a dataset without labels, and one whose pixels are all ignored", async () => {
      const empty = join(root, "empty");
      for (const sub of ["rgb", "depth", "labels"]) await mkdir(join(empty, sub), { recursive: true });
      await cp(join(train, "camera_info.yaml"), join(empty, "camera_info.yaml"));
      await expect(fitHead({ ...base(), data: empty, out: join(root, "x4") })).rejects.toThrow(/rgb\/ has no \.png or \.jpg images/);

      const unlabelled = join(root, "unlabelled");
      await cp(train, unlabelled, { recursive: true });
      await rm(join(unlabelled, "labels"), { recursive: true });
      await expect(fitHead({ ...base(), data: unlabelled, out: join(root, "x5") })).rejects.toThrow(/has no label images \(fit-head needs labelled frames\)/);

      const ignored = join(root, "ignored");
      await cp(train, ignored, { recursive: true });
      for (let i = 0; i < 16; i++) {
        await writeFile(join(ignored, "labels", `s${5000 + i}_f0.png`), encodePngGrey(new Uint8Array(320 * 240).fill(255), 320, 240));
      }
      await expect(fitHead({ ...base(), data: ignored, out: join(root, "x6") })).rejects.toThrow(/no labelled pixel of a class/);
    });

    it("--out must be a new folder", async () => {
      await expect(fitHead({ ...base(), out: DEFAULT_MODEL_DIR })).rejects.toThrow(/is the source bundle/);
      await expect(fitHead({ ...base(), out: train })).rejects.toThrow(/is a folder with other files/);
      const { code, stderr } = await cli("fit-head", "--model", DEFAULT_MODEL_DIR, "--data", train);
      expect(code).toBe(2);
      expect(stderr).toContain("fit-head needs --out");
    });
  });
});
