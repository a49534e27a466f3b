// Ingest edge: camera messages → Frame. Validation failures become FrameErrors that name the
// topic and stamp, so the run can count them and go on.

import { performance } from "node:perf_hooks";
import type { CameraCalibration, Frame, Stamp } from "../frame.js";
import { FrameError } from "../errors.js";
import { decodeCompressedImage } from "../imaging/decode.js";
import { checkCalibrationMatchesImage, intrinsicsFromCalibration } from "../geometry/intrinsics.js";
import { imageToRgb } from "./camera.js";
import type { CompressedImage, Image } from "./types.js";

export type CameraImageMessage =
  | { readonly encoding: "raw"; readonly message: Image }
  | { readonly encoding: "compressed"; readonly message: CompressedImage };

/** An image waiting for its CameraInfo, still encoded: dropped frames are never decoded. */
export interface PendingImage {
  readonly cameraTopic: string;
  readonly stamp: Stamp;
  readonly frameId: string;
  readonly image: CameraImageMessage;
  /** performance.now() when the message arrived, for end-to-end latency. */
  readonly receivedAt: number;
}

export interface DecodedFrame {
  readonly frame: Frame;
  readonly decodeMs: number;
}

/** Decodes and validates one paired image; throws FrameError naming topic and stamp. */
export function decodeFrame(pending: PendingImage, calibration: CameraCalibration): DecodedFrame {
  const t0 = performance.now();
  try {
    const image =
      pending.image.encoding === "raw"
        ? imageToRgb(pending.image.message)
        : decodeCompressedImage(pending.image.message.format, pending.image.message.data);
    checkCalibrationMatchesImage(calibration, image.width, image.height);
    const intrinsics = intrinsicsFromCalibration(calibration);
    const frame: Frame = {
      cameraTopic: pending.cameraTopic,
      stamp: pending.stamp,
      frameId: pending.frameId,
      image,
      calibration,
      intrinsics,
    };
    return { frame, decodeMs: performance.now() - t0 };
  } catch (error) {
    if (error instanceof FrameError) throw error.at(pending.cameraTopic, pending.stamp);
    throw new FrameError("bad_message", (error as Error).message, pending.cameraTopic, pending.stamp);
  }
}
