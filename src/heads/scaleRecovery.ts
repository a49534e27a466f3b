// Metric scale for a relative (disparity) model from sparse metric anchors: LiDAR points, a
// depth camera with holes, a known camera height. A relative_disparity model outputs d with
// 1/z = s·d + t for an unknown s, t per image (affine-invariant inverse depth); depthseg's
// `depth.scale`/`depth.shift` are exactly s and t, so the fit is made where the model's output
// is linear: in inverse depth.
//
// Robustness: anchors from another sensor are wrong in places (LiDAR points on the far side of
// an edge seen from the camera, depth-camera speckle, glass). With two unknowns a RANSAC over
// pairs of anchors finds the consensus at any outlier share below a half, which least squares
// or IRLS started from least squares do not; the consensus is then refitted by least squares.
// Sampling is seeded, so a frame always gives the same estimate.

/** One frame's fit. */
export interface ScaleFit {
  readonly scale: number;
  readonly shift: number;
  /** Anchors within the inlier tolerance of the fit. */
  readonly inliers: number;
  readonly anchors: number;
  /** Median relative depth error |z_fit − z| / z of the inliers. */
  readonly residual: number;
}

export interface ScaleFitOptions {
  /** Inlier tolerance, relative in depth (0.05 = 5 %). */
  readonly tolerance?: number;
  /** RANSAC pairs tried. */
  readonly iterations?: number;
  readonly seed?: number;
}

/**
 * Fits 1/z ≈ scale·d + shift over anchors (d: model output at the anchor's pixel, z: its metres;
 * anchors with z or d not finite, or z ≤ 0, are skipped). Returns undefined when fewer than two
 * usable anchors remain or no pair gives a positive-depth fit.
 */
