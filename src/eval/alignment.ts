// Per-frame alignment of a prediction to the ground truth, for models whose depth is only known
// up to scale (or scale and shift). Fitted on the pixels the metrics score (see depthMetrics.ts:
// valid ground truth within the range and a valid prediction), then applied to every pixel.
//
// - none:        the prediction as it is.
// - median:      p ← p · median(g) / median(p) (median scaling, as in SfMLearner / Monodepth2).
// - scale-shift: least squares in disparity space, as in the MiDaS / Depth Anything zero-shot
//   protocol (MiDaS compute_scale_and_shift, from gist ranftlr/a1c7a24ebb24ce0e2f2ace5bce917022):
//   with x = 1/p and y = 1/g, (s, t) = argmin Σ (s·x + t − y)², then the aligned disparity is
//   a = s·x + t and p ← 1/a. The same gist (its BadPixelMetric / DispToDepth) caps depth at the
//   dataset's maximum: `prediction_aligned[prediction_aligned < 1/depth_cap] = 1/depth_cap`. We do
//   that when the evaluation range has a finite maximum (so a ≤ 0 becomes the maximum depth, not
//   a negative depth); without one, a ≤ 0 (a point at or beyond infinity) is an invalid prediction.
//
// The pipeline hands us metres, so the fit inverts them back to disparity. For a relative_disparity
// model that is exactly what the network produced up to the affine map of depth.scale/depth.shift
// (1/z = scale·raw + shift), and an affine least-squares fit is unchanged by an affine change of
// its input, so fitting 1/z gives the same aligned depth as fitting the raw output; only pixels
// where scale·raw + shift ≤ 0 differ, and the pipeline has already marked those invalid. For a
// relative_depth model the fit is still made on 1/z, as the protocol prescribes.

import {
  classifyPixels,
  PIXEL_EVALUATED,
  type DepthArray,
  type DepthRange,
} from "./depthMetrics.js";

export type AlignMode = "none" | "median" | "scale-shift";
export const ALIGN_MODES: readonly AlignMode[] = ["none", "median", "scale-shift"];

export interface Alignment {
  /** The aligned prediction (the input itself for "none"). */
  readonly depth: DepthArray;
  /** median: the factor; scale-shift: s (disparity space); none: 1. NaN when the fit failed. */
  readonly scale: number;
  /** scale-shift: t (disparity space, 1/m); otherwise 0. NaN when the fit failed. */
  readonly shift: number;
  /** Pixels the fit used. */
  readonly fitPixels: number;
}

export function alignDepth(mode: AlignMode, pred: DepthArray, gt: DepthArray, range: DepthRange): Alignment {
  switch (mode) {
    case "none":
      return { depth: pred, scale: 1, shift: 0, fitPixels: 0 };
    case "median":
      return alignMedian(pred, gt, range);
    case "scale-shift":
      return alignScaleShift(pred, gt, range);
    default: {
      const never: never = mode;
      throw new RangeError(`unknown alignment ${String(never)}`);
    }
  }
}

/**
 * p ← p · median(g) / median(p) over the scored pixels. Median of an even count is the mean of
 * the two middle values (as numpy.median). No scored pixel: scale NaN and an all-NaN result.
 */
export function alignMedian(pred: DepthArray, gt: DepthArray, range: DepthRange): Alignment {
  const { codes, counts } = classifyPixels(pred, gt, range);
  const p = new Float64Array(counts.evaluated);
  const g = new Float64Array(counts.evaluated);
  for (let i = 0, j = 0; i < codes.length; i++) {
    if (codes[i] !== PIXEL_EVALUATED) continue;
    p[j] = pred[i]!;
    g[j++] = gt[i]!;
  }
  const scale = counts.evaluated > 0 ? median(g) / median(p) : NaN;
  const depth = new Float64Array(pred.length);
  for (let i = 0; i < pred.length; i++) depth[i] = pred[i]! * scale;
  return { depth, scale, shift: 0, fitPixels: counts.evaluated };
}

/**
 * Least-squares scale and shift in disparity space (see the top of this file). Fewer than two
 * distinct disparities cannot fix both: scale and shift NaN, and an all-NaN result.
 */
export function alignScaleShift(pred: DepthArray, gt: DepthArray, range: DepthRange): Alignment {
  const { codes, counts } = classifyPixels(pred, gt, range);
  const x = new Float64Array(counts.evaluated);
  const y = new Float64Array(counts.evaluated);
  for (let i = 0, j = 0; i < codes.length; i++) {
    if (codes[i] !== PIXEL_EVALUATED) continue;
    x[j] = 1 / pred[i]!;
    y[j++] = 1 / gt[i]!;
  }
  const { scale, shift } = fitScaleShift(x, y);
  const depth = new Float64Array(pred.length);
  // MiDaS caps depth at the evaluation maximum (1/a floored at 1/max); with no maximum, a ≤ 0 is invalid.
  const minDisparity = Number.isFinite(range.max) ? 1 / range.max : 0;
  const capped = minDisparity > 0;
  for (let i = 0; i < pred.length; i++) {
    let a = scale / pred[i]! + shift;
    if (capped && a < minDisparity) a = minDisparity; // NaN stays NaN
    depth[i] = a > 0 ? 1 / a : NaN;
  }
  return { depth, scale, shift, fitPixels: counts.evaluated };
}

/**
 * (s, t) minimising Σ (s·x_i + t − y_i)². Solved in centred form (s = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²,
 * t = ȳ − s·x̄), the same solution as MiDaS' 2x2 normal equations with less cancellation.
 * NaN, NaN when all x are equal (or there are fewer than two).
 */
export function fitScaleShift(x: ArrayLike<number>, y: ArrayLike<number>): { scale: number; shift: number } {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`fitScaleShift: ${n} x values, ${y.length} y values`);
  if (n < 2) return { scale: NaN, shift: NaN };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i]!;
    sy += y[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    sxx += dx * dx;
    sxy += dx * (y[i]! - my);
  }
  if (!(sxx > 0)) return { scale: NaN, shift: NaN };
  const scale = sxy / sxx;
  return { scale, shift: my - scale * mx };
}

/** Median of the values (sorts `values` in place); NaN when empty. */
export function median(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  values.sort();
  const mid = n >> 1;
  return n % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}
