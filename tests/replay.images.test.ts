// `depthseg replay <folder of images | video file>`: the same outputs as for a bag, with the
// calibration from --camera-info, or a pinhole guess from --fov / --fx that the output says loudly.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { cli } from "./support/runCli.js";
import { encodePng } from "../src/imaging/decode.js";
import { cv } from "../src/imaging/opencv.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { drawScene } from "../tools/make-sample-bag.js";
import { readOutputBag, tempDir, typed } from "./support/cameraBag.js";

const W = 64;
const H = 48;
let dir: string;
let model: string;
let folder: string;
const pngs: Uint8Array[] = [];

beforeAll(async () => {
  dir = await tempDir("depthseg-images-");
  model = await writeAnalyticBundle(join(dir, "model"));
  folder = join(dir, "photos");
  await mkdir(folder);
  // Names sort numerically (frame2 before frame10), and a non-image file is ignored.
  for (const [i, name] of ["frame1.png", "frame2.png", "frame10.png"].entries()) {
    const png = encodePng(drawScene(i, W, H));
    pngs.push(png);
    await writeFile(join(folder, name), png);
  }
  await writeFile(join(folder, "notes.txt"), "not an image");
});
afterEach(() => vi.restoreAllMocks());


const CAMERA_INFO_YAML = `image_width: ${W}
image_height: ${H}
camera_name: phone
camera_matrix: { rows: 3, cols: 3, data: [50, 0, 31.5, 0, 52, 23.5, 0, 0, 1] }
distortion_model: plumb_bob
distortion_coefficients: { rows: 1, cols: 5, data: [0, 0, 0, 0, 0] }
`;

describe("depthseg replay <folder of images>", () => {
  it("with --camera-info: every image processed in name order, its calibration used, the files passed through as they are", async () => {
    const yaml = join(dir, "camera_info.yaml");
    await writeFile(yaml, CAMERA_INFO_YAML);
    const output = join(dir, "photos.mcap");
    const { code, stdout, stderr } = await cli("replay", folder, "--out", output, "--model", model, "--camera-info", yaml);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`depthseg replay: ${folder} -> ${output}`);
    expect(stdout).toMatch(/frames {5}read 3, processed 3, dropped 0, failed 0/);
    expect(stderr).not.toContain("NO CALIBRATION");
    const bag = await readOutputBag(output);
    const info = typed(bag, "/depthseg/depth/camera_info", "sensor_msgs/msg/CameraInfo");
    expect(info.map((i) => Array.from(i.k))).toEqual(Array(3).fill([50, 0, 31.5, 0, 52, 23.5, 0, 0, 1]));
    const depth = typed(bag, "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth.map((d) => [d.width, d.height])).toEqual(Array(3).fill([W, H]));
    // Stamped at 10 Hz from 0, in name order: frame1, frame2, frame10.
    expect(depth.map((d) => d.header.stamp)).toEqual([{ sec: 0, nanosec: 0 }, { sec: 0, nanosec: 100_000_000 }, { sec: 0, nanosec: 200_000_000 }]);
    const camera = typed(bag, "/camera/image_raw/compressed", "sensor_msgs/msg/CompressedImage");
    expect(camera.map((c) => c.format)).toEqual(["png", "png", "png"]);
    expect(camera.map((c) => Array.from(c.data))).toEqual(pngs.map((p) => Array.from(p)));
  });

  it("with --fov: a pinhole guess, said loudly on stderr and in the summary", async () => {
    const output = join(dir, "fov.mcap");
    const { code, stdout, stderr } = await cli("replay", folder, "--out", output, "--model", model, "--fov", "90", "--quiet", "--summary");
    expect(code, stderr).toBe(0);
    // fx = (W / 2) / tan(45°) = 32 px.
    expect(stderr).toContain("NO CALIBRATION: assuming an undistorted pinhole camera with fx = fy = 32.0 px (horizontal field of view 90.0°, from --fov)");
    expect(stdout).toContain("input note  NO CALIBRATION");
    const info = typed(await readOutputBag(output), "/depthseg/depth/camera_info", "sensor_msgs/msg/CameraInfo");
    const k = Array.from(info[0]!.k);
    expect(k[0]).toBeCloseTo(32, 9);
    expect(k[4]).toBeCloseTo(32, 9);
    expect([k[2], k[5]]).toEqual([31.5, 23.5]);
  });

  it("without any calibration: exit 1 saying which flags give one; a --camera-info of another size is refused", async () => {
    const none = await cli("replay", folder, "--out", join(dir, "none.mcap"), "--model", model);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/images carry no calibration: pass --camera-info <camera_info.yaml>, or --fov .* \/ --fx/);
    const yaml = join(dir, "big.yaml");
    await writeFile(yaml, CAMERA_INFO_YAML.replace(`image_width: ${W}`, "image_width: 640").replace(`image_height: ${H}`, "image_height: 480"));
    const wrong = await cli("replay", folder, "--out", join(dir, "wrong.mcap"), "--model", model, "--camera-info", yaml);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`--camera-info ${yaml} is for 640x480 images, but the images are ${W}x${H}`);
  });
});

describe("depthseg replay <video file>", () => {
  it("with --fx: every frame, stamped at the video's rate", async () => {
    const c = cv();
    const video = join(dir, "clip.avi");
    const writer = new c.VideoWriter(video, c.VideoWriter.fourcc("MJPG"), 5, new c.Size(W, H), true);
    for (let i = 0; i < 4; i++) {
      const rgb = drawScene(i, W, H);
      writer.write(new c.Mat(Buffer.from(rgb.data), H, W, c.CV_8UC3).cvtColor(c.COLOR_RGB2BGR));
    }
    writer.release();
    const output = join(dir, "clip.mcap");
    const { code, stdout, stderr } = await cli("replay", video, "--out", output, "--model", model, "--fx", "40");
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/frames {5}read 4, processed 4, dropped 0, failed 0/);
    expect(stderr).toContain("fx = fy = 40.0 px");
    const bag = await readOutputBag(output);
    const depth = typed(bag, "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth.map((d) => d.header.stamp.nanosec + d.header.stamp.sec * 1e9)).toEqual([0, 2e8, 4e8, 6e8]);
    expect(typed(bag, "/camera/image_raw", "sensor_msgs/msg/Image").map((i) => i.encoding)).toEqual(Array(4).fill("bgr8"));
    expect(typed(bag, "/depthseg/depth/camera_info", "sensor_msgs/msg/CameraInfo")[0]!.k[0]).toBe(40);
  });

  it("--fov on a bag is refused (a bag has its CameraInfo)", async () => {
    const { code, stderr } = await cli("replay", join(dir, "clip.mcap"), "--out", join(dir, "again.mcap"), "--model", model, "--fov", "60");
    expect(code).toBe(1);
    expect(stderr).toMatch(/--camera-info, --fov and --fx are for images and videos/);
  });
});
