// End to end: MCAP in → real ONNX inference (analytic model) → MCAP out, checked in metres,
// pinhole coordinates, labels and message fields.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { analyticDepth, analyticDisparity, routedOutdoorDepth } from "../tools/onnx/builders.js";
import { analyticModelYaml, writeAnalyticBundle } from "./support/analyticBundle.js";
import { resolveParameters } from "../src/config/parameters.js";
import { replay } from "../src/replay/replay.js";
import { formatSummary } from "../src/replay/summary.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import type { CameraCalibration, RgbImage } from "../src/frame.js";
import {
  INFO_TOPIC,
  FRAME_ID,
  cameraInfo,
  readOutputBag,
  rgb8,
  stampAt,
  tempDir,
  typed,
  writeCameraBag,
} from "./support/cameraBag.js";

const NS = "/depthseg";
const W = 16;
const H = 12;

/** Red varies per pixel (so depth does); one channel dominates so the label is unambiguous. */
function testImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const i = (v * width + u) * 3;
      const cls = (u + v + seed) % 3;
      const strong = 120 + ((u * 7 + v * 3 + seed) % 120);
      data[i] = cls === 0 ? strong : 20 + ((u + seed) % 40);
      data[i + 1] = cls === 1 ? strong : 10;
      data[i + 2] = cls === 2 ? strong : 5;
    }
  }
  return { width, height, data };
}

/** P deliberately differs from K: back-projection must use P (the rectified image's projection). */
function calibration(width: number, height: number): CameraCalibration {
  const base = pinholeCalibration(width, height, 20, 22, 7.5, 5.5);
  return { ...base, k: [19, 0, 7, 0, 21, 5, 0, 0, 1] };
}

function expectedLabel(image: RgbImage, pixel: number): number {
  const [r, g, b] = [image.data[pixel * 3]!, image.data[pixel * 3 + 1]!, image.data[pixel * 3 + 2]!];
  return r >= g && r >= b ? 0 : g >= b ? 1 : 2;
}

const quiet = { log: () => {}, showProgress: false } as const;

