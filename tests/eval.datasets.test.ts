// The eval dataset loaders on tiny datasets written here: a folder (OpenCV 16-bit PNGs and a ROS
// camera_info YAML) and rosbag2 MCAPs with 32FC1 / 16UC1 ground truth.

import { join } from "node:path";
import { rm, writeFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import type { RgbImage } from "../src/frame.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { openDataset, type DatasetOptions, type EvalSample } from "../src/eval/datasets.js";
import { parseCameraInfoYaml } from "../src/eval/cameraInfoYaml.js";
import { stampAt, tempDir, IMAGE_TOPIC, INFO_TOPIC } from "./support/cameraBag.js";
import {
  GT_DEPTH_TOPIC,
  GT_LABELS_TOPIC,
  cameraInfoYaml,
  depth16UC1,
  depth32FC1,
  mono8,
  singleChannelPng,
  writeEvalBag,
  writeFolderDataset,
} from "./evalFixtures.js";

const W = 4;
const H = 3;
const calibration = pinholeCalibration(W, H, 5, 6, 1.5, 1);

function image(seed: number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + seed * 7) % 256;
  return { width: W, height: H, data };
}

const options: DatasetOptions = { depthScale: 1000 };

async function collect(path: string, opts: DatasetOptions = options): Promise<{ samples: EvalSample[]; hasLabels: boolean; describe: unknown }> {
  const dataset = await openDataset(path, opts);
  try {
    const samples: EvalSample[] = [];
    for await (const s of dataset.samples()) samples.push(s);
    return { samples, hasLabels: dataset.hasLabels, describe: dataset.describe };
  } finally {
    await dataset.close();
  }
}

describe("camera_info YAML", () => {
  it("reads the ROS camera_info YAML fields into a calibration", () => {
    const cal = parseCameraInfoYaml(cameraInfoYaml(calibration), "ci.yaml");
    expect(cal).toMatchObject({ width: W, height: H, distortionModel: "plumb_bob", k: calibration.k, d: calibration.d, r: calibration.r, p: calibration.p });
  });

  it("defaults R to identity and P to [K | 0]; rejects a short camera_matrix", () => {
    const cal = parseCameraInfoYaml("image_width: 4\nimage_height: 3\ncamera_matrix: { rows: 3, cols: 3, data: [5, 0, 1.5, 0, 6, 1, 0, 0, 1] }\n", "x");
    expect(cal.r).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(cal.p).toEqual([5, 0, 1.5, 0, 0, 6, 1, 0, 0, 0, 1, 0]);
    expect(cal.d).toEqual([]);
    expect(() => parseCameraInfoYaml("image_width: 4\nimage_height: 3\ncamera_matrix: { data: [1, 2] }\n", "x.yaml")).toThrow(
      /x.yaml: camera_matrix.data has 2 values, expected 9/,
    );
    expect(() => parseCameraInfoYaml("image_height: 3\n", "x.yaml")).toThrow(/image_width must be/);
  });
});

