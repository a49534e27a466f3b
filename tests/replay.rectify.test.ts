// Raw (distorted) input end to end: `rectify: true` undistorts before inference and keeps the
// CameraInfo; `rectify: false` warns once per camera.

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { analyticDepth } from "../tools/onnx/builders.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { resolveParameters } from "../src/config/parameters.js";
import { replay } from "../src/replay/replay.js";
import type { CameraCalibration, RgbImage } from "../src/frame.js";
import { IMAGE_TOPIC, cameraInfo, readOutputBag, rgb8, stampAt, tempDir, typed, writeCameraBag } from "./support/cameraBag.js";

const NS = "/depthseg";
const W = 64;
const H = 48;

/** A raw camera with barrel distortion; P sees wider than K, so the rectified corners are off the sensor. */
const CALIBRATION: CameraCalibration = {
  width: W,
  height: H,
  distortionModel: "plumb_bob",
  d: [-0.25, 0.08, 0.001, -0.0005, 0],
  k: [60, 0, 31.3, 0, 58, 23.6, 0, 0, 1],
  r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  p: [45, 0, 32, 0, 0, 44, 24, 0, 0, 0, 1, 0],
  binningX: 0,
  binningY: 0,
  roi: { xOffset: 0, yOffset: 0, height: 0, width: 0, doRectify: false },
};

const RED = 150;

function uniformRed(): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) data.set([RED, 20, 10], i * 3);
  return { width: W, height: H, data };
}

/** Where the raw camera sees what rectified pixel (u, v) sees (plumb_bob, R = I), written out here. */
function rawPixelOf(u: number, v: number): [number, number] {
  const [k1, k2, p1, p2, k3] = CALIBRATION.d as [number, number, number, number, number];
  const x = (u - 32) / 45;
  const y = (v - 24) / 44;
  const r2 = x * x + y * y;
  const radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2 * r2 * r2;
  const xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
  const yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
  return [60 * xd + 31.3, 58 * yd + 23.6];
}

const WARNING =
  `${IMAGE_TOPIC}: CameraInfo has plumb_bob distortion but rectify is false: depth is back-projected with ` +
  "the pinhole P model; set rectify: true if this is a raw (unrectified) image";

describe("replay of a raw image with lens distortion", () => {
  let dir: string;
  let bundle: string;
  let input: string;

  beforeAll(async () => {
    dir = await tempDir();
    bundle = await writeAnalyticBundle(join(dir, "analytic"), { size: [H, W] });
    const frames = [0, 1, 2].map((index) => ({
      stamp: stampAt(index),
      image: rgb8(stampAt(index), uniformRed()),
      info: cameraInfo(stampAt(index), CALIBRATION),
    }));
    input = await writeCameraBag(join(dir, "raw.mcap"), frames);
  });

  async function run(rectify: boolean, name: string) {
    const lines: string[] = [];
    const output = join(dir, `${name}.mcap`);
    const summary = await replay({
      input,
      output,
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"], rectify }),
      realtime: false,
      log: (line) => lines.push(line),
      showProgress: false,
    });
    const out = await readOutputBag(output);
    const metres = typed(out, `${NS}/depth/image`, "sensor_msgs/msg/Image").map((d) => new Float32Array(d.data.slice().buffer));
    return { summary, lines, out, metres };
  }

  it("rectify: true keeps the metres inside the raw image's view, publishes NaN/unlabelled off it, and keeps CameraInfo", async () => {
    const { summary, lines, out, metres } = await run(true, "rectified");
    expect(summary.stats).toMatchObject({ read: 3, processed: 3, failed: 0 });
    expect(lines).toEqual([]);
    const red = analyticDepth(Math.fround(RED / 255));
    const labels = typed(out, `${NS}/segmentation/labels`, "sensor_msgs/msg/Image");
    let inside = 0;
    let outside = 0;
    for (const [frame, depth] of metres.entries()) {
      for (let v = 0; v < H; v++) {
        for (let u = 0; u < W; u++) {
          const [x, y] = rawPixelOf(u, v);
          // Bilinear neighbours all on the sensor: the uniform red survives exactly.
          if (x >= 0.01 && x <= W - 1.01 && y >= 0.01 && y <= H - 1.01) {
            inside++;
            expect(depth[v * W + u]).toBe(red);
          } else if (x < -0.01 || x > W - 0.99 || y < -0.01 || y > H - 0.99) {
            // Wholly or partly off the sensor: the model only saw the black border there.
            outside++;
            expect(depth[v * W + u]).toBeNaN();
            expect(labels[frame]!.data[v * W + u]).toBe(255);
          }
        }
      }
    }
    expect(inside).toBeGreaterThan(0.5 * 3 * W * H);
    expect(outside).toBeGreaterThan(0.05 * 3 * W * H);
    expect(metres[0]![0]).toBeNaN(); // the top-left corner is off the sensor
    // depth/camera_info is the input CameraInfo unchanged, and the cloud uses its P.
    const info = typed(out, `${NS}/depth/camera_info`, "sensor_msgs/msg/CameraInfo")[0]!;
    expect(info.distortion_model).toBe("plumb_bob");
    expect([info.d, info.k, info.r, info.p].map((m) => Array.from(m))).toEqual([
      CALIBRATION.d,
      CALIBRATION.k,
      CALIBRATION.r,
      CALIBRATION.p,
    ]);
    const cloud = typed(out, `${NS}/points`, "sensor_msgs/msg/PointCloud2")[0]!;
    const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    const [u, v] = [40, 30];
    const o = (v * W + u) * 20;
    expect(view.getFloat32(o, true)).toBeCloseTo(((u - 32) * red) / 45, 5);
    expect(view.getFloat32(o + 4, true)).toBeCloseTo(((v - 24) * red) / 44, 5);
  });

  it("rectify: false leaves the image alone and warns once for the camera", async () => {
    const { summary, lines, metres } = await run(false, "unrectified");
    expect(summary.stats).toMatchObject({ read: 3, processed: 3, failed: 0 });
    expect(lines).toEqual([WARNING]);
    const red = analyticDepth(Math.fround(RED / 255));
    for (const depth of metres) expect(depth.every((z) => z === red)).toBe(true);
  });
});
