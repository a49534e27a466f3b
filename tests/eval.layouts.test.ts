// `depthseg eval` on data shaped like the real datasets (written here, never shipped): a TUM RGB-D
// sequence, NYU Depth v2 test pairs, SUN RGB-D sample folders, Cityscapes, Mapillary's palette
// labels, a RealSense-style bag; with the analytic model (depth = 0.5 + 10·R/255 m, label =
// argmax(R, G, B)), so every expected number is exact.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import { openDataset, type EvalSample } from "../src/eval/datasets.js";
import type { EvalReport } from "../src/eval/evaluate.js";
import { decodeSingleChannelPng, labelsFromPng } from "../src/eval/groundTruth.js";
import { associateTimestamps } from "../src/eval/tumDataset.js";
import type { RgbImage } from "../src/frame.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { encodeJpeg, encodePng } from "../src/imaging/decode.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { stampAt, tempDir } from "./support/cameraBag.js";
import { palettePng } from "./support/palettePng.js";
import { depth16UC1, singleChannelPng, writeEvalBag, writeFolderDataset } from "./evalFixtures.js";

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, 3 * i);
  return { width, height, data };
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: "", stderr: "" };
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out.stdout += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((out.stderr += String(chunk)), true));
  try {
    return { code: await main(["eval", ...args]), ...out };
  } finally {
    vi.restoreAllMocks();
  }
}

async function readReport(path: string): Promise<EvalReport> {
  return JSON.parse(await readFile(path, "utf8")) as EvalReport;
}

async function collect(path: string, layout?: Parameters<typeof openDataset>[1]["layout"]): Promise<{ samples: EvalSample[]; kind: string; log: string[] }> {
  const log: string[] = [];
  const dataset = await openDataset(path, { ...(layout ? { layout } : {}), log: (l) => log.push(l) });
  const samples: EvalSample[] = [];
  for await (const s of dataset.samples()) samples.push(s);
  await dataset.close();
  return { samples, kind: dataset.kind, log };
}

let dir: string;
let bundle: string;
let params: string;
/** R 102 → analytic depth 4.5 m; argmax → class 0 (red). */
const RED_102: [number, number, number] = [102, 0, 0];

beforeAll(async () => {
  dir = await tempDir("depthseg-eval-layouts-");
  bundle = await writeAnalyticBundle(join(dir, "analytic"), { size: [12, 16] });
  params = join(dir, "params.yaml");
  await writeFile(params, "depthseg:\n  ros__parameters:\n    execution_providers: [cpu]\n");
});
afterEach(() => vi.restoreAllMocks());

