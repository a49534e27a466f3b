// Model input: resize the camera image to the model's input size, normalise, and lay it out as
// a planar NCHW float tensor.

import type { RgbImage } from "../frame.js";
import { resizeRgb, resizeRgbFloat, type Interpolation } from "../imaging/resize.js";

/**
 * What the resize works on: the camera's 8-bit image (`uint8`, rounded back to 8 bits, then
 * normalised), or the image as 0..1 floats (`float`: `image / 255` resized in float, then
 * normalised -- Depth Anything V2's infer_image, which cv2.resize-s `image / 255.0`).
 */
export type ResizeOn = "uint8" | "float";

/** What the model expects of its image input; a bundle's InputSpec is structurally compatible. */
export interface PreprocessSpec {
  /** Target height (a lower bound for keep_aspect_lower_bound). */
  readonly height: number;
  /** Target width (a lower bound for keep_aspect_lower_bound). */
  readonly width: number;
  /** Both sides are made multiples of this (ViT patch size, e.g. 14). */
  readonly multipleOf: number;
  readonly resize: "keep_aspect_lower_bound" | "stretch";
  readonly interpolation: Interpolation;
  /** Default "uint8". */
  readonly resizeOn?: ResizeOn;
  /** Per-channel mean and std in R, G, B order, on the 0..1 scale. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** Channel order of the tensor planes. */
  readonly color: "rgb" | "bgr";
}

export interface InputTensor {
  readonly data: Float32Array;
  readonly dims: [1, 3, number, number];
}

/** numpy's np.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Nearest multiple of m, but never below `min` (then the next multiple up), as Depth Anything's
 * Resize.constrain_to_multiple_of with min_val.
 */
function constrainToMultiple(x: number, m: number, min: number): number {
  let y = roundHalfEven(x / m) * m;
  if (y < min) y = Math.ceil(x / m) * m;
  return y;
}

/**
 * Model input size for a source image, following Depth Anything V2's Resize(width, height,
 * keep_aspect_ratio, ensure_multiple_of, resize_method="lower_bound"):
 * - keep_aspect_lower_bound: scale = max(height/srcH, width/srcW), so both sides reach the target
 *   with the aspect kept; each side is then rounded to the nearest multiple, or up if that falls
 *   below the target. E.g. 640x480 -> 518 /14: scale 518/480, 690.67x518 -> 686x518.
 * - stretch: the target size itself, under the same rounding rule (i.e. rounded up to a multiple).
 */
export function modelInputSize(
  srcWidth: number,
  srcHeight: number,
  spec: Pick<PreprocessSpec, "width" | "height" | "multipleOf" | "resize">,
): { width: number; height: number } {
  const { width, height, multipleOf: m } = spec;
  if (!(srcWidth > 0 && srcHeight > 0)) throw new RangeError(`modelInputSize: empty source ${srcWidth}x${srcHeight}`);
  if (!(Number.isInteger(m) && m >= 1)) throw new RangeError(`modelInputSize: multipleOf must be an integer >= 1, got ${m}`);
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new RangeError(`modelInputSize: target must be positive integers, got ${width}x${height}`);
  }
  let scaleW = width / srcWidth;
  let scaleH = height / srcHeight;
  if (spec.resize === "keep_aspect_lower_bound") {
    // Same comparison as the reference, so which side "fits" matches in ties as well.
    if (scaleW > scaleH) scaleH = scaleW;
    else scaleW = scaleH;
  }
  return {
    width: constrainToMultiple(scaleW * srcWidth, m, width),
    height: constrainToMultiple(scaleH * srcHeight, m, height),
  };
}

/**
 * Resizes `rgb` to the model input size (OpenCV, spec.interpolation) and writes
 * (v/255 − mean)/std into planar NCHW in one pass, planes in `spec.color` order. The per-channel
 * affine map is a 256-entry table per channel, computed in double precision like the numpy
 * reference and rounded once to float32. `out` (3·h·w floats) and `resized` (h·w·3 bytes) are
 * reused when given; with resize_on float, `floatImage` (the camera's W·H·3 floats) and
 * `floatResized` (h·w·3 floats) instead of `resized`: per-frame arrays of megabytes are external
 * memory to V8, and allocating them each frame forces full GCs.
 */