describe("folder dataset", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir("depthseg-eval-");
  });

  it("reads rgb, 16-bit depth / scale, labels and camera_info.yaml in natural stem order", async () => {
    const root = join(dir, "ok");
    // 0 mm = no measurement (NaN); 65535 is the largest value a 16-bit PNG holds.
    const mm = Uint16Array.from([0, 1000, 1500, 2500, 65535, 1, 2, 3, 4, 5, 6, 7]);
    const labels = Uint8Array.from([0, 1, 2, 255, 0, 1, 2, 3, 4, 5, 6, 7]);
    await writeFolderDataset(
      root,
      [
        { stem: "frame10", rgb: image(10), depth: mm, labels },
        { stem: "frame2", rgb: image(2), rgbExt: "jpg", depth: mm, labels },
      ],
      calibration,
    );
    const { samples, hasLabels, describe } = await collect(root);
    expect(hasLabels).toBe(true);
    expect(describe).toMatchObject({ frames: 2, depthScale: 1000, labels: true });
    expect(samples.map((s) => s.stem)).toEqual(["frame2", "frame10"]);
    const s = samples[1]!;
    expect(s.frame.image.width).toBe(W);
    expect([...s.frame.image.data]).toEqual([...image(10).data]); // PNG is lossless, RGB order kept
    expect(s.frame.intrinsics).toEqual({ width: W, height: H, fx: 5, fy: 6, cx: 1.5, cy: 1 });
    expect(Number.isNaN(s.gtDepth![0]!)).toBe(true);
    expect(s.gtDepth![1]).toBe(1);
    expect(s.gtDepth![2]).toBe(1.5);
    expect(s.gtDepth![4]).toBeCloseTo(65.535, 5);
    expect([...s.gtLabels!]).toEqual([...labels]);
  });

  it("divides by --depth-scale (e.g. 5000 for TUM)", async () => {
    const root = join(dir, "tum");
    await writeFolderDataset(root, [{ stem: "a", rgb: image(1), depth: new Uint16Array(W * H).fill(5000) }], calibration);
    const { samples, hasLabels } = await collect(root, { depthScale: 5000 });
    expect(hasLabels).toBe(false);
    expect(samples[0]!.gtLabels).toBeUndefined();
    expect([...samples[0]!.gtDepth!]).toEqual(new Array(W * H).fill(1));
  });

  it("names the missing folder, the stem without depth, and a size mismatch", async () => {
    await expect(openDataset(join(dir, "nope"), options)).rejects.toThrow(/--data .*nope: no such file or folder/);
    const empty = join(dir, "empty");
    await writeFolderDataset(empty, [], calibration);
    await rm(join(empty, "depth"), { recursive: true });
    await expect(openDataset(empty, { ...options, layout: "folder" })).rejects.toThrow(/no depth\/ \(expected rgb\/<stem>/);
    // Not detected as any layout: the error lists them.
    await expect(openDataset(empty, options)).rejects.toThrow(/empty: not a dataset layout eval knows \(it holds camera_info.yaml, rgb\); layouts: tum \(rgb.txt \+ depth.txt\), folder .*or pass --layout/);

    const noDepth = join(dir, "nodepth");
    await writeFolderDataset(noDepth, [{ stem: "a", rgb: image(1), depth: new Uint16Array(W * H) }, { stem: "b", rgb: image(2) }], calibration);
    await expect(openDataset(noDepth, options)).rejects.toThrow(/no depth\/<stem>.png for rgb\/b.png/);

    const mismatch = join(dir, "mismatch");
    await writeFolderDataset(mismatch, [{ stem: "a", rgb: image(1), depth: new Uint16Array(2 * 2), depthSize: [2, 2] }], calibration);
    await expect(collect(mismatch)).rejects.toThrow(/depth\/a.png: ground-truth depth is 2x2 but the image is 4x3/);

    const eightBit = join(dir, "eightbit");
    await writeFolderDataset(eightBit, [{ stem: "a", rgb: image(1) }], calibration);
    await writeFile(join(eightBit, "depth", "a.png"), singleChannelPng(new Uint8Array(W * H), W, H));
    await expect(collect(eightBit)).rejects.toThrow(/depth PNG is 8-bit; expected 16-bit/);

    const badInfo = join(dir, "badinfo");
    await writeFolderDataset(badInfo, [{ stem: "a", rgb: image(1), depth: new Uint16Array(W * H) }], pinholeCalibration(8, 6, 5, 5, 4, 3));
    await expect(collect(badInfo)).rejects.toThrow(/rgb\/a.png: camera_info_size_mismatch: camera_info is 8x6 but the image is 4x3/);
  });
});