export function fitInverseDepth(disparity: Float32Array, anchorDepth: Float32Array, options: ScaleFitOptions = {}): ScaleFit | undefined {
  if (disparity.length !== anchorDepth.length) throw new RangeError(`fitInverseDepth: ${disparity.length} outputs for ${anchorDepth.length} anchors`);
  const tolerance = options.tolerance ?? 0.05;
  const iterations = options.iterations ?? 128;
  const d: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < disparity.length; i++) {
    const z = anchorDepth[i]!;
    const x = disparity[i]!;
    if (z > 0 && Number.isFinite(z) && Number.isFinite(x)) {
      d.push(x);
      w.push(1 / z);
    }
  }
  const n = d.length;
  if (n < 2) return undefined;
  // |1/ẑ − 1/z| ≤ tol·(1/z) is the same as a relative depth error of about tol.
  const isInlier = (s: number, t: number, k: number) => {
    const fitted = s * d[k]! + t;
    return fitted > 0 && Math.abs(fitted - w[k]!) <= tolerance * w[k]!;
  };
  let random = (options.seed ?? 1) >>> 0 || 1;
  const next = () => ((random = (Math.imul(random, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let best: { s: number; t: number; count: number } | undefined;
  for (let it = 0; it < iterations; it++) {
    const a = Math.floor(next() * n);
    const b = Math.floor(next() * n);
    if (a === b || d[a] === d[b]) continue;
    const s = (w[a]! - w[b]!) / (d[a]! - d[b]!);
    const t = w[a]! - s * d[a]!;
    if (!(s > 0)) continue; // larger disparity must mean nearer
    let count = 0;
    for (let k = 0; k < n; k++) if (isInlier(s, t, k)) count++;
    if (!best || count > best.count) best = { s, t, count };
  }
  if (!best) return undefined;
  // Least squares on the consensus, twice (the refit can take in a few more anchors).
  let { s, t } = best;
  for (let round = 0; round < 2; round++) {
    let sd = 0, sw = 0, sdd = 0, sdw = 0, m = 0;
    for (let k = 0; k < n; k++) {
      if (!isInlier(s, t, k)) continue;
      sd += d[k]!;
      sw += w[k]!;
      sdd += d[k]! * d[k]!;
      sdw += d[k]! * w[k]!;
      m++;
    }
    const det = m * sdd - sd * sd;
    if (m < 2 || !(Math.abs(det) > 0)) break;
    const s2 = (m * sdw - sd * sw) / det;
    const t2 = (sw - s2 * sd) / m;
    if (!(s2 > 0)) break;
    s = s2;
    t = t2;
  }
  const errors: number[] = [];
  for (let k = 0; k < n; k++) if (isInlier(s, t, k)) errors.push(Math.abs(w[k]! / (s * d[k]! + t) - 1));
  errors.sort((x, y) => x - y);
  return { scale: s, shift: t, inliers: errors.length, anchors: n, residual: errors.length ? errors[errors.length >> 1]! : NaN };
}

export interface ScaleEstimate {
  readonly scale: number;
  readonly shift: number;
  readonly inliers: number;
  readonly residual: number;
  /** Seconds since the anchors last gave a fit (0 when this frame's did). */
  readonly age: number;
  /** This frame had too few inliers: the estimate is the last good one. */
  readonly held: boolean;
  /** The estimate jumped to this frame's fit instead of being smoothed (first fit, or the scene changed). */
  readonly reset: boolean;
}

export interface ScaleFilterOptions {
  /** Time constant of the smoothing, seconds (0 = none: each frame's fit as it is). */
  readonly smoothing: number;
  /** Fewer inliers than this: keep the last estimate. */
  readonly minInliers: number;
  /**
   * The smoothed estimate is dropped for this frame's fit when, on this frame's anchors, its
   * median error is more than this many times the fit's (a new scene, not noise).
   */
  readonly resetFactor?: number;
}

/**
 * Per-camera temporal filter of the fits: exponential smoothing with time constant `smoothing`
 * of log(scale) and of shift/scale (the scale-free offset), so the published metres do not
 * jitter frame to frame; hold on missing anchors; reset when the fit jumps.
 */
export class ScaleFilter {
  #estimate: { scale: number; shift: number; inliers: number; residual: number } | undefined;
  #lastFitAt = 0;

  constructor(readonly options: ScaleFilterOptions) {}

  /** The estimate for a frame at `timeSec`, given its fit (undefined: no usable anchors). */
  update(timeSec: number, fit: ScaleFit | undefined, residualOf: (scale: number, shift: number) => number): ScaleEstimate | undefined {
    const previous = this.#estimate;
    if (!fit || fit.inliers < this.options.minInliers) {
      if (!previous) return undefined;
      return { ...previous, age: timeSec - this.#lastFitAt, held: true, reset: false };
    }
    const resetFactor = this.options.resetFactor ?? 3;
    // Both measured the same way, on this frame's anchors (outliers included): the fit's own
    // residual counts inliers only and would make every estimate look like a jump.
    const jumped =
      previous !== undefined &&
      residualOf(previous.scale, previous.shift) > resetFactor * Math.max(residualOf(fit.scale, fit.shift), 0.01);
    let scale = fit.scale;
    let shift = fit.shift;
    if (previous && !jumped && this.options.smoothing > 0) {
      const alpha = 1 - Math.exp(-Math.max(0, timeSec - this.#lastFitAt) / this.options.smoothing);
      const logScale = Math.log(previous.scale) + alpha * (Math.log(fit.scale) - Math.log(previous.scale));
      const offset = previous.shift / previous.scale + alpha * (fit.shift / fit.scale - previous.shift / previous.scale);
      scale = Math.exp(logScale);
      shift = offset * scale;
    }
    this.#estimate = { scale, shift, inliers: fit.inliers, residual: fit.residual };
    this.#lastFitAt = timeSec;
    return { scale, shift, inliers: fit.inliers, residual: fit.residual, age: 0, held: false, reset: previous === undefined || jumped };
  }
}

/** Median relative depth error of (scale, shift) on the anchors (what `residualOf` computes). */
export function relativeDepthError(disparity: Float32Array, anchorDepth: Float32Array, scale: number, shift: number): number {
  const errors: number[] = [];
  for (let i = 0; i < disparity.length; i++) {
    const z = anchorDepth[i]!;
    const x = disparity[i]!;
    if (!(z > 0 && Number.isFinite(z) && Number.isFinite(x))) continue;
    const fitted = 1 / (scale * x + shift);
    errors.push(fitted > 0 ? Math.abs(fitted - z) / z : Infinity);
  }
  errors.sort((a, b) => a - b);
  return errors.length ? errors[errors.length >> 1]! : NaN;
}