describe("replay end to end (analytic model)", () => {
  let dir: string;
  let bundle: string;
  let relativeBundle: string;
  let halfResBundle: string;

  beforeAll(async () => {
    dir = await tempDir();
    bundle = await writeAnalyticBundle(join(dir, "analytic"), { size: [H, W] });
    relativeBundle = await writeAnalyticBundle(join(dir, "relative"), { size: [H, W], relative: true });
    halfResBundle = await writeAnalyticBundle(join(dir, "half"), { size: [H / 2, W / 2] });
  });

  it("writes metres, points, labels and status that match the model and the pinhole formula", async () => {
    const images = [0, 1, 2].map((seed) => testImage(W, H, seed));
    const frames = images.map((image, index) => ({
      stamp: stampAt(index),
      image: rgb8(stampAt(index), image),
      info: cameraInfo(stampAt(index), calibration(W, H)),
    }));
    const input = await writeCameraBag(join(dir, "in.mcap"), frames);
    const output = join(dir, "out.mcap");
    const summary = await replay({
      input,
      output,
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"] }),
      realtime: false,
      ...quiet,
    });
    expect(summary.stats).toMatchObject({ read: 3, processed: 3, dropped: 0, failed: 0 });
    expect(summary.depthHeads).toEqual({}); // one depth output: no head to count
    expect(summary.imageTopic).toBe("/cam/image_raw");
    expect(summary.cameraInfoTopic).toBe(INFO_TOPIC);

    const out = await readOutputBag(output);
    const depth = typed(out, `${NS}/depth/image`, "sensor_msgs/msg/Image");
    const points = typed(out, `${NS}/points`, "sensor_msgs/msg/PointCloud2");
    const labels = typed(out, `${NS}/segmentation/labels`, "sensor_msgs/msg/Image");
    const labelColors = typed(out, `${NS}/segmentation/colorized`, "sensor_msgs/msg/Image");
    const depthInfo = typed(out, `${NS}/depth/camera_info`, "sensor_msgs/msg/CameraInfo");
    const status = typed(out, `${NS}/status`, "depthseg/msg/PerceptionStatus");
    const labelInfo = typed(out, `${NS}/segmentation/label_info`, "vision_msgs/msg/LabelInfo");
    expect([depth, points, labels, labelColors, depthInfo, status].map((m) => m.length)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(typed(out, `${NS}/depth/colorized`, "sensor_msgs/msg/Image")).toHaveLength(3);

    // LabelInfo once, with the bundle's classes.
    expect(labelInfo).toHaveLength(1);
    expect(labelInfo[0]!.class_map).toEqual([
      { class_id: 0, class_name: "red" },
      { class_id: 1, class_name: "green" },
      { class_id: 2, class_name: "blue" },
    ]);

    const [fx, fy, cx, cy] = [20, 22, 7.5, 5.5]; // from P
    for (const [index, image] of images.entries()) {
      const stamp = stampAt(index);
      for (const message of [depth[index]!, points[index]!, labels[index]!, depthInfo[index]!, status[index]!]) {
        expect(message.header).toEqual({ stamp, frame_id: FRAME_ID });
      }
      const d = depth[index]!;
      expect([d.encoding, d.width, d.height, d.step, d.is_bigendian]).toEqual(["32FC1", W, H, W * 4, 0]);
      const metres = new Float32Array(d.data.slice().buffer);
      const cloud = points[index]!;
      expect([cloud.width, cloud.height, cloud.point_step, cloud.row_step, cloud.is_dense]).toEqual([W, H, 20, W * 20, false]);
      const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
      const label = labels[index]!;
      expect(label.encoding).toBe("mono8");
      for (let v = 0; v < H; v++) {
        for (let u = 0; u < W; u++) {
          const p = v * W + u;
          const z = analyticDepth(Math.fround(image.data[p * 3]! / 255));
          expect(metres[p]).toBe(z);
          const o = p * 20;
          expect(Math.abs(view.getFloat32(o, true) - ((u - cx) * z) / fx)).toBeLessThan(1e-5);
          expect(Math.abs(view.getFloat32(o + 4, true) - ((v - cy) * z) / fy)).toBeLessThan(1e-5);
          expect(Math.abs(view.getFloat32(o + 8, true) - z)).toBeLessThan(1e-5);
          // rgb field: float whose bits are 0x00RRGGBB of the camera pixel.
          const rgbBits = view.getUint32(o + 12, true);
          expect(rgbBits).toBe((image.data[p * 3]! << 16) | (image.data[p * 3 + 1]! << 8) | image.data[p * 3 + 2]!);
          const cls = expectedLabel(image, p);
          expect(view.getUint32(o + 16, true)).toBe(cls);
          expect(label.data[p]).toBe(cls);
          const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255]][cls]!;
          expect(Array.from(labelColors[index]!.data.subarray(p * 3, p * 3 + 3))).toEqual(palette);
        }
      }
      expect(Array.from(depthInfo[index]!.p)).toEqual([20, 0, 7.5, 0, 0, 22, 5.5, 0, 0, 0, 1, 0]);
      expect([depthInfo[index]!.width, depthInfo[index]!.height]).toEqual([W, H]);
      const s = status[index]!;
      expect(s).toMatchObject({
        camera: "/cam/image_raw",
        model: "analytic",
        execution_provider: "cpu",
        depth_kind: "metric",
        depth_is_metric: true,
        depth_head: "",
        depth_scale: 1,
        frames_processed: BigInt(index + 1),
        frames_dropped: 0n,
        frames_failed: 0n,
      });
      expect(s.latency_inference_ms).toBeGreaterThan(0);
      expect(s.latency_total_ms).toBeGreaterThanOrEqual(s.latency_inference_ms);
    }
  });

  it("a binned, cropped camera (image_proc crop_decimate) gives the full camera's points at the same pixels", async () => {
    // A 36x28 sensor; the camera publishes its 32x24 ROI at (2, 4), binned 2x2: 16x12 images.
    const full = { ...pinholeCalibration(36, 28, 40, 44, 17.5, 13.5), k: [38, 0, 17, 0, 42, 13, 0, 0, 1] };
    const binned: CameraCalibration = {
      ...full,
      binningX: 2,
      binningY: 2,
      roi: { xOffset: 2, yOffset: 4, width: 32, height: 24, doRectify: false },
    };
    const image = testImage(W, H, 1);
    const stamp = stampAt(0);
    const input = await writeCameraBag(join(dir, "binned.mcap"), [
      { stamp, image: rgb8(stamp, image), info: cameraInfo(stamp, binned) },
    ]);
    const output = join(dir, "binned.out.mcap");
    const summary = await replay({
      input,
      output,
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"] }),
      realtime: false,
      ...quiet,
    });
    expect(summary.stats).toMatchObject({ read: 1, processed: 1, failed: 0 });
    const out = await readOutputBag(output);
    const cloud = typed(out, `${NS}/points`, "sensor_msgs/msg/PointCloud2")[0]!;
    expect([cloud.width, cloud.height]).toEqual([W, H]);
    const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    // Full-resolution P: fx 40, fy 44, cx 17.5, cy 13.5. Pixel (u, v) of the image is the sensor's
    // pixel (2 + 2u, 4 + 2v) (image_geometry's toFullResolution).
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const p = v * W + u;
        const z = analyticDepth(Math.fround(image.data[p * 3]! / 255));
        const [uFull, vFull] = [2 + 2 * u, 4 + 2 * v];
        const o = p * cloud.point_step;
        expect(Math.abs(view.getFloat32(o, true) - ((uFull - 17.5) * z) / 40)).toBeLessThan(1e-5);
        expect(Math.abs(view.getFloat32(o + 4, true) - ((vFull - 13.5) * z) / 44)).toBeLessThan(1e-5);
        expect(Math.abs(view.getFloat32(o + 8, true) - z)).toBeLessThan(1e-5);
      }
    }
    // depth/camera_info is the input CameraInfo: the depth image is binned and cropped the same way.
    const info = typed(out, `${NS}/depth/camera_info`, "sensor_msgs/msg/CameraInfo")[0]!;
    expect([info.width, info.height, info.binning_x, info.binning_y]).toEqual([36, 28, 2, 2]);
    expect(info.roi).toEqual({ x_offset: 2, y_offset: 4, width: 32, height: 24, do_rectify: false });
    expect(Array.from(info.p)).toEqual(full.p);
  });

  it("resizes half-resolution model output back to the camera resolution", async () => {
    // Four uniform quadrants: the metres inside each are exact after down- and up-sampling.
    const image = new Uint8Array(W * H * 3);
    const quadrantRed = [40, 90, 160, 230];
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const q = (v < H / 2 ? 0 : 2) + (u < W / 2 ? 0 : 1);
        image.set([quadrantRed[q]!, 0, 0], (v * W + u) * 3);
      }
    }
    const stamp = stampAt(0);
    const input = await writeCameraBag(join(dir, "quadrants.mcap"), [
      { stamp, image: rgb8(stamp, { width: W, height: H, data: image }), info: cameraInfo(stamp, calibration(W, H)) },
    ]);
    const output = join(dir, "quadrants.out.mcap");
    await replay({ input, output, params: resolveParameters({ model: halfResBundle, execution_providers: ["cpu"] }), realtime: false, ...quiet });
    const depth = typed(await readOutputBag(output), `${NS}/depth/image`, "sensor_msgs/msg/Image")[0]!;
    expect([depth.width, depth.height]).toEqual([W, H]);
    const metres = new Float32Array(depth.data.slice().buffer);
    for (const [q, red] of quadrantRed.entries()) {
      // A pixel two away from every quadrant edge only ever interpolates within its quadrant.
      const u = q % 2 === 0 ? 2 : W - 3;
      const v = q < 2 ? 2 : H - 3;
      expect(metres[v * W + u]).toBeCloseTo(analyticDepth(Math.fround(red / 255)), 5);
    }
  });

  it("applies the fixed scale/shift to relative disparity and says the depth is not metric", async () => {
    const image = testImage(W, H, 0);
    const stamp = stampAt(0);
    const input = await writeCameraBag(join(dir, "rel.mcap"), [
      { stamp, image: rgb8(stamp, image), info: cameraInfo(stamp, calibration(W, H)) },
    ]);
    const output = join(dir, "rel.out.mcap");
    const params = resolveParameters({ model: relativeBundle, execution_providers: ["cpu"], "depth.scale": 2, "depth.shift": 0.25 });
    await replay({ input, output, params, realtime: false, ...quiet });
    const out = await readOutputBag(output);
    const depth = typed(out, `${NS}/depth/image`, "sensor_msgs/msg/Image")[0]!;
    const metres = new Float32Array(depth.data.slice().buffer);
    for (const p of [0, 17, 95, W * H - 1]) {
      const disparity = analyticDisparity(Math.fround(image.data[p * 3]! / 255));
      expect(metres[p]).toBeCloseTo(1 / (2 * disparity + 0.25), 5);
    }
    expect(typed(out, `${NS}/status`, "depthseg/msg/PerceptionStatus")[0]).toMatchObject({
      depth_kind: "relative_disparity",
      depth_is_metric: false,
      depth_scale: 2,
      depth_shift: 0.25,
    });
  });

  it("applies range limits and decimation to depth and points alike", async () => {
    const image = testImage(W, H, 1);
    const stamp = stampAt(0);
    const input = await writeCameraBag(join(dir, "range.mcap"), [
      { stamp, image: rgb8(stamp, image), info: cameraInfo(stamp, calibration(W, H)) },
    ]);
    const output = join(dir, "range.out.mcap");
    const params = resolveParameters({
      model: bundle,
      execution_providers: ["cpu"],
      "range.min": 3,
      "range.max": 6,
      "pointcloud.decimation": 2,
    });
    await replay({ input, output, params, realtime: false, ...quiet });
    const out = await readOutputBag(output);
    const metres = new Float32Array(typed(out, `${NS}/depth/image`, "sensor_msgs/msg/Image")[0]!.data.slice().buffer);
    const cloud = typed(out, `${NS}/points`, "sensor_msgs/msg/PointCloud2")[0]!;
    expect([cloud.width, cloud.height]).toEqual([W / 2, H / 2]);
    const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    let valid = 0;
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const z = analyticDepth(Math.fround(image.data[(v * W + u) * 3]! / 255));
        const inside = z >= 3 && z <= 6;
        if (inside) expect(metres[v * W + u]).toBe(z);
        else expect(metres[v * W + u]).toBeNaN();
        if (u % 2 === 0 && v % 2 === 0) {
          const zCloud = view.getFloat32(((v / 2) * (W / 2) + u / 2) * 20 + 8, true);
          if (inside) {
            valid++;
            expect(zCloud).toBeCloseTo(z, 5);
          } else expect(zCloud).toBeNaN();
        }
      }
    }
    expect(valid).toBeGreaterThan(0);
  });

  describe("ZoeDepth-style routing (domain output + metric heads)", () => {
    /** Red ramps over the image (so depth does); green or blue fills the rest, which routes it. */
    function routedImage(domain: "indoor" | "outdoor"): RgbImage {
      const data = new Uint8Array(W * H * 3);
      for (let p = 0; p < W * H; p++) {
        data.set([(p * 13) % 256, domain === "indoor" ? 200 : 40, domain === "indoor" ? 40 : 200], p * 3);
      }
      return { width: W, height: H, data };
    }
    const DOMAINS = ["indoor", "outdoor", "indoor"] as const;

    async function replayRouted(name: string, extra: Record<string, unknown>) {
      // The outdoor head's max_depth is 20 m here, so its far pixels (red above 0.45) become NaN:
      // each head's own range applies.
      const yaml = analyticModelYaml({ routed: true, size: [H, W] }).replace("max_depth: 43.0", "max_depth: 20.0");
      const model = await writeAnalyticBundle(join(dir, `${name}-model`), { routed: true, modelYaml: yaml });
      const images = DOMAINS.map((domain) => routedImage(domain));
      const input = await writeCameraBag(
        join(dir, `${name}.mcap`),
        images.map((image, index) => ({ stamp: stampAt(index), image: rgb8(stampAt(index), image), info: cameraInfo(stampAt(index), calibration(W, H)) })),
      );
      const output = join(dir, `${name}.out.mcap`);
      const summary = await replay({ input, output, params: resolveParameters({ model, execution_providers: ["cpu"], ...extra }), realtime: false, ...quiet });
      const out = await readOutputBag(output);
      const depth = typed(out, `${NS}/depth/image`, "sensor_msgs/msg/Image").map((m) => new Float32Array(m.data.slice().buffer));
      const status = typed(out, `${NS}/status`, "depthseg/msg/PerceptionStatus");
      return { images, depth, status, summary };
    }

    function expectHead(metres: Float32Array, image: RgbImage, head: "indoor" | "outdoor"): void {
      let nan = 0;
      for (let p = 0; p < W * H; p++) {
        const red = Math.fround(image.data[p * 3]! / 255);
        const z = head === "indoor" ? analyticDepth(red) : routedOutdoorDepth(red);
        if (z <= (head === "indoor" ? 11 : 20)) expect(metres[p]).toBe(z);
        else {
          expect(metres[p]).toBeNaN();
          nan++;
        }
      }
      // The outdoor frame has pixels past its head's 20 m; indoor (max 10.5 m here) has none.
      if (head === "outdoor") expect(nan).toBeGreaterThan(W * H * 0.3);
      else expect(nan).toBe(0);
    }

    it("auto, no hysteresis: each frame gets the head its domain output picks, in metres, and status names it", async () => {
      const { images, depth, status, summary } = await replayRouted("routed-auto", { "depth.head_switch_frames": 1 });
      expect(status.map((s) => s.depth_head)).toEqual(["indoor", "outdoor", "indoor"]);
      expect(summary.depthHeads).toEqual({ indoor: 2, outdoor: 1 });
      expect(formatSummary(summary)).toContain("\n  depth head indoor 2, outdoor 1\n");
      expect(status.every((s) => s.depth_kind === "metric" && s.depth_is_metric)).toBe(true);
      for (const [index, domain] of DOMAINS.entries()) expectHead(depth[index]!, images[index]!, domain);
    });

    it("auto with depth.head_switch_frames (default 4): one outdoor vote between indoor ones does not switch the head", async () => {
      const { images, depth, status } = await replayRouted("routed-hysteresis", {});
      expect(status.map((s) => s.depth_head)).toEqual(["indoor", "indoor", "indoor"]);
      for (const [index, image] of images.entries()) expectHead(depth[index]!, image, "indoor");
    });

    it("depth.head pins one head for every frame", async () => {
      const { images, depth, status } = await replayRouted("routed-pinned", { "depth.head": "outdoor" });
      expect(status.map((s) => s.depth_head)).toEqual(["outdoor", "outdoor", "outdoor"]);
      for (const [index, image] of images.entries()) expectHead(depth[index]!, image, "outdoor");
    });

    it("refuses a depth.head the model does not have, naming the heads", async () => {
      await expect(replayRouted("routed-bad", { "depth.head": "underwater" })).rejects.toThrow(
        'depth.head must be auto or one of the model\'s heads (indoor, outdoor), got "underwater"',
      );
      const input = await writeCameraBag(join(dir, "one-head.mcap"), [
        { stamp: stampAt(0), image: rgb8(stampAt(0), testImage(W, H, 0)), info: cameraInfo(stampAt(0), calibration(W, H)) },
      ]);
      const params = resolveParameters({ model: bundle, execution_providers: ["cpu"], "depth.head": "indoor" });
      await expect(replay({ input, output: join(dir, "one-head.out.mcap"), params, realtime: false, ...quiet })).rejects.toThrow(
        'depth.head must be auto: the model has one depth output, no heads (got "indoor")',
      );
    });
  });
});

