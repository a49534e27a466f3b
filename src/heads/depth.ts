// Model depth output -> metres along the optical axis, NaN where there is no valid depth.

import type { DepthKind } from "../frame.js";

const FLOAT32_MAX = 3.4028234663852886e38;

export interface MetricDepthOptions {
  /** Relative kinds: multiplier applied to the raw output. Ignored for metric heads. */
  readonly scale: number;
  /** Relative kinds: offset added after scaling. Ignored for metric heads. */
  readonly shift: number;
  /** Depths beyond this (metres) become NaN, for every kind. */
  readonly maxDepth?: number;
  /** Metric kind: multiplier of the raw output (a canonical-camera model's f / canonical_focal). Default 1. */
  readonly metricScale?: number;
}

/**
 * f / canonical_focal for a canonical-camera model: f is the mean of fx and fy of the image as
 * resized to the model input (the resolution the network saw), as Depth Anything 3 and
 * Metric3D define it.
 */
export function canonicalFocalScale(
  intrinsics: { readonly fx: number; readonly fy: number; readonly width: number; readonly height: number },
  modelWidth: number,
  modelHeight: number,
  canonicalFocal: number,
): number {
  const fx = intrinsics.fx * (modelWidth / intrinsics.width);
  const fy = intrinsics.fy * (modelHeight / intrinsics.height);
  return (fx + fy) / 2 / canonicalFocal;
}

/**
 * Converts a raw depth head output to metric depth in one pass:
 * - metric: the output already is metres (times metricScale, for canonical-camera models);
 * - relative_depth: z = scale·raw + shift;
 * - relative_disparity: z = 1 / (scale·raw + shift).
 * Whatever is non-finite or ≤ 0 becomes NaN, and so does anything beyond maxDepth when given: a
 * metric head cannot see past the range it was trained on, so values there are extrapolation.
 * A disparity ≤ 0 would be a point at or beyond infinity; REP 117 allows +Inf for "too far", but
 * we publish NaN for every invalid depth so consumers need one test only.
 * `out` may be `raw` itself (in place) or another buffer of the same length.
 */
export function toMetricDepth(
  raw: Float32Array,
  kind: DepthKind,
  opts: MetricDepthOptions,
  out?: Float32Array,
): Float32Array {
  const { scale, shift } = opts;
  if (!Number.isFinite(scale) || !Number.isFinite(shift)) {
    throw new RangeError(`toMetricDepth: scale (${scale}) and shift (${shift}) must be finite`);
  }
  if (kind !== "metric" && scale === 0) {
    throw new RangeError(`toMetricDepth: scale must be non-zero for ${kind} output`);
  }
  const maxDepth = opts.maxDepth ?? Infinity;
  if (!(maxDepth > 0)) throw new RangeError(`toMetricDepth: maxDepth must be > 0, got ${maxDepth}`);
  const dst = out ?? new Float32Array(raw.length);
  if (dst.length !== raw.length) {
    throw new RangeError(`toMetricDepth: out has ${dst.length} values, raw has ${raw.length}`);
  }
  const n = raw.length;
  // One comparison pair per value: `z > 0 && z <= limit` is false for NaN, ≤ 0, +Inf, and for
  // values that would overflow to Inf when stored as float32.
  const limit = Math.min(maxDepth, FLOAT32_MAX);
  // Number.NaN, not the global NaN: in `cond ? z : NaN` Node 20's optimised code boxed z into a
  // new heap number per value (~1 MiB of garbage per 320x240 call, measured); Number.NaN folds
  // to a constant.
  switch (kind) {
    case "metric": {
      const k = opts.metricScale ?? 1;
      if (!(k > 0 && Number.isFinite(k))) throw new RangeError(`toMetricDepth: metricScale must be finite and > 0, got ${k}`);
      for (let i = 0; i < n; i++) {
        const z = k * raw[i]!;
        dst[i] = z > 0 && z <= limit ? z : Number.NaN;
      }
      break;
    }
    case "relative_depth":
      for (let i = 0; i < n; i++) {
        const z = scale * raw[i]! + shift;
        dst[i] = z > 0 && z <= limit ? z : Number.NaN;
      }
      break;
    case "relative_disparity":
      for (let i = 0; i < n; i++) {
        const d = scale * raw[i]! + shift;
        // d ≤ 0 or NaN gives z ≤ 0, -Inf or NaN; d = +Inf gives z = 0: all fail the test.
        const z = 1 / d;
        dst[i] = z > 0 && z <= limit ? z : Number.NaN;
      }
      break;
    default: {
      const never: never = kind;
      throw new RangeError(`toMetricDepth: unknown depth kind ${String(never)}`);
    }
  }
  return dst;
}

/**
 * Share of a raw depth output that converts to a finite depth > 0 (max_depth aside): what is not
 * NaN, ±Inf, or a depth or disparity ≤ 0. Far scenery beyond max_depth counts as valid here: a
 * low share means the model itself is broken (a bad export, float16 overflow, wrong input
 * normalisation), not that it looks at something far away.
 */
export function validDepthFraction(raw: Float32Array, kind: DepthKind, opts: Pick<MetricDepthOptions, "scale" | "shift">): number {
  const n = raw.length;
  if (n === 0) return 0;
  const { scale, shift } = opts;
  let valid = 0;
  switch (kind) {
    case "metric":
      for (let i = 0; i < n; i++) {
        const z = raw[i]!;
        if (z > 0 && z < Infinity) valid++;
      }
      break;
    case "relative_depth":
      for (let i = 0; i < n; i++) {
        const z = scale * raw[i]! + shift;
        if (z > 0 && z < Infinity) valid++;
      }
      break;
    case "relative_disparity":
      for (let i = 0; i < n; i++) {
        const z = 1 / (scale * raw[i]! + shift);
        if (z > 0 && z < Infinity) valid++;
      }
      break;
  }
  return valid / n;
}

/**
 * Sky pixels -> NaN depth, in place: where the sky map is >= threshold, or not a number (Depth
 * Anything 3: compute_sky_mask's `sky < threshold` is "not sky", so NaN is sky there too). The
 * depth head puts the sky at some arbitrary far distance (upstream overwrites it with the 99th
 * percentile of the other depths); published as NaN it is "no depth" instead of a wall.
 * Returns how many pixels became sky.
 */
export function maskSky(depth: Float32Array, sky: Float32Array, threshold: number): number {
  if (sky.length !== depth.length) {
    throw new RangeError(`maskSky: sky has ${sky.length} values, depth has ${depth.length}`);
  }
  if (!(threshold > 0 && Number.isFinite(threshold))) throw new RangeError(`maskSky: threshold must be finite and > 0, got ${threshold}`);
  let masked = 0;
  for (let i = 0; i < depth.length; i++) {
    if (!(sky[i]! < threshold)) {
      depth[i] = NaN;
      masked++;
    }
  }
  return masked;
}
