// `depthseg replay <folder of images | video file>`: the images become a camera bag (the same
// messages a camera driver records: CompressedImage with each file's own bytes, or the video's
// decoded frames as bgr8 Image, and a CameraInfo per frame), which replay then reads as any bag.

import { randomBytes } from "node:crypto";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { FatalError } from "../errors.js";
import type { CameraCalibration, Stamp } from "../frame.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { decodeCompressedImage } from "../imaging/decode.js";
import { cv } from "../imaging/opencv.js";
import { calibrationToCameraInfo } from "../messages/camera.js";
import { header } from "../messages/outputs.js";
import { BagWriter } from "../transport/mcap/bagWriter.js";

export const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);
export const VIDEO_EXTENSIONS = new Set([".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v"]);
/** Topics and frame of the bag made from images, as a camera driver names them. */
export const IMAGES_IMAGE_TOPIC = "/camera/image_raw";
export const IMAGES_COMPRESSED_TOPIC = "/camera/image_raw/compressed";
export const IMAGES_INFO_TOPIC = "/camera/camera_info";
export const IMAGES_FRAME_ID = "camera_optical_frame";
/** A folder of images has no time: its frames are stamped at this rate from t = 0. */
export const FOLDER_RATE_HZ = 10;
/** Used when a video does not say its frame rate. */
const VIDEO_FALLBACK_FPS = 30;

/** How the images' camera is known: a camera_info.yaml, or a pinhole guess from --fov / --fx. */
export type ImageCalibration =
  | { readonly kind: "camera_info"; readonly path: string; readonly calibration: CameraCalibration }
  | { readonly kind: "fov"; readonly horizontalDegrees: number }
  | { readonly kind: "fx"; readonly fx: number };

export type InputKind = "bag" | "folder" | "video";

export async function inputKind(path: string): Promise<InputKind> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) return "folder";
  return VIDEO_EXTENSIONS.has(extname(path).toLowerCase()) ? "video" : "bag";
}

export interface ImagesBag {
  readonly path: string;
  readonly imageTopic: string;
  readonly cameraInfoTopic: string;
  readonly frames: number;
  /** Said in the log and the summary: how the frames were stamped and, for a guess, the calibration assumed. */
  readonly notes: readonly string[];
  readonly remove: () => Promise<void>;
}

/** The pinhole calibration `how` gives a width×height image; the note says loudly what was assumed. */
export function imageCalibration(how: ImageCalibration, width: number, height: number): { calibration: CameraCalibration; note?: string } {
  if (how.kind === "camera_info") {
    const { calibration } = how;
    if (calibration.width !== width || calibration.height !== height) {
      throw new FatalError(
        `--camera-info ${how.path} is for ${calibration.width}x${calibration.height} images, but the images are ${width}x${height}`,
      );
    }
    return { calibration };
  }
  const fx = how.kind === "fx" ? how.fx : width / 2 / Math.tan((how.horizontalDegrees * Math.PI) / 360);
  const fov = (2 * Math.atan(width / 2 / fx) * 180) / Math.PI;
  const note =
    `NO CALIBRATION: assuming an undistorted pinhole camera with fx = fy = ${fx.toFixed(1)} px ` +
    `(horizontal field of view ${fov.toFixed(1)}°, from --${how.kind}) and the principal point at the image centre; ` +
    "depth in metres and the point cloud are only as right as this guess (pass --camera-info <camera_info.yaml> for a calibrated camera)";
  return { calibration: pinholeCalibration(width, height, fx, fx, (width - 1) / 2, (height - 1) / 2), note };
}

function stampAt(index: number, rateHz: number): { stamp: Stamp; logTime: bigint } {
  const ns = BigInt(Math.round((index * 1e9) / rateHz));
  return { stamp: { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) }, logTime: ns };
}

/** Writes the camera bag of `input` (a folder of images or a video) beside `besides`; the caller removes it. */
export async function imagesToBag(input: string, kind: "folder" | "video", how: ImageCalibration | undefined, besides: string): Promise<ImagesBag> {
  if (!how) {
    throw new FatalError(
      `${input}: images carry no calibration: pass --camera-info <camera_info.yaml>, or --fov <horizontal degrees> / --fx <pixels> to assume a pinhole camera`,
    );
  }
  const path = join(dirname(resolve(besides)), `.${basename(besides)}.${process.pid}-${randomBytes(3).toString("hex")}.images.mcap`);
  const writer = await BagWriter.create(path);
  const remove = () => rm(path, { force: true });
  try {
    const result = kind === "folder" ? await writeFolder(writer, input, how) : await writeVideo(writer, input, how);
    await writer.close();
    return { path, ...result, remove };
  } catch (error) {
    await writer.discard();
    await remove();
    throw error;
  }
}