describe("replay --params: the same params file as the live node", () => {
  it("applies a launch_ros-style /depthseg/depthseg section (live-only names in it are ignored)", async () => {
    const { main } = await import("../src/cli.js");
    const dir = await tempDir();
    const model = await writeAnalyticBundle(join(dir, "analytic"));
    const stamp = stampAt(0);
    const input = await writeCameraBag(join(dir, "in.mcap"), [
      { stamp, image: rgb8(stamp, { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).fill(120) }), info: cameraInfo(stamp, pinholeCalibration(4, 2, 10, 10, 1.5, 0.5)) },
    ]);
    const params = join(dir, "launch_params.yaml");
    await writeFile(params, `/depthseg/depthseg:\n  ros__parameters:\n    input_transport: compressed\n    output_namespace: /launched\n    model: ${model}\n`);
    const output = join(dir, "out.mcap");
    expect(await main(["replay", input, "--out", output, "--params", params, "--quiet"])).toBe(0);
    const topics = [...(await readOutputBag(output)).keys()];
    expect(topics).toContain("/launched/depth/image");
    expect(topics.some((t) => t.startsWith("/depthseg/"))).toBe(false);
  });
});

describe("replay: canonical-camera models (canonical_focal)", () => {
  // The analytic model's output r = 0.5 + 10·R/255 is read as canonical depth: metres = r · f / 300,
  // f = mean of fx, fy at the model's 6x4 input.
  const replayWith = async (dir: string, name: string, w: number, h: number, fx: number, fy: number, image: Uint8Array) => {
    const model = await writeAnalyticBundle(join(dir, "canonical"), { canonicalFocal: 300 });
    const stamp = stampAt(0);
    const input = await writeCameraBag(join(dir, `${name}.mcap`), [
      { stamp, image: rgb8(stamp, { width: w, height: h, data: image }), info: cameraInfo(stamp, pinholeCalibration(w, h, fx, fy, (w - 1) / 2, (h - 1) / 2)) },
    ]);
    const output = join(dir, `${name}.out.mcap`);
    await replay({ input, output, params: resolveParameters({ model, execution_providers: ["cpu"] }), realtime: false, ...quiet });
    const depth = (await readOutputBag(output)).get("/depthseg/depth/image")![0] as { data: Uint8Array; width: number };
    return Array.from(new Float32Array(depth.data.slice().buffer));
  };

  it("gives metres r·f/300 with f at the model's resolution: the same scene at two resolutions, and two lenses", async () => {
    const dir = await tempDir();
    const small = new Uint8Array(6 * 4 * 3);
    for (let i = 0; i < 24; i++) small.set([20 + 9 * i, 30, 40], 3 * i);
    const atSmall = await replayWith(dir, "small", 6, 4, 20, 22, small);
    const metres = (i: number) => Math.fround((Math.fround(0.5 + (10 * small[3 * i]!) / 255) * 21) / 300);
    for (let i = 0; i < 24; i++) expect(atSmall[i]).toBeCloseTo(metres(i), 5);
    // The same (flat) scene at twice the resolution, same field of view (fx, fy doubled): the same metres.
    const flatSmall = await replayWith(dir, "flat-small", 6, 4, 20, 22, new Uint8Array(6 * 4 * 3).fill(120));
    const flatLarge = await replayWith(dir, "flat-large", 12, 8, 40, 44, new Uint8Array(12 * 8 * 3).fill(120));
    const flatMetres = Math.fround((Math.fround(0.5 + (10 * 120) / 255) * 21) / 300);
    expect(flatSmall.every((z) => Math.abs(z - flatMetres) < 1e-6)).toBe(true);
    expect(flatLarge.every((z) => Math.abs(z - flatMetres) < 1e-6)).toBe(true);
    // A longer lens (f 42 instead of 21) seeing the same network output is twice as far away.
    const longLens = await replayWith(dir, "long", 6, 4, 42, 42, small);
    for (let i = 0; i < 24; i++) expect(longLens[i]).toBeCloseTo(2 * atSmall[i]!, 5);
  });
});
