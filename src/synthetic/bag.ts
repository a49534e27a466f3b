// rosbag2 MCAP of synthetic sequences: the colour camera as a JPEG CompressedImage with its
// CameraInfo, and the ground truth as a 32FC1 depth image (metres along the optical z axis) and
// a mono8 label image. All four messages of a frame share its stamp and frame_id.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { CameraCalibration, Stamp } from "../frame.js";
import { encodeJpeg } from "../imaging/decode.js";
import { calibrationToCameraInfo } from "../messages/camera.js";
import { depthImage, header } from "../messages/outputs.js";
import type { Header, Image } from "../messages/types.js";
import { BagWriter } from "../transport/mcap/bagWriter.js";
import { renderFrame, type SyntheticFrame } from "./frames.js";
import { createRenderTarget } from "./render.js";
import { generateScene } from "./scene.js";

export const SYNTHETIC_TOPICS = {
  image: "/camera/color/image_raw/compressed",
  cameraInfo: "/camera/color/camera_info",
  depth: "/camera/depth/ground_truth",
  labels: "/camera/labels/ground_truth",
} as const;

export const SYNTHETIC_FRAME_ID = "camera_color_optical_frame";
/** Stamp of the first frame (seconds): 2023-11-14T22:13:20Z, as the previous sample had. */
export const SYNTHETIC_START_SEC = 1_700_000_000;
export const SYNTHETIC_RATE_HZ = 10;
/** image_transport's compressed format string for an rgb8 image sent as JPEG. */
export const JPEG_FORMAT = "rgb8; jpeg compressed bgr8";

/** mono8 label image; `labels` is used as the data without copying. */
export function monoImage(hdr: Header, labels: Uint8Array, width: number, height: number): Image {
  if (labels.length !== width * height) throw new RangeError(`labels: ${labels.length} values for ${width}x${height}`);
  return { header: hdr, height, width, encoding: "mono8", is_bigendian: 0, step: width, data: labels };
}

/** Stamp of frame `index` of a sequence at `rateHz` starting at `startSec`. */
export function frameStamp(index: number, startSec = SYNTHETIC_START_SEC, rateHz = SYNTHETIC_RATE_HZ): { stamp: Stamp; ns: bigint } {
  const ns = BigInt(startSec) * 1_000_000_000n + BigInt(Math.round((index * 1e9) / rateHz));
  return { stamp: { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) }, ns };
}

/** Writes one frame's four messages (colour JPEG, CameraInfo, GT depth, GT labels) at `index`'s stamp. */
export async function writeFrameMessages(
  writer: BagWriter,
  frame: SyntheticFrame,
  index: number,
  options: { jpegQuality?: number; frameId?: string; startSec?: number; rateHz?: number } = {},
): Promise<void> {
  const { stamp, ns } = frameStamp(index, options.startSec, options.rateHz);
  const hdr = header(stamp, options.frameId ?? SYNTHETIC_FRAME_ID);
  const { width, height } = frame.image;
  const jpeg = encodeJpeg(frame.image, options.jpegQuality ?? 90);
  await writer.write(SYNTHETIC_TOPICS.image, "sensor_msgs/msg/CompressedImage", ns, { header: hdr, format: JPEG_FORMAT, data: jpeg });
  await writer.write(SYNTHETIC_TOPICS.cameraInfo, "sensor_msgs/msg/CameraInfo", ns, calibrationToCameraInfo(hdr, frame.calibration));
  await writer.write(SYNTHETIC_TOPICS.depth, "sensor_msgs/msg/Image", ns, depthImage(hdr, frame.depth, width, height));
  await writer.write(SYNTHETIC_TOPICS.labels, "sensor_msgs/msg/Image", ns, monoImage(hdr, frame.labels, width, height));
}

export interface SyntheticBagOptions {
  readonly calibration: CameraCalibration;
  /** Frames per scene. */
  readonly frames: number;
  /** Frames per loop of the camera path (default: `frames`). */
  readonly framesPerLoop?: number;
  readonly jpegQuality?: number;
  readonly shadows?: boolean;
  readonly frameId?: string;
  readonly startSec?: number;
  readonly rateHz?: number;
}

/** Writes the scenes of `seeds` one after the other into one bag at `rateHz` (stamps keep counting). */
export async function writeSyntheticBag(path: string, seeds: readonly number[], options: SyntheticBagOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const writer = await BagWriter.create(path);
  const { calibration } = options;
  const target = createRenderTarget(calibration.width, calibration.height);
  try {
    let index = 0;
    for (const seed of seeds) {
      const scene = generateScene(seed);
      for (let m = 0; m < options.frames; m++) {
        const frame = renderFrame(scene, m, {
          calibration,
          framesPerLoop: options.framesPerLoop ?? options.frames,
          target,
          shadows: options.shadows ?? true,
        });
        await writeFrameMessages(writer, frame, index++, options);
      }
    }
  } finally {
    await writer.close();
  }
}
