// Ingest side: sensor_msgs Image/CameraInfo <-> domain types. Pure, typed arrays only.

import { FrameError } from "../errors.js";
import type { CameraCalibration, RgbImage } from "../frame.js";
import type { CameraInfo, Header, Image } from "./types.js";

interface PixelLayout {
  readonly channels: 1 | 3 | 4;
  /** Byte index within a pixel of R, G, B (all 0 for mono). */
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

const RGB: PixelLayout = { channels: 3, r: 0, g: 1, b: 2 };
const BGR: PixelLayout = { channels: 3, r: 2, g: 1, b: 0 };
const RGBA: PixelLayout = { channels: 4, r: 0, g: 1, b: 2 };
const BGRA: PixelLayout = { channels: 4, r: 2, g: 1, b: 0 };
const MONO: PixelLayout = { channels: 1, r: 0, g: 0, b: 0 };

// The generic OpenCV encodings carry no colour order; cv_bridge and OpenCV treat 3/4-channel
// buffers as BGR/BGRA, so we do too (8UC1 is plain grey).
const LAYOUTS: Readonly<Record<string, PixelLayout>> = {
  rgb8: RGB,
  bgr8: BGR,
  rgba8: RGBA,
  bgra8: BGRA,
  mono8: MONO,
  "8UC1": MONO,
  "8UC3": BGR,
  "8UC4": BGRA,
};

export const SUPPORTED_IMAGE_ENCODINGS: readonly string[] = Object.keys(LAYOUTS);

/**
 * Converts an 8-bit Image to tightly packed RGB. Always copies: the result owns its buffer
 * (it may be transferred to the inference worker), and rows may be padded (step > width*ch).
 * Alpha is dropped; mono is replicated to R=G=B. is_bigendian is irrelevant for 8-bit data.
 */
export function imageToRgb(msg: Image): RgbImage {
  const { width, height, step, data } = msg;
  if (width === 0 || height === 0) {
    throw new FrameError("empty_image", `image is ${width}x${height}`);
  }
  const layout = LAYOUTS[msg.encoding];
  if (layout === undefined) {
    throw new FrameError(
      "unknown_encoding",
      `encoding "${msg.encoding}" is not supported; supported: ${SUPPORTED_IMAGE_ENCODINGS.join(", ")}`,
    );
  }
  const rowBytes = width * layout.channels;
  if (step < rowBytes) {
    throw new FrameError(
      "image_size_mismatch",
      `step ${step} < width ${width} * ${layout.channels} channels = ${rowBytes} (${msg.encoding})`,
    );
  }
  if (step * height !== data.length) {
    throw new FrameError(
      "image_size_mismatch",
      `step ${step} * height ${height} = ${step * height} != data length ${data.length} (${msg.encoding})`,
    );
  }
  const out = new Uint8Array(width * height * 3);
  if (layout === RGB && step === rowBytes) {
    out.set(data);
  } else {
    convertRows(data, out, width, height, step, layout);
  }
  return { width, height, data: out };
}

function convertRows(
  src: Uint8Array,
  dst: Uint8Array,
  width: number,
  height: number,
  step: number,
  layout: PixelLayout,
): void {
  const { channels, r, g, b } = layout;
  let o = 0;
  for (let y = 0; y < height; y++) {
    let i = y * step;
    for (let x = 0; x < width; x++, i += channels) {
      dst[o++] = src[i + r]!;
      dst[o++] = src[i + g]!;
      dst[o++] = src[i + b]!;
    }
  }
}

/** Field-for-field copy of CameraInfo into the domain type; validation is geometry's job. */
export function cameraInfoToCalibration(msg: CameraInfo): CameraCalibration {
  return {
    width: msg.width,
    height: msg.height,
    distortionModel: msg.distortion_model,
    d: Array.from(msg.d),
    k: Array.from(msg.k),
    r: Array.from(msg.r),
    p: Array.from(msg.p),
    binningX: msg.binning_x,
    binningY: msg.binning_y,
    roi: {
      xOffset: msg.roi.x_offset,
      yOffset: msg.roi.y_offset,
      height: msg.roi.height,
      width: msg.roi.width,
      doRectify: msg.roi.do_rectify,
    },
  };
}

/** Inverse of cameraInfoToCalibration, with the given header. k/r/p must have 9/9/12 entries. */
export function calibrationToCameraInfo(header: Header, cal: CameraCalibration): CameraInfo {
  requireLength("k", cal.k, 9);
  requireLength("r", cal.r, 9);
  requireLength("p", cal.p, 12);
  return {
    header,
    height: cal.height,
    width: cal.width,
    distortion_model: cal.distortionModel,
    d: Float64Array.from(cal.d),
    k: Float64Array.from(cal.k),
    r: Float64Array.from(cal.r),
    p: Float64Array.from(cal.p),
    binning_x: cal.binningX,
    binning_y: cal.binningY,
    roi: {
      x_offset: cal.roi.xOffset,
      y_offset: cal.roi.yOffset,
      height: cal.roi.height,
      width: cal.roi.width,
      do_rectify: cal.roi.doRectify,
    },
  };
}

function requireLength(name: string, values: readonly number[], length: number): void {
  if (values.length !== length) {
    throw new RangeError(`CameraCalibration.${name} has ${values.length} entries, CameraInfo needs ${length}`);
  }
}
