import { describe, expect, it } from "vitest";
import { alignDepth, alignMedian, alignScaleShift, fitScaleShift, median } from "./alignment.js";
import { depthMetrics } from "./depthMetrics.js";

const RANGE = { min: 0.001, max: Infinity };
const f64 = (values: number[]) => Float64Array.from(values);

describe("median alignment", () => {
  it("recovers a global scale: a prediction of 2 × GT becomes perfect", () => {
    const gt = Float32Array.from([1, 2, 3, 4, 5]);
    const pred = Float32Array.from([2, 4, 6, 8, 10]);
    const { depth, scale, fitPixels } = alignMedian(pred, gt, RANGE);
    // median(g) / median(p) = 3 / 6 = 0.5
    expect(scale).toBe(0.5);
    expect(fitPixels).toBe(5);
    expect([...depth]).toEqual([1, 2, 3, 4, 5]);
    const { metrics } = depthMetrics(depth, gt, RANGE);
    expect(metrics.absRel).toBe(0);
    expect(metrics.rmse).toBe(0);
    expect(metrics.delta1).toBe(1);
  });

  it("takes medians over the scored pixels only, averaging the middle two of an even count", () => {
    // Scored: g = 1, 2, 3, 10 and p = 1, 1, 1, 3 (the GT-0 and prediction-NaN pixels are left out).
    // median(g) = (2 + 3)/2 = 2.5, median(p) = (1 + 1)/2 = 1 → scale 2.5
    const gt = f64([1, 2, 3, 10, 0, 4]);
    const pred = f64([1, 1, 1, 3, 100, NaN]);
    const { depth, scale, fitPixels } = alignMedian(pred, gt, RANGE);
    expect(fitPixels).toBe(4);
    expect(scale).toBe(2.5);
    expect(depth[3]).toBe(7.5);
    expect(depth[4]).toBe(250); // applied to every pixel, scored or not
    expect(Number.isNaN(depth[5]!)).toBe(true);
  });

  it("gives NaN without a scored pixel", () => {
    const { scale, depth } = alignMedian(f64([1]), f64([0]), RANGE);
    expect(Number.isNaN(scale)).toBe(true);
    expect(Number.isNaN(depth[0]!)).toBe(true);
  });

  it("median() of odd and even counts", () => {
    expect(median(f64([3, 1, 2]))).toBe(2);
    expect(median(f64([4, 1, 3, 2]))).toBe(2.5);
    expect(Number.isNaN(median(f64([])))).toBe(true);
  });
});

