// The standard monocular depth metrics (Eigen et al. 2014; as computed by the BTS, ZoeDepth and
// Depth Anything evaluation code). Pure: typed arrays in, numbers out.
//
// Which pixels count. A pixel is evaluated when
//   - its ground truth g is valid: finite and > 0 (0 or NaN is "no measurement"),
//   - and g lies in the evaluation range [min, max] (both ends inclusive, as Depth Anything V2's
//     metric_depth/train.py masks `depth >= min_depth & depth <= max_depth`),
//   - and the prediction p is finite and > 0 (NaN is what the pipeline publishes for "no depth").
// Pixels that pass the first two tests but fail the third are not scored; they are counted
// separately (`predInvalid`) so a model that abstains on many pixels is visible in the report.
// (ZoeDepth's compute_metrics instead clamps p into [min, max] and scores every pixel.)
//
// Definitions, over the N evaluated pixels, d = ln p − ln g:
//   AbsRel   = mean(|p − g| / g)
//   SqRel    = mean((p − g)² / g)
//   RMSE     = sqrt(mean((p − g)²))
//   RMSE log = sqrt(mean(d²))
//   log10    = mean(|log10 p − log10 g|)
//   SILog    = sqrt(mean(d²) − mean(d)²) · 100
//   δk       = fraction of pixels with max(p/g, g/p) < 1.25^k, k = 1, 2, 3
// SILog follows the KITTI benchmark / BTS / ZoeDepth convention: ZoeDepth's
// zoedepth/utils/misc.py compute_errors has `silog = np.sqrt(np.mean(err ** 2) - np.mean(err) ** 2) * 100`
// with err = log(pred) − log(gt), natural log. Note that Depth Anything V2's
// metric_depth/util/metric.py computes something else under the same name,
// sqrt(mean(d²) − 0.5·mean(d)²) without the ×100 (its training loss with λ = 0.5); numbers
// from the two are not comparable, and this module reports the former.
//
// Protocol "zoedepth" (zoeDepthMetrics) reproduces ZoeDepth's zoedepth/utils/misc.py
// compute_metrics instead: ground truth counts when min < g < max (strict), the prediction is
// clamped into [min, max] (NaN → min, +Inf → max) rather than dropped, and an optional crop
// (Eigen for NYU: rows 45:471, cols 41:601; Garg, or Eigen for KITTI, as fractions of the size)
// limits the pixels; the metrics are those of compute_errors, the same definitions as above.

export type DepthArray = Float32Array | Float64Array;

export interface DepthRange {
  /** Metres; inclusive. */
  readonly min: number;
  /** Metres; inclusive; Infinity for no upper limit. */
  readonly max: number;
}

export interface DepthMetrics {
  readonly absRel: number;
  readonly sqRel: number;
  readonly rmse: number;
  readonly rmseLog: number;
  readonly silog: number;
  readonly log10: number;
  readonly delta1: number;
  readonly delta2: number;
  readonly delta3: number;
}

export const DEPTH_METRIC_NAMES: readonly (keyof DepthMetrics)[] = [
  "absRel",
  "sqRel",
  "rmse",
  "rmseLog",
  "silog",
  "log10",
  "delta1",
  "delta2",
  "delta3",
];

/** Where every pixel of a frame went; the five classes add up to `total`. */
export interface PixelCounts {
  readonly total: number;
  /** Ground truth non-finite or ≤ 0. */
  readonly gtInvalid: number;
  /** Valid ground truth outside [min, max]. */
  readonly outOfRange: number;
  /** Valid ground truth outside the evaluation crop (protocol zoedepth with a crop). */
  readonly outsideCrop: number;
  /** Valid, in-range ground truth where the prediction is non-finite or ≤ 0: not scored. */
  readonly predInvalid: number;
  /** Scored pixels. */
  readonly evaluated: number;
}

export const DELTA_THRESHOLDS = [1.25, 1.25 ** 2, 1.25 ** 3] as const;

/** Pixel-evaluation codes written by `classifyPixels`. */
export const PIXEL_EVALUATED = 1;
export const PIXEL_GT_INVALID = 2;
export const PIXEL_OUT_OF_RANGE = 3;
export const PIXEL_PRED_INVALID = 4;

export function isValidDepth(value: number): boolean {
  // False for NaN, ±Infinity, 0 and negatives in two comparisons.
  return value > 0 && value < Infinity;
}

export function checkRange(range: DepthRange): void {
  if (!(range.min >= 0) || !(range.max > range.min)) {
    throw new RangeError(`depth range [${range.min}, ${range.max}] must have 0 <= min < max`);
  }
}

/**
 * One code per pixel (PIXEL_EVALUATED, PIXEL_GT_INVALID, PIXEL_OUT_OF_RANGE, PIXEL_PRED_INVALID)
 * and the counts of each, by the rule at the top of this file.
 */
