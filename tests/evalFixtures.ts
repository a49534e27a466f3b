// Small evaluation datasets for the eval tests: folder datasets (OpenCV-encoded PNGs and a ROS
// camera_info YAML) and rosbag2 MCAPs with ground-truth depth and label topics.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CameraCalibration, RgbImage, Stamp } from "../src/frame.js";
import { encodeJpeg, encodePng } from "../src/imaging/decode.js";
import { borrowMat, cv, keepAlive } from "../src/imaging/opencv.js";
import { depthImage, header } from "../src/messages/outputs.js";
import type { Image } from "../src/messages/types.js";
import { BagWriter } from "../src/transport/mcap/bagWriter.js";
import { FRAME_ID, INFO_TOPIC, IMAGE_TOPIC, cameraInfo, rgb8 } from "./support/cameraBag.js";

export const GT_DEPTH_TOPIC = "/gt/depth/image";
export const GT_LABELS_TOPIC = "/gt/labels/image";

/** A single-channel PNG: 16-bit for Uint16Array data, 8-bit for Uint8Array. */
export function singleChannelPng(data: Uint8Array | Uint16Array, width: number, height: number): Uint8Array {
  const type = data instanceof Uint16Array ? cv().CV_16UC1 : cv().CV_8UC1;
  const mat = borrowMat(data, height, width, type, 1);
  const encoded = cv().imencode(".png", mat);
  keepAlive(data);
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

export function cameraInfoYaml(cal: CameraCalibration): string {
  const list = (values: readonly number[]) => `[${values.join(", ")}]`;
  return [
    `image_width: ${cal.width}`,
    `image_height: ${cal.height}`,
    "camera_name: test_cam",
    "camera_matrix:",
    "  rows: 3",
    "  cols: 3",
    `  data: ${list(cal.k)}`,
    `distortion_model: ${cal.distortionModel}`,
    "distortion_coefficients:",
    "  rows: 1",
    `  cols: ${cal.d.length}`,
    `  data: ${list(cal.d)}`,
    "rectification_matrix:",
    "  rows: 3",
    "  cols: 3",
    `  data: ${list(cal.r)}`,
    "projection_matrix:",
    "  rows: 3",
    "  cols: 4",
    `  data: ${list(cal.p)}`,
    "",
  ].join("\n");
}

export interface FolderFrame {
  readonly stem: string;
  readonly rgb: RgbImage;
  readonly rgbExt?: "png" | "jpg";
  /** Raw 16-bit depth values (value / depth scale = metres); omitted: no depth file. */
  readonly depth?: Uint16Array;
  readonly depthSize?: [number, number];
  readonly labels?: Uint8Array | Uint16Array;
}

export async function writeFolderDataset(root: string, frames: readonly FolderFrame[], calibration: CameraCalibration): Promise<string> {
  await mkdir(join(root, "rgb"), { recursive: true });
  await mkdir(join(root, "depth"), { recursive: true });
  if (frames.some((f) => f.labels)) await mkdir(join(root, "labels"), { recursive: true });
  await writeFile(join(root, "camera_info.yaml"), cameraInfoYaml(calibration));
  for (const f of frames) {
    const ext = f.rgbExt ?? "png";
    await writeFile(join(root, "rgb", `${f.stem}.${ext}`), ext === "png" ? encodePng(f.rgb) : encodeJpeg(f.rgb, 100));
    if (f.depth) {
      const [w, h] = f.depthSize ?? [f.rgb.width, f.rgb.height];
      await writeFile(join(root, "depth", `${f.stem}.png`), singleChannelPng(f.depth, w, h));
    }
    if (f.labels) await writeFile(join(root, "labels", `${f.stem}.png`), singleChannelPng(f.labels, f.rgb.width, f.rgb.height));
  }
  return root;
}

export function depth16UC1(stamp: Stamp, millimetres: Uint16Array, width: number, height: number): Image {
  const data = new Uint8Array(width * height * 2);
  const view = new DataView(data.buffer);
  for (let i = 0; i < millimetres.length; i++) view.setUint16(2 * i, millimetres[i]!, true);
  return { header: header(stamp, FRAME_ID), height, width, encoding: "16UC1", is_bigendian: 0, step: width * 2, data };
}

export function depth32FC1(stamp: Stamp, metres: Float32Array, width: number, height: number): Image {
  return depthImage(header(stamp, FRAME_ID), metres, width, height);
}

export function mono8(stamp: Stamp, labels: Uint8Array, width: number, height: number): Image {
  return { header: header(stamp, FRAME_ID), height, width, encoding: "mono8", is_bigendian: 0, step: width, data: labels };
}

export interface BagEvalFrame {
  readonly stamp: Stamp;
  readonly image?: RgbImage;
  readonly calibration?: CameraCalibration;
  /** On GT_DEPTH_TOPIC (or `depthTopic`). */
  readonly depth?: Image;
  readonly labels?: Image;
  /** Extra Image messages: topic → message. */
  readonly extra?: Readonly<Record<string, Image>>;
}

/** Camera, CameraInfo, GT depth and labels per frame, log time = stamp. */
export async function writeEvalBag(path: string, frames: readonly BagEvalFrame[], topics: { depth?: string; labels?: string } = {}): Promise<string> {
  const writer = await BagWriter.create(path);
  const depthTopic = topics.depth ?? GT_DEPTH_TOPIC;
  const labelsTopic = topics.labels ?? GT_LABELS_TOPIC;
  for (const f of frames) {
    const logTime = BigInt(f.stamp.sec) * 1_000_000_000n + BigInt(f.stamp.nanosec);
    if (f.image) await writer.write(IMAGE_TOPIC, "sensor_msgs/msg/Image", logTime, rgb8(f.stamp, f.image));
    if (f.calibration) await writer.write(INFO_TOPIC, "sensor_msgs/msg/CameraInfo", logTime, cameraInfo(f.stamp, f.calibration));
    if (f.depth) await writer.write(depthTopic, "sensor_msgs/msg/Image", logTime, f.depth);
    if (f.labels) await writer.write(labelsTopic, "sensor_msgs/msg/Image", logTime, f.labels);
    for (const [topic, message] of Object.entries(f.extra ?? {})) await writer.write(topic, "sensor_msgs/msg/Image", logTime, message);
  }
  await writer.close();
  return path;
}