export function toInputTensor(
  rgb: RgbImage,
  spec: PreprocessSpec,
  buffers: { out?: Float32Array; resized?: Uint8Array; floatImage?: Float32Array; floatResized?: Float32Array } = {},
): InputTensor {
  const { width, height } = modelInputSize(rgb.width, rgb.height, spec);
  const n = width * height;
  const data = buffers.out ?? new Float32Array(3 * n);
  if (data.length !== 3 * n) throw new RangeError(`toInputTensor: out has ${data.length} floats, need ${3 * n}`);
  if (spec.resizeOn === "float") {
    writeFloatResized(rgb, width, height, spec, data, buffers.floatImage, buffers.floatResized);
    return { data, dims: [1, 3, height, width] };
  }
  const img = resizeRgb(rgb, width, height, spec.interpolation, buffers.resized);

  const lut = normalisationTable(spec);
  // Plane offsets of R, G and B in the output.
  const [pr, pg, pb] = spec.color === "rgb" ? [0, n, 2 * n] : [2 * n, n, 0];
  const src = img.data;
  for (let i = 0, s = 0; i < n; i++, s += 3) {
    data[pr + i] = lut[src[s]!]!;
    data[pg + i] = lut[256 + src[s + 1]!]!;
    data[pb + i] = lut[512 + src[s + 2]!]!;
  }
  return { data, dims: [1, 3, height, width] };
}

/** resizeOn "float": (resize(rgb / 255) − mean) / std into planar `out`, in `spec.color` order. */
function writeFloatResized(
  rgb: RgbImage,
  width: number,
  height: number,
  spec: PreprocessSpec,
  out: Float32Array,
  floatImage?: Float32Array,
  floatResized?: Float32Array,
): void {
  const length = rgb.width * rgb.height * 3;
  const source = floatImage?.length === length ? floatImage : new Float32Array(length);
  for (let i = 0; i < source.length; i++) source[i] = rgb.data[i]! / 255;
  const resized = resizeRgbFloat(source, rgb.width, rgb.height, width, height, spec.interpolation, floatResized?.length === width * height * 3 ? floatResized : undefined);
  const n = width * height;
  const planes = spec.color === "rgb" ? [0, n, 2 * n] : [2 * n, n, 0];
  for (let c = 0; c < 3; c++) {
    const mean = spec.mean[c]!;
    const std = spec.std[c]!;
    if (!(Number.isFinite(mean) && Number.isFinite(std) && std !== 0)) {
      throw new RangeError(`toInputTensor: channel ${c} has mean ${mean}, std ${std}; need finite, std != 0`);
    }
    const plane = planes[c]!;
    for (let i = 0; i < n; i++) out[plane + i] = (resized[3 * i + c]! - mean) / std;
  }
}

// Keyed by the numbers themselves: specs are few and long-lived, tables are 3 KiB.
const tables = new Map<string, Float32Array>();

/** Three consecutive 256-float tables (R, G, B): value v -> (v/255 − mean)/std. */
function normalisationTable(spec: Pick<PreprocessSpec, "mean" | "std">): Float32Array {
  const key = `${spec.mean.join(",")}|${spec.std.join(",")}`;
  const cached = tables.get(key);
  if (cached) return cached;
  const lut = new Float32Array(768);
  for (let c = 0; c < 3; c++) {
    const mean = spec.mean[c]!;
    const std = spec.std[c]!;
    if (!(Number.isFinite(mean) && Number.isFinite(std) && std !== 0)) {
      throw new RangeError(`toInputTensor: channel ${c} has mean ${mean}, std ${std}; need finite, std != 0`);
    }
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - mean) / std;
  }
  tables.set(key, lut);
  return lut;
}
