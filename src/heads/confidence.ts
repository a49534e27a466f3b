// Per-pixel confidence in 0..1 (depth/confidence): the model's own when the bundle declares one
// (outputs.confidence), else derived from what the node knows about each pixel: whether it sits
// on a depth edge (where monocular models smear depth between foreground and background) and,
// when a scale source backs the metres, how well this frame's anchors agree with the fit.

import type { ConfidenceActivation } from "../inference/bundle.js";

/**
 * The model's confidence mapped onto 0..1 (in `out`, which may be `raw`): identity is clipped;
 * expp1 (c = 1 + exp(x)) becomes 1 - 1/c = sigmoid(x). NaN gives 0 (no evidence of trust).
 */
export function confidenceFromModel(raw: Float32Array, activation: ConfidenceActivation, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(raw.length);
  if (dst.length !== raw.length) throw new RangeError(`confidenceFromModel: out has ${dst.length} values, confidence has ${raw.length}`);
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    const unit = activation === "expp1" ? 1 - 1 / c : c;
    // Written so NaN (and expp1's c < 1, outside its activation's range) lands on 0.
    dst[i] = unit > 0 ? (unit < 1 ? unit : 1) : 0;
  }
  return dst;
}

/**
 * Relative depth step at which the edge term is one half: a pixel whose 3x3 neighbourhood spans
 * 10 % of its nearest depth. A floor seen at a grazing angle changes by a few per cent per pixel
 * at model resolution and keeps most of its confidence; an occlusion edge spans tens of per cent.
 */
export const DERIVED_EDGE_STEP = 0.1;

export interface DerivedConfidenceOptions {
  /** Relative 3x3 depth span at which the edge term is 0.5 (default DERIVED_EDGE_STEP). */
  readonly edgeStep?: number;
  /** A factor in 0..1 for every pixel, e.g. fitTrust of the scale fit (default 1). */
  readonly fitTrust?: number;
}

/**
 * Confidence of each pixel of a depth map (metres, NaN invalid): fitTrust / (1 + (s/edgeStep)^2)
 * with s = (max - min) / min of the finite depths in its 3x3 neighbourhood, so 1 on a flat
 * surface, falling off across an edge; 0 where the depth itself is not a finite value > 0.
 */
export function derivedConfidence(
  depth: Float32Array,
  width: number,
  height: number,
  options: DerivedConfidenceOptions = {},
  out?: Float32Array,
  /** 2·width·height values of working memory (allocated when absent). */
  scratch?: Float32Array,
): Float32Array {
  const pixels = width * height;
  if (depth.length !== pixels) throw new RangeError(`derivedConfidence: ${depth.length} depths for ${width}x${height}`);
  const edgeStep = options.edgeStep ?? DERIVED_EDGE_STEP;
  const trust = options.fitTrust ?? 1;
  if (!(edgeStep > 0 && Number.isFinite(edgeStep))) throw new RangeError(`derivedConfidence: edgeStep must be finite and > 0, got ${edgeStep}`);
  if (!(trust >= 0 && trust <= 1)) throw new RangeError(`derivedConfidence: fitTrust must be in 0..1, got ${trust}`);
  const dst = out ?? new Float32Array(pixels);
  if (dst === depth) throw new RangeError("derivedConfidence: out must not be the input");
  if (dst.length !== pixels) throw new RangeError(`derivedConfidence: out has ${dst.length} values, depth has ${depth.length}`);
  const work = scratch ?? new Float32Array(2 * pixels);
  if (work.length < 2 * pixels) throw new RangeError(`derivedConfidence: scratch has ${work.length} values, needs ${2 * pixels}`);
  // The 3x3 minimum and maximum are separable: first over each row's 3 neighbours, then over
  // 3 rows of those. A missing depth (NaN, <= 0, infinite) takes part in neither: it is no
  // evidence of an edge.
  const lo = work.subarray(0, pixels);
  const hi = work.subarray(pixels, 2 * pixels);
  for (let v = 0; v < height; v++) {
    const row = v * width;
    for (let u = 0; u < width; u++) {
      let mn = Infinity;
      let mx = -Infinity;
      const last = u < width - 1 ? u + 1 : u;
      for (let x = u > 0 ? u - 1 : u; x <= last; x++) {
        const n = depth[row + x]!;
        if (n > 0 && n < Infinity) {
          if (n < mn) mn = n;
          if (n > mx) mx = n;
        }
      }
      lo[row + u] = mn;
      hi[row + u] = mx;
    }
  }
  const scale = 1 / edgeStep;
  for (let v = 0; v < height; v++) {
    const above = v > 0 ? -width : 0;
    const below = v < height - 1 ? width : 0;
    for (let i = v * width, end = i + width; i < end; i++) {
      const z = depth[i]!;
      if (!(z > 0 && z < Infinity)) {
        dst[i] = 0;
        continue;
      }
      // The pixel itself is valid, so both are finite.
      const mn = Math.min(lo[i + above]!, lo[i]!, lo[i + below]!);
      const mx = Math.max(hi[i + above]!, hi[i]!, hi[i + below]!);
      const step = ((mx - mn) / mn) * scale;
      dst[i] = trust / (1 + step * step);
    }
  }
  return dst;
}

/**
 * How far this frame's scale fit is to be trusted, 0..1: 1 - residual / tolerance (the residual
 * is the median relative depth error of the inliers, each within `tolerance`), so 1 for anchors
 * that agree exactly and 0 when the typical anchor is at the inlier limit; 0 without a fit
 * (the metres are then not backed by anchors).
 */
export function fitTrust(residual: number | undefined, tolerance: number): number {
  if (residual === undefined || !(residual >= 0) || !(tolerance > 0)) return 0;
  return Math.max(0, 1 - residual / tolerance);
}
