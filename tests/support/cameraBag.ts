// Builds rosbag2 MCAP camera recordings for tests, including deliberately broken messages.

import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CameraCalibration, RgbImage, Stamp } from "../../src/frame.js";
import { calibrationToCameraInfo } from "../../src/messages/camera.js";
import { decodeMessage } from "../../src/messages/cdr.js";
import { header } from "../../src/messages/outputs.js";
import type { CameraInfo, CompressedImage, Image, RosMessageMap, RosTypeName } from "../../src/messages/types.js";
import { openBag } from "../../src/transport/mcap/bagReader.js";
import { BagWriter } from "../../src/transport/mcap/bagWriter.js";

export const IMAGE_TOPIC = "/cam/image_raw";
export const COMPRESSED_TOPIC = "/cam/image_raw/compressed";
export const INFO_TOPIC = "/cam/camera_info";
export const FRAME_ID = "cam_optical";

export interface BagFrame {
  readonly stamp: Stamp;
  /** An Image on IMAGE_TOPIC or a CompressedImage on COMPRESSED_TOPIC. */
  readonly image?: Image | CompressedImage;
  readonly info?: CameraInfo;
  /** Log time of the image (and of the info unless `infoLogTime`); default: the stamp. */
  readonly logTime?: bigint;
  readonly infoLogTime?: bigint;
}

export async function tempDir(prefix = "depthseg-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function stampAt(index: number, rateHz = 10, startSec = 100): Stamp {
  const ns = BigInt(startSec) * 1_000_000_000n + BigInt(Math.round((index * 1e9) / rateHz));
  return { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
}

export function rgb8(stamp: Stamp, image: RgbImage): Image {
  return {
    header: header(stamp, FRAME_ID),
    height: image.height,
    width: image.width,
    encoding: "rgb8",
    is_bigendian: 0,
    step: image.width * 3,
    data: image.data,
  };
}

export function cameraInfo(stamp: Stamp, calibration: CameraCalibration): CameraInfo {
  return calibrationToCameraInfo(header(stamp, FRAME_ID), calibration);
}

/**
 * Image then CameraInfo for each frame, log time = stamp (as a camera driver records them) unless
 * the frame says otherwise; a reader returns them in log-time order.
 */
export async function writeCameraBag(
  path: string,
  frames: readonly BagFrame[],
  options: { chunkSize?: number } = {},
): Promise<string> {
  const writer = await BagWriter.create(path, options);
  for (const frame of frames) {
    const logTime = frame.logTime ?? BigInt(frame.stamp.sec) * 1_000_000_000n + BigInt(frame.stamp.nanosec);
    if (frame.image) {
      if ("encoding" in frame.image) await writer.write(IMAGE_TOPIC, "sensor_msgs/msg/Image", logTime, frame.image);
      else await writer.write(COMPRESSED_TOPIC, "sensor_msgs/msg/CompressedImage", logTime, frame.image);
    }
    if (frame.info) await writer.write(INFO_TOPIC, "sensor_msgs/msg/CameraInfo", frame.infoLogTime ?? logTime, frame.info);
  }
  await writer.close();
  return path;
}

/** Every message of an output bag, decoded, grouped by topic in log order. */
export async function readOutputBag(path: string): Promise<Map<string, unknown[]>> {
  const bag = await openBag(path);
  const byTopic = new Map<string, unknown[]>();
  try {
    const types = new Map(bag.topics.map((t) => [t.topic, t.schemaName]));
    for await (const message of bag.messages()) {
      const decoded = decodeMessage(types.get(message.topic)! as RosTypeName, message.data);
      const list = byTopic.get(message.topic) ?? [];
      list.push(decoded);
      byTopic.set(message.topic, list);
    }
  } finally {
    await bag.close();
  }
  return byTopic;
}

export function typed<K extends RosTypeName>(byTopic: Map<string, unknown[]>, topic: string, _type: K): RosMessageMap[K][] {
  return (byTopic.get(topic) ?? []) as RosMessageMap[K][];
}

export async function fileBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}