export function classifyPixels(
  pred: DepthArray,
  gt: DepthArray,
  range: DepthRange,
  out?: Uint8Array,
): { codes: Uint8Array; counts: PixelCounts } {
  checkSameLength(pred, gt);
  checkRange(range);
  const n = gt.length;
  const codes = out ?? new Uint8Array(n);
  if (codes.length !== n) throw new RangeError(`classifyPixels: out has ${codes.length} values, need ${n}`);
  let gtInvalid = 0;
  let outOfRange = 0;
  let predInvalid = 0;
  for (let i = 0; i < n; i++) {
    const g = gt[i]!;
    let code: number;
    if (!isValidDepth(g)) code = PIXEL_GT_INVALID;
    else if (g < range.min || g > range.max) code = PIXEL_OUT_OF_RANGE;
    else if (!isValidDepth(pred[i]!)) code = PIXEL_PRED_INVALID;
    else code = PIXEL_EVALUATED;
    codes[i] = code;
    if (code === PIXEL_GT_INVALID) gtInvalid++;
    else if (code === PIXEL_OUT_OF_RANGE) outOfRange++;
    else if (code === PIXEL_PRED_INVALID) predInvalid++;
  }
  return {
    codes,
    counts: { total: n, gtInvalid, outOfRange, outsideCrop: 0, predInvalid, evaluated: n - gtInvalid - outOfRange - predInvalid },
  };
}

/**
 * Running sums from which every metric follows; `merge` pools pixels of several frames (the
 * "pixel-pooled" aggregate), `metrics` divides. Accumulated in float64.
 */
export class DepthErrorSums {
  count = 0;
  absRel = 0;
  sqRel = 0;
  squared = 0;
  logSquared = 0;
  log = 0;
  log10 = 0;
  readonly within = [0, 0, 0];

  /** Adds one pixel; both values must be valid (finite, > 0). */
  add(p: number, g: number): void {
    const diff = p - g;
    const d = Math.log(p) - Math.log(g);
    const ratio = p > g ? p / g : g / p;
    this.count++;
    this.absRel += Math.abs(diff) / g;
    this.sqRel += (diff * diff) / g;
    this.squared += diff * diff;
    this.logSquared += d * d;
    this.log += d;
    this.log10 += Math.abs(Math.log10(p) - Math.log10(g));
    if (ratio < DELTA_THRESHOLDS[0]) this.within[0]!++;
    if (ratio < DELTA_THRESHOLDS[1]) this.within[1]!++;
    if (ratio < DELTA_THRESHOLDS[2]) this.within[2]!++;
  }

  merge(other: DepthErrorSums): void {
    this.count += other.count;
    this.absRel += other.absRel;
    this.sqRel += other.sqRel;
    this.squared += other.squared;
    this.logSquared += other.logSquared;
    this.log += other.log;
    this.log10 += other.log10;
    for (let k = 0; k < 3; k++) this.within[k]! += other.within[k]!;
  }

  /** All NaN when no pixel was added. */
  metrics(): DepthMetrics {
    const n = this.count;
    if (n === 0) return NAN_METRICS;
    const meanD = this.log / n;
    const meanD2 = this.logSquared / n;
    return {
      absRel: this.absRel / n,
      sqRel: this.sqRel / n,
      rmse: Math.sqrt(this.squared / n),
      rmseLog: Math.sqrt(meanD2),
      // Rounding can make the variance a hair below 0 when all d are equal.
      silog: Math.sqrt(Math.max(0, meanD2 - meanD * meanD)) * 100,
      log10: this.log10 / n,
      delta1: this.within[0]! / n,
      delta2: this.within[1]! / n,
      delta3: this.within[2]! / n,
    };
  }
}

export const NAN_METRICS: DepthMetrics = Object.freeze({
  absRel: NaN,
  sqRel: NaN,
  rmse: NaN,
  rmseLog: NaN,
  silog: NaN,
  log10: NaN,
  delta1: NaN,
  delta2: NaN,
  delta3: NaN,
});

export interface FrameDepthResult {
  /** NaN everywhere when no pixel was evaluated. */
  readonly metrics: DepthMetrics;
  readonly counts: PixelCounts;
  /** For pooling over frames. */
  readonly sums: DepthErrorSums;
}

/** The metrics of one frame (`pred` already aligned, if alignment is wanted). */
export function depthMetrics(pred: DepthArray, gt: DepthArray, range: DepthRange): FrameDepthResult {
  const { codes, counts } = classifyPixels(pred, gt, range);
  const sums = new DepthErrorSums();
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === PIXEL_EVALUATED) sums.add(pred[i]!, gt[i]!);
  }
  return { metrics: sums.metrics(), counts, sums };
}

/** Mean of per-frame metrics over the frames that have any (the Depth Anything / ZoeDepth aggregate). */
export function meanMetrics(frames: readonly DepthMetrics[]): { metrics: DepthMetrics; frames: number } {
  const scored = frames.filter((m) => !Number.isNaN(m.absRel));
  if (scored.length === 0) return { metrics: NAN_METRICS, frames: 0 };
  const mean = {} as Record<keyof DepthMetrics, number>;
  for (const name of DEPTH_METRIC_NAMES) {
    let sum = 0;
    for (const m of scored) sum += m[name];
    mean[name] = sum / scored.length;
  }
  return { metrics: mean, frames: scored.length };
}

