// Ground-truth depth and label images → typed arrays: sensor_msgs/Image (32FC1 metres, 16UC1
// millimetres as REP 118 has it; mono8/16UC1 label ids) and single-channel PNGs (via OpenCV).

import { FatalError } from "../errors.js";
import type { Frame } from "../frame.js";
import { cv, matToUint16, matToUint8 } from "../imaging/opencv.js";
import type { Image } from "../messages/types.js";
import { decodePaletteIndices, pngColorType, PNG_COLOR_TYPE_PALETTE } from "./pngPalette.js";

/** cv::IMREAD_UNCHANGED: keep 16-bit and the channel count as stored. */
const IMREAD_UNCHANGED = -1;

/** Image encodings accepted as ground-truth depth. */
export const DEPTH_ENCODINGS = ["32FC1", "16UC1", "mono16"] as const;
/** Image encodings accepted as ground-truth labels. */
export const LABEL_ENCODINGS = ["mono8", "8UC1", "16UC1", "mono16"] as const;

/**
 * Ground-truth depth in metres from an Image: 32FC1 as is (NaN, 0 and negatives stay, and are
 * invalid to the metrics), 16UC1/mono16 as millimetres (÷1000; 0, "no measurement", becomes NaN).
 * Honours `step` (row padding) and `is_bigendian`.
 */
export function depthFromImage(msg: Image, what: string): Float32Array {
  const { width, height, step, data } = msg;
  const bytes = msg.encoding === "32FC1" ? 4 : msg.encoding === "16UC1" || msg.encoding === "mono16" ? 2 : 0;
  if (bytes === 0) {
    throw new FatalError(`${what}: depth encoding "${msg.encoding}" is not supported (expected ${DEPTH_ENCODINGS.join(", ")})`);
  }
  checkImageLayout(msg, bytes, what);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = msg.is_bigendian === 0;
  const out = new Float32Array(width * height);
  for (let v = 0; v < height; v++) {
    const row = v * step;
    for (let u = 0; u < width; u++) {
      if (bytes === 4) {
        out[v * width + u] = view.getFloat32(row + 4 * u, little);
      } else {
        const mm = view.getUint16(row + 2 * u, little);
        out[v * width + u] = mm === 0 ? NaN : mm / 1000;
      }
    }
  }
  return out;
}

/** Ground-truth label ids from a mono8/8UC1 or 16UC1/mono16 Image. */
export function labelsFromImage(msg: Image, what: string): Uint16Array {
  const { width, height, step, data } = msg;
  const bytes = msg.encoding === "mono8" || msg.encoding === "8UC1" ? 1 : msg.encoding === "16UC1" || msg.encoding === "mono16" ? 2 : 0;
  if (bytes === 0) {
    throw new FatalError(`${what}: label encoding "${msg.encoding}" is not supported (expected ${LABEL_ENCODINGS.join(", ")})`);
  }
  checkImageLayout(msg, bytes, what);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = msg.is_bigendian === 0;
  const out = new Uint16Array(width * height);
  for (let v = 0; v < height; v++) {
    const row = v * step;
    for (let u = 0; u < width; u++) {
      out[v * width + u] = bytes === 1 ? data[row + u]! : view.getUint16(row + 2 * u, little);
    }
  }
  return out;
}

function checkImageLayout(msg: Image, bytesPerPixel: number, what: string): void {
  const { width, height, step, data } = msg;
  if (width === 0 || height === 0) throw new FatalError(`${what}: image is ${width}x${height}`);
  if (step < width * bytesPerPixel || step * height > data.length) {
    throw new FatalError(
      `${what}: step ${step} and ${data.length} bytes do not hold ${width}x${height} ${msg.encoding} pixels`,
    );
  }
}

export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  /** 8 or 16. */
  readonly bits: number;
  readonly data: Uint8Array | Uint16Array;
}

/** A single-channel 8- or 16-bit PNG, as stored (cv.imdecode with IMREAD_UNCHANGED). */
export function decodeSingleChannelPng(bytes: Uint8Array, what: string): DecodedPng {
  const cvm = cv();
  let mat;
  try {
    mat = cvm.imdecode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), IMREAD_UNCHANGED);
  } catch (error) {
    throw new FatalError(`${what}: cannot decode: ${(error as Error).message}`);
  }
  if (mat.empty || mat.rows === 0 || mat.cols === 0) throw new FatalError(`${what}: not a decodable image`);
  if (mat.channels !== 1) {
    throw new FatalError(`${what}: has ${mat.channels} channels; expected a single-channel (grey) image`);
  }
  if (mat.depth === cvm.CV_16U) return { width: mat.cols, height: mat.rows, bits: 16, data: matToUint16(mat) };
  if (mat.depth === cvm.CV_8U) return { width: mat.cols, height: mat.rows, bits: 8, data: matToUint8(mat) };
  throw new FatalError(`${what}: pixel type is not 8- or 16-bit unsigned (OpenCV depth ${mat.depth})`);
}

/**
 * How a depth PNG's 16-bit values are stored: plain, or SUN RGB-D's bit rotation by 3 (its
 * toolbox reads `bitor(bitshift(depth, -3), bitshift(depth, 16 - 3))`, i.e. the value rotated
 * right by 3 bits, then / 1000 for metres).
 */
export type DepthPngEncoding = "plain" | "sunrgbd-rotated";

/** Folder ground truth: a 16-bit PNG whose (decoded) value / depthScale is metres, 0 invalid (NaN). */
export function depthFromPng(
  bytes: Uint8Array,
  depthScale: number,
  what: string,
  encoding: DepthPngEncoding = "plain",
): { width: number; height: number; depth: Float32Array } {
  const png = decodeSingleChannelPng(bytes, what);
  if (png.bits !== 16) throw new FatalError(`${what}: depth PNG is ${png.bits}-bit; expected 16-bit`);
  const depth = new Float32Array(png.data.length);
  const rotated = encoding === "sunrgbd-rotated";
  for (let i = 0; i < depth.length; i++) {
    const stored = png.data[i]!;
    const v = rotated ? ((stored >> 3) | (stored << 13)) & 0xffff : stored;
    depth[i] = v === 0 ? NaN : v / depthScale;
  }
  return { width: png.width, height: png.height, depth };
}

/**
 * Folder ground truth: an 8- or 16-bit single-channel PNG of class ids, or a palette PNG whose
 * palette indices are the ids (read by pngPalette.ts: OpenCV would return the palette colours).
 */
export function labelsFromPng(bytes: Uint8Array, what: string): { width: number; height: number; labels: Uint16Array } {
  if (pngColorType(bytes) === PNG_COLOR_TYPE_PALETTE) {
    const { width, height, indices } = decodePaletteIndices(bytes, what);
    return { width, height, labels: Uint16Array.from(indices) };
  }
  const png = decodeSingleChannelPng(bytes, what);
  return { width: png.width, height: png.height, labels: png.data instanceof Uint16Array ? png.data : Uint16Array.from(png.data) };
}

/** Ground truth must be pixel-aligned with the camera image: same width and height. */
export function checkGroundTruthSize(
  what: string,
  frame: Frame,
  kind: "depth" | "labels",
  width: number,
  height: number,
): void {
  const { width: w, height: h } = frame.image;
  if (width !== w || height !== h) {
    throw new FatalError(`${what}: ground-truth ${kind} is ${width}x${height} but the image is ${w}x${h}`);
  }
}
