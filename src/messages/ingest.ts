// Ingest edge: camera messages → Frame. Validation failures become FrameErrors that name the
// topic and stamp, so the run can count them and go on.

import { performance } from "node:perf_hooks";
import type { CameraCalibration, Frame, Stamp } from "../frame.js";
import { FrameError } from "../errors.js";
import { decodeCompressedImage } from "../imaging/decode.js";
import { hasDistortion, rectifyRgb, uncoveredPixels } from "../imaging/undistort.js";
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

export interface DecodeOptions {
  /**
   * Undistort the image with its CameraInfo (K, D, R, P) before anything else sees it, as
   * image_proc's rectify does (parameter `rectify`). The calibration stays as it is: by ROS
   * convention a rectified image shares the raw stream's CameraInfo and is described by P.
   */
  readonly rectify?: boolean;
  /** A buffer the decoded rgb8 pixels of a compressed image may go into (used when its size fits). */
  readonly out?: Uint8Array;
}

/** builtin_interfaces/Time.nanosec is below one second. */
const NANOSECONDS_PER_SECOND = 1_000_000_000;

/**
 * Refuses a header stamp that ROS itself would not make: nanosec ≥ 1e9 (rclcpp normalises it
 * into sec; read as-is it would be printed 100.1500000000 and pair with the wrong CameraInfo), or a
 * negative sec (rclcpp::Time cannot hold one). Throws FrameError("invalid_stamp").
 */
export function checkStamp(stamp: Stamp): void {
  const { sec, nanosec } = stamp;
  if (!Number.isInteger(nanosec) || nanosec < 0 || nanosec >= NANOSECONDS_PER_SECOND) {
    throw new FrameError("invalid_stamp", `header.stamp has sec ${sec}, nanosec ${nanosec}: nanosec must be in 0..999999999`);
  }
  if (!Number.isInteger(sec) || sec < 0) {
    throw new FrameError("invalid_stamp", `header.stamp has sec ${sec}, nanosec ${nanosec}: sec must not be negative`);
  }
}

/** Decodes and validates one paired image; throws FrameError naming topic and stamp. */
export function decodeFrame(
  pending: PendingImage,
  calibration: CameraCalibration,
  options: DecodeOptions = {},
): DecodedFrame {
  const t0 = performance.now();
  try {
    const decoded =
      pending.image.encoding === "raw"
        ? imageToRgb(pending.image.message)
        : decodeCompressedImage(pending.image.message.format, pending.image.message.data, {
            // Before decoding: a header claiming a huge image must not get its memory first.
            checkSize: (width, height) => checkCalibrationMatchesImage(calibration, width, height),
            ...(options.out ? { out: options.out } : {}),
          });
    checkCalibrationMatchesImage(calibration, decoded.width, decoded.height);
    // A CameraInfo of unset size (0x0, accepted above as "unknown") describes this image.
    const intrinsics = intrinsicsFromCalibration(calibration, decoded.width, decoded.height);
    const image = options.rectify ? rectifyRgb(decoded, calibration) : decoded;
    const frame: Frame = {
      cameraTopic: pending.cameraTopic,
      stamp: pending.stamp,
      frameId: pending.frameId,
      image,
      calibration,
      intrinsics,
      ...(options.rectify ? { uncovered: uncoveredPixels(calibration, image.width, image.height) } : {}),
    };
    return { frame, decodeMs: performance.now() - t0 };
  } catch (error) {
    if (error instanceof FrameError) throw error.at(pending.cameraTopic, pending.stamp);
    throw new FrameError("decode_failed", (error as Error).message, pending.cameraTopic, pending.stamp);
  }
}

/**
 * The warning for a calibration with lens distortion used without rectification, or undefined
 * when D is all zero (a rectified stream, or an undistorted camera).
 */
export function unrectifiedDistortionWarning(cameraTopic: string, calibration: CameraCalibration): string | undefined {
  if (!hasDistortion(calibration)) return undefined;
  const model = calibration.distortionModel || "unnamed";
  return (
    `${cameraTopic}: CameraInfo has ${model} distortion but rectify is false: depth is back-projected ` +
    "with the pinhole P model; set rectify: true if this is a raw (unrectified) image"
  );
}

export interface FrameDecoderOptions extends DecodeOptions {
  /** Where input warnings go (replay's log, a ROS logger); nothing is said without it. */
  readonly warn?: (line: string) => void;
}

/**
 * decodeFrame for one pipeline: rectifies when asked, and otherwise warns once per camera when
 * its CameraInfo has lens distortion (a raw image back-projected as if it were rectified).
 */
/**
 * By ROS convention an image_rect topic shares the raw stream's CameraInfo, D included, so a
 * distorted CameraInfo alone does not say the image is raw. A topic named like a rectified one
 * is probably rectified already: undistorting it again would bend it the other way.
 */
export function rectifiedTopicWarning(cameraTopic: string, calibration: CameraCalibration): string | undefined {
  if (!hasDistortion(calibration) || !/(^|\/)image_rect/.test(cameraTopic)) return undefined;
  return `${cameraTopic}: looks rectified already (image_rect) but rectify is true and its CameraInfo has distortion: ` +
    "the image is undistorted again; set rectify: false for rectified input";
}

/** Free decoded images kept for reuse: one per frame in flight is enough (max_in_flight is small). */
const MAX_FREE_IMAGES = 4;

export class FrameDecoder {
  readonly #warned = new Set<string>();
  readonly #free: Uint8Array[] = [];

  constructor(readonly options: FrameDecoderOptions = {}) {}

  decode(pending: PendingImage, calibration: CameraCalibration): DecodedFrame {
    if (!this.#warned.has(pending.cameraTopic)) {
      const warning = this.options.rectify ? rectifiedTopicWarning(pending.cameraTopic, calibration) : unrectifiedDistortionWarning(pending.cameraTopic, calibration);
      if (warning !== undefined) {
        this.#warned.add(pending.cameraTopic);
        this.options.warn?.(warning);
      }
    }
    const out = this.#free.pop();
    return decodeFrame(pending, calibration, { rectify: this.options.rectify ?? false, ...(out ? { out } : {}) });
  }

  /**
   * Gives a decoded frame's pixels back for a later decode to overwrite. Lifetime rule, as
   * FrameProcessor.release's: only once nothing reads `frame.image` any more.
   */
  recycle(frame: Frame): void {
    const data = frame.image.data;
    // Only whole buffers: a view could share its memory with something else.
    if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) return;
    if (this.#free.length < MAX_FREE_IMAGES && !this.#free.includes(data)) this.#free.push(data);
  }
}