export function addCounts(a: PixelCounts, b: PixelCounts): PixelCounts {
  return {
    total: a.total + b.total,
    gtInvalid: a.gtInvalid + b.gtInvalid,
    outOfRange: a.outOfRange + b.outOfRange,
    outsideCrop: a.outsideCrop + b.outsideCrop,
    predInvalid: a.predInvalid + b.predInvalid,
    evaluated: a.evaluated + b.evaluated,
  };
}

export const ZERO_COUNTS: PixelCounts = Object.freeze({ total: 0, gtInvalid: 0, outOfRange: 0, outsideCrop: 0, predInvalid: 0, evaluated: 0 });

export function checkSameLength(pred: ArrayLike<number>, gt: ArrayLike<number>): void {
  if (pred.length !== gt.length) {
    throw new RangeError(`prediction has ${pred.length} pixels, ground truth ${gt.length}`);
  }
}

/** Which pixel-selection and metric rules run: this module's own, or ZoeDepth's compute_metrics. */
export type DepthProtocol = "standard" | "zoedepth";
export const DEPTH_PROTOCOLS: readonly DepthProtocol[] = ["standard", "zoedepth"];

/**
 * ZoeDepth's evaluation crops (compute_metrics): "eigen" is its NYU crop, fixed rows 45:471 and
 * columns 41:601 of a 480x640 image; "kitti-eigen" its KITTI Eigen crop and "garg" the Garg crop,
 * both as fractions of the image size, truncated to integers as `int(...)` does.
 */
export type DepthCrop = "none" | "eigen" | "kitti-eigen" | "garg";
export const DEPTH_CROPS: readonly DepthCrop[] = ["none", "eigen", "kitti-eigen", "garg"];

/** [rowStart, rowEnd) and [colStart, colEnd) of a crop; undefined for none. Throws for eigen off 480x640. */
export function cropWindow(crop: DepthCrop, width: number, height: number): { top: number; bottom: number; left: number; right: number } | undefined {
  switch (crop) {
    case "none":
      return undefined;
    case "eigen":
      if (width !== 640 || height !== 480) {
        throw new RangeError(`the Eigen (NYU) crop is defined for 640x480 images (rows 45:471, cols 41:601); this one is ${width}x${height}`);
      }
      return { top: 45, bottom: 471, left: 41, right: 601 };
    case "kitti-eigen":
      return {
        top: Math.trunc(0.3324324 * height),
        bottom: Math.trunc(0.91351351 * height),
        left: Math.trunc(0.0359477 * width),
        right: Math.trunc(0.96405229 * width),
      };
    case "garg":
      return {
        top: Math.trunc(0.40810811 * height),
        bottom: Math.trunc(0.99189189 * height),
        left: Math.trunc(0.03594771 * width),
        right: Math.trunc(0.96405229 * width),
      };
    default: {
      const never: never = crop;
      throw new RangeError(`unknown crop ${String(never)}`);
    }
  }
}

/**
 * One frame by ZoeDepth's compute_metrics (see the top of this file): strict range on the
 * ground truth, prediction clamped into [min, max], optional crop. Needs min > 0 (the clamp
 * would otherwise make log(0)) and a finite max. `predInvalid` is always 0: nothing is dropped.
 */
export function zoeDepthMetrics(
  pred: DepthArray,
  gt: DepthArray,
  width: number,
  height: number,
  range: DepthRange,
  crop: DepthCrop,
): FrameDepthResult {
  checkSameLength(pred, gt);
  checkRange(range);
  if (!(range.min > 0) || !Number.isFinite(range.max)) {
    throw new RangeError(`protocol zoedepth clamps predictions into [min, max]: needs min > 0 and a finite max, got [${range.min}, ${range.max}]`);
  }
  if (width * height !== gt.length) throw new RangeError(`${width}x${height} is not ${gt.length} pixels`);
  const window = cropWindow(crop, width, height);
  const sums = new DepthErrorSums();
  let gtInvalid = 0;
  let outOfRange = 0;
  let outsideCrop = 0;
  for (let v = 0; v < height; v++) {
    const inRows = !window || (v >= window.top && v < window.bottom);
    for (let u = 0; u < width; u++) {
      const i = v * width + u;
      const g = gt[i]!;
      if (!isValidDepth(g)) {
        gtInvalid++;
        continue;
      }
      if (!(g > range.min && g < range.max)) {
        outOfRange++;
        continue;
      }
      if (!inRows || (window && (u < window.left || u >= window.right))) {
        outsideCrop++;
        continue;
      }
      let p = pred[i]!;
      if (Number.isNaN(p) || p < range.min) p = range.min;
      else if (p > range.max) p = range.max;
      sums.add(p, g);
    }
  }
  const n = gt.length;
  return {
    metrics: sums.metrics(),
    counts: { total: n, gtInvalid, outOfRange, outsideCrop, predInvalid: 0, evaluated: n - gtInvalid - outOfRange - outsideCrop },
    sums,
  };
}