type Written = Omit<ImagesBag, "path" | "remove">;

async function writeFolder(writer: BagWriter, folder: string, how: ImageCalibration): Promise<Written> {
  const files = (await readdir(folder))
    .filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (files.length === 0) throw new FatalError(`${folder}: no image (${[...IMAGE_EXTENSIONS].join(", ")}) in the folder`);
  let calibration: CameraCalibration | undefined;
  const notes = [`${files.length} images of ${folder} in name order, stamped at ${FOLDER_RATE_HZ} Hz from t = 0`];
  for (const [index, name] of files.entries()) {
    const data = new Uint8Array(await readFile(join(folder, name)));
    const format = extname(name).toLowerCase() === ".png" ? "png" : "jpeg";
    if (!calibration) {
      // The first image sets the size; a later one of another size fails as its own frame.
      const first = (() => {
        try {
          return decodeCompressedImage(format, data);
        } catch (error) {
          throw new FatalError(`${join(folder, name)}: the first image cannot be decoded: ${(error as Error).message}`);
        }
      })();
      const chosen = imageCalibration(how, first.width, first.height);
      calibration = chosen.calibration;
      if (chosen.note) notes.push(chosen.note);
    }
    const { stamp, logTime } = stampAt(index, FOLDER_RATE_HZ);
    const hdr = header(stamp, IMAGES_FRAME_ID);
    await writer.write(IMAGES_COMPRESSED_TOPIC, "sensor_msgs/msg/CompressedImage", logTime, { header: hdr, format, data });
    await writer.write(IMAGES_INFO_TOPIC, "sensor_msgs/msg/CameraInfo", logTime, calibrationToCameraInfo(hdr, calibration));
  }
  return { imageTopic: IMAGES_COMPRESSED_TOPIC, cameraInfoTopic: IMAGES_INFO_TOPIC, frames: files.length, notes };
}

async function writeVideo(writer: BagWriter, video: string, how: ImageCalibration): Promise<Written> {
  const c = cv();
  let capture;
  try {
    capture = new c.VideoCapture(video);
  } catch (error) {
    throw new FatalError(`${video}: cannot open the video: ${(error as Error).message}`);
  }
  try {
    const reported = capture.get(c.CAP_PROP_FPS);
    const fps = reported > 0 && Number.isFinite(reported) ? reported : VIDEO_FALLBACK_FPS;
    const notes = [`frames of ${video} stamped at ${fps.toFixed(2)} fps from t = 0${reported > 0 ? "" : " (the video does not say its rate)"}`];
    let calibration: CameraCalibration | undefined;
    let index = 0;
    for (let frame = capture.read(); !frame.empty; frame = capture.read(), index++) {
      if (!calibration) {
        const chosen = imageCalibration(how, frame.cols, frame.rows);
        calibration = chosen.calibration;
        if (chosen.note) notes.push(chosen.note);
      }
      const { stamp, logTime } = stampAt(index, fps);
      const hdr = header(stamp, IMAGES_FRAME_ID);
      const data = new Uint8Array(frame.getData());
      await writer.write(IMAGES_IMAGE_TOPIC, "sensor_msgs/msg/Image", logTime, {
        header: hdr, height: frame.rows, width: frame.cols, encoding: "bgr8", is_bigendian: 0, step: frame.cols * 3, data,
      });
      await writer.write(IMAGES_INFO_TOPIC, "sensor_msgs/msg/CameraInfo", logTime, calibrationToCameraInfo(hdr, calibration));
    }
    if (index === 0) throw new FatalError(`${video}: no frame could be read (not a video, or a codec this OpenCV build lacks)`);
    return { imageTopic: IMAGES_IMAGE_TOPIC, cameraInfoTopic: IMAGES_INFO_TOPIC, frames: index, notes };
  } finally {
    capture.release();
  }
}