describe("MCAP dataset", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir("depthseg-eval-bag-");
  });

  it("pairs camera, CameraInfo, 32FC1 depth and mono8 labels by stamp; says how many paired and why not", async () => {
    const metres = Float32Array.from({ length: W * H }, (_, i) => 0.5 + i / 4);
    metres[3] = NaN;
    const labels = Uint8Array.from({ length: W * H }, (_, i) => i % 3);
    const frames = [0, 1, 2].map((i) => ({
      stamp: stampAt(i),
      image: image(i),
      calibration,
      depth: depth32FC1(stampAt(i), metres, W, H),
      labels: mono8(stampAt(i), labels, W, H),
    }));
    // Frame 1's depth carries another stamp: that image is skipped and said so.
    frames[1] = { ...frames[1]!, depth: depth32FC1({ sec: 999, nanosec: 0 }, metres, W, H) };
    const path = await writeEvalBag(join(dir, "f32.mcap"), frames);
    const log: string[] = [];
    const { samples, hasLabels, describe } = await collect(path, { ...options, log: (l) => log.push(l) });
    expect(hasLabels).toBe(true);
    expect(describe).toMatchObject({ imageTopic: IMAGE_TOPIC, cameraInfoTopic: INFO_TOPIC, depthTopic: GT_DEPTH_TOPIC, labelsTopic: GT_LABELS_TOPIC });
    expect(samples.map((s) => s.stem)).toEqual(["100.000000000", "100.200000000"]);
    expect([...samples[0]!.frame.image.data]).toEqual([...image(0).data]);
    expect(samples[1]!.frame.stamp).toEqual(stampAt(2));
    expect([...samples[0]!.gtDepth!]).toEqual([...metres]);
    expect([...samples[0]!.gtLabels!]).toEqual([...labels]);
    expect(log.join("\n")).toMatch(
      /paired 2 of 3 camera images with CameraInfo and ground truth within ±5 ms; 1 skipped: 1 without depth within ±5 ms \(e\.g\. the image at 100\.100000000; nearest 100 ms away\)/,
    );
  });

  it("reads 16UC1 depth as millimetres with 0 invalid", async () => {
    const mm = Uint16Array.from({ length: W * H }, (_, i) => i * 250);
    const path = await writeEvalBag(join(dir, "u16.mcap"), [
      { stamp: stampAt(0), image: image(0), calibration, depth: depth16UC1(stampAt(0), mm, W, H) },
    ]);
    const { samples, hasLabels } = await collect(path);
    expect(hasLabels).toBe(false);
    const depth = samples[0]!.gtDepth!;
    expect(Number.isNaN(depth[0]!)).toBe(true);
    expect(depth[1]).toBe(0.25);
    expect(depth[4]).toBe(1);
    expect(depth[11]).toBe(2.75);
  });

  it("explains a bag without a ground-truth depth topic, and an ambiguous one", async () => {
    const none = await writeEvalBag(join(dir, "none.mcap"), [{ stamp: stampAt(0), image: image(0), calibration }]);
    await expect(openDataset(none, options)).rejects.toThrow(/no ground-truth depth topic .*32FC1, 16UC1, mono16.*pass --depth-topic/);

    const depth = depth32FC1(stampAt(0), new Float32Array(W * H).fill(1), W, H);
    const two = await writeEvalBag(join(dir, "two.mcap"), [
      { stamp: stampAt(0), image: image(0), calibration, depth, extra: { "/other/depth": depth } },
    ]);
    await expect(openDataset(two, options)).rejects.toThrow(/several ground-truth depth topics: .*\/gt\/depth\/image \[32FC1\].*\/other\/depth \[32FC1\]/);
    // Naming it resolves the ambiguity.
    const { samples } = await collect(two, { ...options, depthTopic: "/other/depth" });
    expect(samples).toHaveLength(1);
    await expect(openDataset(two, { ...options, depthTopic: "/missing" })).rejects.toThrow(/--depth-topic \/missing is not in the bag/);
  });

  it("rejects ground truth of another size than the image", async () => {
    const path = await writeEvalBag(join(dir, "size.mcap"), [
      { stamp: stampAt(0), image: image(0), calibration, depth: depth32FC1(stampAt(0), new Float32Array(4), 2, 2) },
    ]);
    await expect(collect(path)).rejects.toThrow(/\/gt\/depth\/image @ 100.000000000: ground-truth depth is 2x2 but the image is 4x3/);
  });

  it("fails when no image has its ground truth", async () => {
    const path = await writeEvalBag(join(dir, "unpaired.mcap"), [
      { stamp: stampAt(0), image: image(0), calibration },
      { stamp: stampAt(1), depth: depth32FC1(stampAt(1), new Float32Array(W * H), W, H) },
    ]);
    await expect(collect(path)).rejects.toThrow(/no camera image has a CameraInfo and ground truth within ±5 ms of its stamp \(1 without depth within ±5 ms \(e\.g\. the image at 100\.000000000; nearest 100 ms away\)\).*--gt-slop/);
  });

  it("pairs a RealSense-style recording: aligned depth stamped 7 µs before colour, within --gt-slop", async () => {
    // realsense2_camera stamps /camera/aligned_depth_to_color/image_raw apart from the colour frame.
    const mm = Uint16Array.from({ length: W * H }, (_, i) => 1000 + i);
    const early = (i: number) => {
      const s = stampAt(i);
      return s.nanosec >= 7000 ? { sec: s.sec, nanosec: s.nanosec - 7000 } : { sec: s.sec - 1, nanosec: s.nanosec + 1e9 - 7000 };
    };
    const frames = [0, 1, 2, 3].map((i) => ({ stamp: stampAt(i), image: image(i), calibration, extra: { "/camera/aligned_depth_to_color/image_raw": depth16UC1(early(i), mm, W, H) } }));
    const path = await writeEvalBag(join(dir, "realsense.mcap"), frames);
    const log: string[] = [];
    const { samples } = await collect(path, { ...options, log: (l) => log.push(l) });
    expect(samples.map((s) => s.stem)).toEqual(["100.000000000", "100.100000000", "100.200000000", "100.300000000"]);
    expect(samples[3]!.gtDepth![5]).toBeCloseTo(1.005, 6);
    expect(log).toContain("paired 4 of 4 camera images with CameraInfo and ground truth within ±5 ms");
    // A slop under 7 µs pairs nothing, and says how near the depth came.
    await expect(collect(path, { ...options, gtSlopSec: 0.000005 })).rejects.toThrow(
      /within ±0\.005 ms of its stamp \(4 without depth within ±0\.005 ms \(e\.g\. the image at 100\.000000000; nearest 0\.007 ms away\)\)/,
    );
  });
});
