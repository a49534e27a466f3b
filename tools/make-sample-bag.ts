// Writes samples/sample.mcap: a short 640x480 JPEG camera recording with CameraInfo, the input of
// the README's quick start. Deterministic (same bytes every run). Run: npx tsx tools/make-sample-bag.ts
//
// The scene is drawn procedurally (floor, wall, two boxes sliding past); it exercises the
// pipeline end to end but is not a depth benchmark.

import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { RgbImage } from "../src/frame.js";
import { encodeJpeg } from "../src/imaging/decode.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { calibrationToCameraInfo } from "../src/messages/camera.js";
import { header } from "../src/messages/outputs.js";
import { BagWriter } from "../src/transport/mcap/bagWriter.js";
import { PACKAGE_ROOT } from "../src/paths.js";

const WIDTH = 640;
const HEIGHT = 480;
const FRAMES = 20;
const RATE_HZ = 10;
const START_SEC = 1_700_000_000;
const FRAME_ID = "camera_color_optical_frame";
export const SAMPLE_IMAGE_TOPIC = "/camera/color/image_raw/compressed";
export const SAMPLE_INFO_TOPIC = "/camera/color/camera_info";

export function drawScene(index: number): RgbImage {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  const horizon = 300;
  const boxes = [
    { x: 80 + index * 12, y: 220, w: 140, h: 160, color: [170, 60, 40] },
    { x: 460 - index * 8, y: 260, w: 90, h: 150, color: [40, 110, 170] },
  ];
  for (let v = 0; v < HEIGHT; v++) {
    for (let u = 0; u < WIDTH; u++) {
      const i = (v * WIDTH + u) * 3;
      let r: number, g: number, b: number;
      if (v < horizon) {
        // Wall with a soft vertical light falloff and a faint texture.
        const light = 150 + Math.round(40 * Math.cos((u - 320) / 400)) - Math.round(v / 12);
        const texture = ((u >> 4) + (v >> 4)) % 2 === 0 ? 6 : 0;
        r = light + texture;
        g = light + 5 + texture;
        b = light + 15 + texture;
      } else {
        // Floor: brighter towards the camera, with board seams converging to the horizon.
        const near = (v - horizon) / (HEIGHT - horizon);
        const seam = Math.abs(((u - 320) / (0.2 + near)) % 80) < 3 ? -30 : 0;
        r = 120 + Math.round(60 * near) + seam;
        g = 90 + Math.round(40 * near) + seam;
        b = 60 + Math.round(20 * near) + seam;
      }
      for (const box of boxes) {
        if (u >= box.x && u < box.x + box.w && v >= box.y && v < box.y + box.h) {
          const shade = 1 - (0.3 * (u - box.x)) / box.w;
          [r, g, b] = box.color.map((c) => Math.round(c! * shade)) as [number, number, number];
        }
      }
      data[i] = clamp(r);
      data[i + 1] = clamp(g);
      data[i + 2] = clamp(b);
    }
  }
  return { width: WIDTH, height: HEIGHT, data };
}

function clamp(value: number): number {
  return Math.max(0, Math.min(255, value));
}

export async function writeSampleBag(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const writer = await BagWriter.create(path);
  const calibration = pinholeCalibration(WIDTH, HEIGHT, 525, 525, 319.5, 239.5);
  try {
    for (let index = 0; index < FRAMES; index++) {
      const ns = BigInt(START_SEC) * 1_000_000_000n + BigInt(Math.round((index * 1e9) / RATE_HZ));
      const stamp = { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
      const hdr = header(stamp, FRAME_ID);
      const jpeg = encodeJpeg(drawScene(index), 85);
      await writer.write(SAMPLE_IMAGE_TOPIC, "sensor_msgs/msg/CompressedImage", ns, { header: hdr, format: "jpeg", data: jpeg });
      await writer.write(SAMPLE_INFO_TOPIC, "sensor_msgs/msg/CameraInfo", ns, calibrationToCameraInfo(hdr, calibration));
    }
  } finally {
    await writer.close();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  const path = join(PACKAGE_ROOT, "samples", "sample.mcap");
  await writeSampleBag(path);
  console.log(`wrote ${path}`);
}