describe("TUM RGB-D", () => {
  it("associates as associate.py: closest pairs first, each once, strictly under 0.02 s", () => {
    // 1.000 pairs with 1.005 (0.005) before 1.010 can; 1.030 then takes 1.040 (0.010, not 1.005: used);
    // 2.000 has nothing under 0.02 s (1.980 is exactly 0.02 away).
    expect(associateTimestamps([1.0, 1.03, 2.0], [1.005, 1.04, 1.98])).toEqual([
      [1.0, 1.005],
      [1.03, 1.04],
    ]);
  });

  it("reads rgb.txt/depth.txt, 5000 per metre and the fr1 intrinsics; the mm default would warn", async () => {
    const root = join(dir, "rgbd_dataset_freiburg1_xyz");
    await mkdir(join(root, "rgb"), { recursive: true });
    await mkdir(join(root, "depth"), { recursive: true });
    const rgbStamps = ["1305031102.175304", "1305031102.211214", "1305031102.243211"];
    const depthStamps = ["1305031102.160407", "1305031102.226738", "1305031102.300000"];
    const header = (what: string) => `# ${what}\n# file: 'rgbd_dataset_freiburg1_xyz.bag'\n# timestamp filename\n`;
    await writeFile(join(root, "rgb.txt"), header("color images") + rgbStamps.map((t) => `${t} rgb/${t}.png`).join("\n") + "\n");
    await writeFile(join(root, "depth.txt"), header("depth maps") + depthStamps.map((t) => `${t} depth/${t}.png`).join("\n") + "\n");
    const image = encodePng(solid(640, 480, RED_102));
    const depth = singleChannelPng(new Uint16Array(640 * 480).fill(4.5 * 5000), 640, 480);
    for (const t of rgbStamps) await writeFile(join(root, "rgb", `${t}.png`), image);
    for (const t of depthStamps) await writeFile(join(root, "depth", `${t}.png`), depth);

    const { samples, kind, log } = await collect(root);
    expect(kind).toBe("tum");
    // .175304 ↔ .160407 (0.0149 s), .211214 ↔ .226738 (0.0155 s); .243211's nearest free depth is .300000 (0.057 s).
    expect(samples.map((s) => s.stem)).toEqual(["1305031102.175304", "1305031102.211214"]);
    expect(samples[0]!.gtDepth![0]).toBe(4.5);
    expect(samples[0]!.frame.calibration.k).toEqual([517.3, 0, 318.6, 0, 516.5, 255.3, 0, 0, 1]);
    expect(log.join("\n")).toMatch(/associated 2 of 3 colour frames with depth within 0.02 s \(1 without depth that close\); intrinsics fr1 \(from the folder name\)/);

    const json = join(dir, "tum.json");
    let result = await run(["--model", bundle, "--data", root, "--params", params, "--json", json]);
    expect(result.code, result.stderr).toBe(0);
    const report = await readReport(json);
    expect(report.settings).toMatchObject({ dataKind: "tum", depthScale: 5000, protocol: "standard" });
    expect(report.depth!.mean.absRel).toBeLessThan(1e-6);
    expect(report.warnings.join("\n")).not.toMatch(/median/);

    // Read as millimetres, the ground truth is 5× too deep: 22.5 m against the model's 4.5 m.
    result = await run(["--model", bundle, "--data", root, "--params", params, "--depth-scale", "1000"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /the ground truth's median depth is 22\.50 m, 5\.0× the metric model's median 4\.50 m; with depth scale 1000 .*TUM RGB-D is 5000.*check --depth-scale/,
    );
  });
});

describe("NYU Depth v2 and SUN RGB-D", () => {
  it("NYU: <scene>/rgb_<id>.jpg + sync_depth_<id>.png in millimetres, NYU intrinsics; protocol zoedepth with the Eigen crop", async () => {
    const scene = join(dir, "nyu", "official_splits", "test", "bathroom");
    await mkdir(scene, { recursive: true });
    await writeFile(join(scene, "rgb_00045.jpg"), encodeJpeg(solid(640, 480, [204, 0, 0]), 100));
    // 8.5 m (the model's, R 204) inside the Eigen crop, 4.25 m in its border rows 0..44; 12 m (> max 10) in row 300.
    const mm = new Uint16Array(640 * 480).fill(8500);
    mm.fill(4250, 0, 45 * 640);
    mm.fill(12000, 300 * 640, 301 * 640);
    await writeFile(join(scene, "sync_depth_00045.png"), singleChannelPng(mm, 640, 480));
    const root = join(dir, "nyu", "official_splits", "test");
    const { samples, kind } = await collect(root);
    expect(kind).toBe("nyu");
    expect(samples.map((s) => s.stem)).toEqual(["bathroom/rgb_00045"]);
    expect(samples[0]!.frame.calibration.k[0]).toBe(518.8579);
    expect(samples[0]!.gtDepth![0]).toBe(4.25);

    const json = join(dir, "nyu.json");
    const args = ["--model", bundle, "--data", root, "--params", params, "--max-depth", "10", "--json", json];
    let result = await run([...args, "--protocol", "zoedepth", "--crop", "eigen"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/protocol zoedepth \(ZoeDepth compute_metrics: min < gt < max, predictions clamped into the range, crop eigen\)/);
    let report = await readReport(json);
    expect(report.settings).toMatchObject({ protocol: "zoedepth", crop: "eigen" });
    // JPEG keeps a solid colour exactly: every pixel of the crop but row 300's 560 is 8.5 m and scored.
    expect(report.depth!.pixels).toMatchObject({ evaluated: 426 * 560 - 560, outOfRange: 640, outsideCrop: 640 * 480 - 426 * 560 - (640 - 560) });
    expect(report.depth!.mean.absRel).toBeLessThan(1e-6);
    // Without the crop, the 4.25 m border counts: AbsRel 1 on 45·640 of the pixels.
    result = await run([...args]);
    expect(result.code, result.stderr).toBe(0);
    report = await readReport(json);
    expect(report.settings.protocol).toBe("standard");
    expect(report.depth!.mean.absRel).toBeCloseTo((45 * 640) / (480 * 640 - 640), 4);
    // zoedepth needs a finite range.
    result = await run(["--model", bundle, "--data", root, "--params", params, "--protocol", "zoedepth"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--protocol zoedepth clamps predictions .*give --max-depth/);
  });

  it("SUN RGB-D: sample folders with image/, bit-rotated depth/ and intrinsics.txt", async () => {
    const sample = join(dir, "SUNRGBD", "kv1", "NYUdata", "NYU0001");
    await mkdir(join(sample, "image"), { recursive: true });
    await mkdir(join(sample, "depth"), { recursive: true });
    const [w, h] = [56, 42];
    await writeFile(join(sample, "image", "NYU0001.jpg"), encodeJpeg(solid(w, h, RED_102), 100));
    // Stored as SUN RGB-D does: millimetres rotated left by 3 bits (its toolbox rotates them back right).
    const metres = Float32Array.from({ length: w * h }, (_, i) => 1 + (i % 7) * 0.5);
    const stored = Uint16Array.from(metres, (m) => {
      const v = Math.round(m * 1000);
      return ((v << 3) | (v >> 13)) & 0xffff;
    });
    stored[5] = 0;
    await writeFile(join(sample, "depth", "NYU0001.png"), singleChannelPng(stored, w, h));
    await writeFile(join(sample, "intrinsics.txt"), "518.857901 0.000000 284.582449\n0.000000 519.469611 208.736166\n0.000000 0.000000 1.000000\n");
    const { samples, kind } = await collect(join(dir, "SUNRGBD"));
    expect(kind).toBe("sunrgbd");
    expect(samples.map((s) => s.stem)).toEqual(["kv1/NYUdata/NYU0001"]);
    const gt = samples[0]!.gtDepth!;
    expect(gt[1]).toBe(1.5);
    expect(gt[6]).toBe(4);
    expect(Number.isNaN(gt[5]!)).toBe(true);
    expect(samples[0]!.frame.intrinsics).toMatchObject({ fx: 518.857901, fy: 519.469611, cx: 284.582449, cy: 208.736166 });
  });
});

describe("segmentation-only datasets", () => {
  it("Cityscapes trainIds: foreign classes are said, not scored; --class-map maps them (255 ignored)", async () => {
    const root = join(dir, "cityscapes");
    const city = "frankfurt";
    await mkdir(join(root, "leftImg8bit", "val", city), { recursive: true });
    await mkdir(join(root, "gtFine", "val", city), { recursive: true });
    const [w, h] = [32, 16];
    // Top half green (model: 1), bottom half red (model: 0).
    const image = solid(w, h, [200, 0, 0]);
    for (let i = 0; i < (w * h) / 2; i++) image.data.set([0, 200, 0], 3 * i);
    // trainIds: 21 vegetation on top... Cityscapes has 0-18: 8 = vegetation, 0 = road; a 255 row.
    const trainIds = new Uint8Array(w * h).fill(0);
    trainIds.fill(8, 0, (w * h) / 2);
    trainIds.fill(255, 0, w);
    const name = `${city}_000000_000294`;
    await writeFile(join(root, "leftImg8bit", "val", city, `${name}_leftImg8bit.png`), encodePng(image));
    await writeFile(join(root, "gtFine", "val", city, `${name}_gtFine_labelTrainIds.png`), singleChannelPng(trainIds, w, h));
    const json = join(dir, "cityscapes.json");
    const args = ["--model", bundle, "--data", root, "--params", params, "--json", json];
    let result = await run(args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/depth: the dataset has no ground-truth depth \(segmentation only\)/);
    expect(result.stdout).toMatch(
      /segmentation not scored: the dataset's classes are not the model's: ground-truth ids 8 \(224 of 480 pixels\) are not among the model's 3 classes \(0, 1, 2\); pass --class-map/,
    );
    expect(result.stdout).not.toMatch(/mIoU/);
    let report = await readReport(json);
    expect(report.settings.dataKind).toBe("cityscapes");
    expect(report.depth).toBeUndefined();
    expect(report.segmentation).toBeUndefined();

    const map = join(dir, "cityscapes-to-analytic.yaml");
    await writeFile(map, "# Cityscapes trainId: model id\n0: 0   # road → red\n8: 1   # vegetation → green\n1: ignore\n");
    result = await run([...args, "--class-map", map]);
    expect(result.code, result.stderr).toBe(0);
    report = await readReport(json);
    expect(report.segmentation).toMatchObject({ mIoU: 1, pixelAccuracy: 1, pixels: 480, ignored: 32, ignoreIndex: 255 });
    expect(report.settings.classMap).toBe(map);
    expect(result.stdout).toMatch(/dataset ids mapped by .*cityscapes-to-analytic.yaml/);

    // An id the map leaves out is ignored, and said so with its pixel count.
    const partial = join(dir, "road-only.yaml");
    await writeFile(partial, "0: 0\n");
    result = await run([...args, "--class-map", partial]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/road-only.yaml does not map dataset ids 8 \(224 px\): ignored/);
    report = await readReport(json);
    expect(report.segmentation).toMatchObject({ pixels: 256, ignored: 256 });
    await writeFile(partial, "0: road\n");
    result = await run([...args, "--class-map", partial]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/road-only.yaml: 0: "road" is neither a model class id .* nor "ignore"/);
  });

  it("CamVid-style images/ + labels/ with 8-bit ids", async () => {
    const root = join(dir, "camvid");
    await mkdir(join(root, "images"), { recursive: true });
    await mkdir(join(root, "labels"), { recursive: true });
    const ids = Uint8Array.from({ length: 12 }, (_, i) => i % 4);
    await writeFile(join(root, "images", "0001TP_008550.png"), encodePng(solid(4, 3, RED_102)));
    await writeFile(join(root, "labels", "0001TP_008550.png"), singleChannelPng(ids, 4, 3));
    const { samples, kind } = await collect(root);
    expect(kind).toBe("images-labels");
    expect(samples[0]!.gtDepth).toBeUndefined();
    expect([...samples[0]!.gtLabels!]).toEqual([...ids]);
  });

  it("Mapillary-style palette labels: the class is the palette index, not the colour OpenCV returns", async () => {
    const root = join(dir, "mapillary", "validation");
    await mkdir(join(root, "images"), { recursive: true });
    await mkdir(join(root, "v2.0", "labels"), { recursive: true });
    const [w, h] = [16, 10];
    const image = solid(w, h, [0, 0, 200]); // model: class 2 (blue)
    for (let i = 0; i < w * 3; i++) image.data.set([200, 0, 0], 3 * i); // rows 0-2: class 0
    const indices = Uint8Array.from({ length: w * h }, (_, i) => (i < w * 3 ? 0 : 2));
    // Palette colours unrelated to the ids (Mapillary's "road" is [128, 64, 128]).
    const png = palettePng(indices, w, h, [[128, 64, 128], [244, 35, 232], [70, 70, 70]]);
    await writeFile(join(root, "images", "0035fkbjWljhaftpVM37-g.jpg"), encodeJpeg(image, 100));
    await writeFile(join(root, "v2.0", "labels", "0035fkbjWljhaftpVM37-g.png"), png);
    // OpenCV expands it to 3 channels of colour; the palette reader returns the indices.
    expect(() => decodeSingleChannelPng(png, "label")).toThrow(/has 3 channels/);
    expect([...labelsFromPng(png, "label").labels]).toEqual([...indices]);
    const fourBit = palettePng(indices, w, h, [[0, 0, 0], [1, 1, 1], [2, 2, 2]], 4);
    expect([...labelsFromPng(fourBit, "label").labels]).toEqual([...indices]);

    const json = join(dir, "mapillary.json");
    const result = await run(["--model", bundle, "--data", root, "--params", params, "--json", json]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/labels from v2.0\/labels\/ \(Mapillary Vistas\)/);
    const report = await readReport(json);
    expect(report.settings.dataKind).toBe("images-labels");
    expect(report.segmentation).toMatchObject({ mIoU: 1, pixels: w * h });
    expect(report.segmentation!.classes.map((c) => [c.id, c.gtPixels])).toEqual([[0, w * 3], [1, 0], [2, w * 7]]);
  });
});

describe("model domain and bags", () => {
  it("a routed model: the report names the depth heads used, per frame and in total", async () => {
    const routed = await writeAnalyticBundle(join(dir, "routed"), { size: [4, 6], routed: true });
    const calibration = pinholeCalibration(6, 4, 5, 5, 2.5, 1.5);
    const mm = new Uint16Array(24).fill(4500);
    const root = await writeFolderDataset(
      join(dir, "routed-data"),
      [
        { stem: "greenish", rgb: solid(6, 4, [102, 90, 10]), depth: mm },
        { stem: "bluish1", rgb: solid(6, 4, [102, 10, 90]), depth: mm },
        { stem: "bluish2", rgb: solid(6, 4, [102, 10, 80]), depth: mm },
      ],
      calibration,
    );
    const json = join(dir, "routed.json");
    const result = await run(["--model", routed, "--data", root, "--params", params, "--json", json, "--verbose"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/model domain: routed per frame; depth head indoor 1, outdoor 2/);
    expect(result.stdout).toMatch(/^greenish +indoor /m);
    const report = await readReport(json);
    expect(report.settings.depthHeads).toEqual({ indoor: 1, outdoor: 2 });
    expect(report.frames.map((f) => f.depthHead)).toEqual(["bluish1", "bluish2", "greenish"].map((s) => (s === "greenish" ? "indoor" : "outdoor")));
  });

  it("a RealSense-style bag (aligned depth 7 µs before colour) evaluates; --gt-slop below that fails and says why", async () => {
    const calibration = pinholeCalibration(6, 4, 5, 5, 2.5, 1.5);
    const mm = new Uint16Array(24).fill(4500);
    const frames = [0, 1, 2].map((i) => {
      const s = stampAt(i);
      const early = s.nanosec >= 7000 ? { sec: s.sec, nanosec: s.nanosec - 7000 } : { sec: s.sec - 1, nanosec: s.nanosec + 1e9 - 7000 };
      return { stamp: s, image: solid(6, 4, RED_102), calibration, extra: { "/camera/aligned_depth_to_color/image_raw": depth16UC1(early, mm, 6, 4) } };
    });
    const path = await writeEvalBag(join(dir, "realsense.mcap"), frames);
    let result = await run(["--model", bundle, "--data", path, "--params", params]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/paired 3 of 3 camera images with CameraInfo and ground truth within ±5 ms/);
    expect(result.stdout).toMatch(/^mean +0\.0000 /m);
    result = await run(["--model", bundle, "--data", path, "--params", params, "--gt-slop", "0.000001"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no camera image has a CameraInfo and ground truth within ±0\.001 ms .*3 without depth .*nearest 0\.007 ms away.*--gt-slop/);
  });
});