describe("scale-shift alignment in disparity space", () => {
  it("recovers a and b when the prediction's disparity is a·(1/g) + b exactly", () => {
    const a = 3;
    const b = 0.5;
    const gt = f64([1, 2, 4, 5]);
    // x = a/g + b = 3.5, 2, 1.25, 1.1; prediction = 1/x
    const pred = gt.map((g) => 1 / (a / g + b));
    const { depth, scale, shift, fitPixels } = alignScaleShift(pred, gt, RANGE);
    // 1/g = (x − b)/a, so s = 1/a and t = −b/a.
    expect(fitPixels).toBe(4);
    expect(scale).toBeCloseTo(1 / a, 12);
    expect(shift).toBeCloseTo(-b / a, 12);
    expect(1 / scale).toBeCloseTo(a, 10);
    expect(-shift / scale).toBeCloseTo(b, 10);
    for (let i = 0; i < gt.length; i++) expect(depth[i]).toBeCloseTo(gt[i]!, 12);
    const { metrics } = depthMetrics(depth, gt, RANGE);
    expect(metrics.absRel).toBeCloseTo(0, 12);
    expect(metrics.silog).toBeCloseTo(0, 4);
    expect(metrics.delta1).toBe(1);
  });

  it("solves a 3-point least-squares case worked out by hand", () => {
    // x = 1/p = 1, 2, 3 and y = 1/g = 1, 2, 2.
    // x̄ = 2, ȳ = 5/3; Σ(x−x̄)² = 2; Σ(x−x̄)(y−ȳ) = (−1)(−2/3) + 0 + (1)(1/3) = 1
    // s = 1/2, t = 5/3 − 2·1/2 = 2/3. Normal equations check: [14 6; 6 3]·[1/2; 2/3] = [11; 5] = [Σxy; Σy].
    const pred = f64([1, 1 / 2, 1 / 3]);
    const gt = f64([1, 1 / 2, 1 / 2]);
    const { depth, scale, shift } = alignScaleShift(pred, gt, RANGE);
    expect(scale).toBeCloseTo(0.5, 12);
    expect(shift).toBeCloseTo(2 / 3, 12);
    // Aligned disparity 0.5·x + 2/3 = 7/6, 5/3, 13/6 → depth 6/7, 3/5, 6/13.
    expect(depth[0]).toBeCloseTo(6 / 7, 12);
    expect(depth[1]).toBeCloseTo(3 / 5, 12);
    expect(depth[2]).toBeCloseTo(6 / 13, 12);
    expect(fitScaleShift([1, 2, 3], [1, 2, 2])).toEqual({ scale: 0.5, shift: expect.closeTo(2 / 3, 12) as number });
  });

  it("caps depth at the range maximum as MiDaS does, else makes non-positive disparity invalid", () => {
    // Exact fit y = x − 0.5 from the scored pixels x = 1, 2, 3 (g = 2, 2/3, 0.4).
    // Unscored pixels (GT 0): x = 0.25 → a = −0.25; x = 0.55 → a = 0.05; x = 0.7 → a = 0.2.
    const gt = f64([2, 2 / 3, 0.4, 0, 0, 0]);
    const pred = f64([1, 1 / 2, 1 / 3, 4, 1 / 0.55, 1 / 0.7]);
    const open = alignScaleShift(pred, gt, { min: 0.001, max: Infinity });
    expect(open.scale).toBeCloseTo(1, 12);
    expect(open.shift).toBeCloseTo(-0.5, 12);
    expect(Number.isNaN(open.depth[3]!)).toBe(true); // a ≤ 0: invalid without a maximum
    expect(open.depth[4]).toBeCloseTo(20, 9); // 1/0.05
    expect(open.depth[5]).toBeCloseTo(5, 9);
    // With max 10: a < 1/10 → 1/10, so both far pixels become 10 m; a = 0.2 is left alone.
    const capped = alignScaleShift(pred, gt, { min: 0.001, max: 10 });
    expect(capped.depth[3]).toBeCloseTo(10, 9);
    expect(capped.depth[4]).toBeCloseTo(10, 9);
    expect(capped.depth[5]).toBeCloseTo(5, 9);
  });

  it("fails (NaN) with fewer than two distinct disparities", () => {
    expect(fitScaleShift([2, 2, 2], [1, 2, 3])).toEqual({ scale: NaN, shift: NaN });
    expect(fitScaleShift([2], [1])).toEqual({ scale: NaN, shift: NaN });
    const { depth } = alignScaleShift(f64([1, 1]), f64([1, 2]), RANGE);
    expect(Number.isNaN(depth[0]!)).toBe(true);
  });
});

describe("alignDepth", () => {
  it("none returns the prediction itself", () => {
    const pred = Float32Array.from([1, 2]);
    const result = alignDepth("none", pred, Float32Array.from([2, 4]), RANGE);
    expect(result.depth).toBe(pred);
    expect(result.scale).toBe(1);
    expect(result.shift).toBe(0);
  });

  it("dispatches median and scale-shift", () => {
    const gt = Float32Array.from([1, 2, 3]);
    const pred = Float32Array.from([2, 4, 6]);
    expect(alignDepth("median", pred, gt, RANGE).scale).toBe(0.5);
    // Disparity of 2g is (1/2)·(1/g): s = 2, t = 0.
    const ss = alignDepth("scale-shift", pred, gt, RANGE);
    expect(ss.scale).toBeCloseTo(2, 12);
    expect(ss.shift).toBeCloseTo(0, 12);
  });
});
