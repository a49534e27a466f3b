import { describe, expect, it } from "vitest";
import {
  classifyPixels,
  DepthErrorSums,
  depthMetrics,
  meanMetrics,
  cropWindow,
  zoeDepthMetrics,
  PIXEL_EVALUATED,
  PIXEL_GT_INVALID,
  PIXEL_OUT_OF_RANGE,
  PIXEL_PRED_INVALID,
} from "./depthMetrics.js";

const f32 = (values: number[]) => Float32Array.from(values);
const RANGE = { min: 0.001, max: 10 };

describe("depth metrics", () => {
  // Seven pixels: three scored, the rest excluded for each reason.
  //   i  g     p     fate
  //   0  1     2     scored
  //   1  2     2     scored
  //   2  4     2     scored
  //   3  0     1     GT invalid (0 = no measurement)
  //   4  NaN   1     GT invalid
  //   5  20    1     GT outside [0.001, 10]
  //   6  2     NaN   prediction invalid (counted, not scored)
  const gt = f32([1, 2, 4, 0, NaN, 20, 2]);
  const pred = f32([2, 2, 2, 1, 1, 1, NaN]);

  it("classifies every pixel and counts each class", () => {
    const { codes, counts } = classifyPixels(pred, gt, RANGE);
    expect([...codes]).toEqual([
      PIXEL_EVALUATED, PIXEL_EVALUATED, PIXEL_EVALUATED,
      PIXEL_GT_INVALID, PIXEL_GT_INVALID, PIXEL_OUT_OF_RANGE, PIXEL_PRED_INVALID,
    ]);
    expect(counts).toEqual({ total: 7, gtInvalid: 2, outOfRange: 1, outsideCrop: 0, predInvalid: 1, evaluated: 3 });
  });

  it("computes each metric over the scored pixels, as worked out by hand", () => {
    const { metrics, counts } = depthMetrics(pred, gt, RANGE);
    expect(counts.evaluated).toBe(3);
    // Scored (p, g): (2, 1), (2, 2), (2, 4).
    // AbsRel = (|2-1|/1 + 0/2 + |2-4|/4) / 3 = (1 + 0 + 0.5) / 3 = 0.5
    expect(metrics.absRel).toBeCloseTo(0.5, 12);
    // SqRel = (1/1 + 0/2 + 4/4) / 3 = 2/3
    expect(metrics.sqRel).toBeCloseTo(2 / 3, 12);
    // RMSE = sqrt((1 + 0 + 4) / 3) = sqrt(5/3)
    expect(metrics.rmse).toBeCloseTo(Math.sqrt(5 / 3), 12);
    // d = ln p − ln g = ln2, 0, −ln2: mean(d²) = 2·ln²2/3, mean(d) = 0
    // RMSE log = sqrt(2/3)·ln2 ≈ 0.5659; SILog = sqrt(2/3·ln²2 − 0)·100 ≈ 56.59
    expect(metrics.rmseLog).toBeCloseTo(Math.sqrt(2 / 3) * Math.LN2, 12);
    expect(metrics.silog).toBeCloseTo(Math.sqrt(2 / 3) * Math.LN2 * 100, 10);
    // max(p/g, g/p) = 2, 1, 2: only the middle one is below 1.25, 1.5625 and 1.953125.
    expect(metrics.delta1).toBeCloseTo(1 / 3, 12);
    expect(metrics.delta2).toBeCloseTo(1 / 3, 12);
    expect(metrics.delta3).toBeCloseTo(1 / 3, 12);
  });

  it("counts δ1, δ2, δ3 against 1.25, 1.25², 1.25³ in both directions", () => {
    // Ratios 1.2 (<1.25), 1/0.65 ≈ 1.538 (<1.5625), 1.9 (<1.953125), 2.5 (none).
    const { metrics } = depthMetrics(f32([1.2, 0.65, 1.9, 2.5]), f32([1, 1, 1, 1]), RANGE);
    expect(metrics.delta1).toBe(0.25);
    expect(metrics.delta2).toBe(0.5);
    expect(metrics.delta3).toBe(0.75);
  });

  it("SILog is mean-centred and scaled by 100; RMSE log is not centred", () => {
    // p = e, 1 and g = 1, 1: d = 1, 0; mean(d²) = 0.5, mean(d) = 0.5
    // SILog = sqrt(0.5 − 0.25)·100 = 50; RMSE log = sqrt(0.5)
    const m = depthMetrics(Float64Array.from([Math.E, 1]), Float64Array.from([1, 1]), RANGE).metrics;
    expect(m.silog).toBeCloseTo(50, 10);
    expect(m.rmseLog).toBeCloseTo(Math.SQRT1_2, 12);
    // A global scale error leaves SILog at 0: p = 2g gives d = ln2 everywhere.
    const scaled = depthMetrics(f32([2, 4, 6]), f32([1, 2, 3]), RANGE).metrics;
    expect(scaled.silog).toBeCloseTo(0, 6);
    expect(scaled.rmseLog).toBeCloseTo(Math.LN2, 6);
    expect(scaled.absRel).toBeCloseTo(1, 12);
  });

  it("includes ground truth exactly at the range ends and excludes it just outside", () => {
    const gt = Float64Array.from([0.5, 1, 5, 0.4999, 5.0001]);
    const pred = Float64Array.from([1, 1, 1, 1, 1]);
    const { counts, metrics } = depthMetrics(pred, gt, { min: 0.5, max: 5 });
    expect(counts).toEqual({ total: 5, gtInvalid: 0, outOfRange: 2, outsideCrop: 0, predInvalid: 0, evaluated: 3 });
    // Scored (1, 0.5), (1, 1), (1, 5): AbsRel = (0.5/0.5 + 0 + 4/5) / 3 = 1.8 / 3 = 0.6
    expect(metrics.absRel).toBeCloseTo(0.6, 12);
  });

  it("treats a prediction of 0, a negative one or ±Infinity as invalid", () => {
    const { counts, metrics } = depthMetrics(f32([0, -1, Infinity, 1]), f32([1, 1, 1, 1]), RANGE);
    expect(counts.predInvalid).toBe(3);
    expect(counts.evaluated).toBe(1);
    expect(metrics.absRel).toBe(0);
    expect(metrics.delta1).toBe(1);
  });

  it("gives NaN metrics when nothing is scored", () => {
    const { metrics, counts } = depthMetrics(f32([1, 1]), f32([0, NaN]), RANGE);
    expect(counts.evaluated).toBe(0);
    expect(Number.isNaN(metrics.absRel)).toBe(true);
    expect(Number.isNaN(metrics.delta1)).toBe(true);
  });

  it("averages per-frame metrics (the table's mean) and pools pixels separately", () => {
    // Frame A: one pixel p=2, g=1 → AbsRel 1. Frame B: three perfect pixels → AbsRel 0.
    const a = depthMetrics(f32([2]), f32([1]), RANGE);
    const b = depthMetrics(f32([1, 2, 3]), f32([1, 2, 3]), RANGE);
    const empty = depthMetrics(f32([1]), f32([0]), RANGE);
    const mean = meanMetrics([a.metrics, b.metrics, empty.metrics]);
    // Mean over the two frames with scored pixels: (1 + 0) / 2 = 0.5; δ1 (0 + 1) / 2 = 0.5.
    expect(mean.frames).toBe(2);
    expect(mean.metrics.absRel).toBe(0.5);
    expect(mean.metrics.delta1).toBe(0.5);
    // Pooled over the four pixels: AbsRel (1 + 0 + 0 + 0) / 4 = 0.25; δ1 3/4.
    const pooled = new DepthErrorSums();
    for (const r of [a, b, empty]) pooled.merge(r.sums);
    expect(pooled.metrics().absRel).toBe(0.25);
    expect(pooled.metrics().delta1).toBe(0.75);
  });

  it("rejects arrays of different sizes and an empty range", () => {
    expect(() => depthMetrics(f32([1]), f32([1, 2]), RANGE)).toThrow(/1 pixels, ground truth 2/);
    expect(() => depthMetrics(f32([1]), f32([1]), { min: 2, max: 1 })).toThrow(/min < max/);
  });
});

describe("protocol zoedepth (ZoeDepth's compute_metrics)", () => {
  // g 10 and 0.1 sit on the range ends: strict bounds drop them. p NaN → min (0.1), p 20 → max (10).
  // Expected values computed with numpy following compute_metrics / compute_errors line by line.
  // Float64 like numpy's arrays (float32 0.1 is a hair above 0.1 and would pass the strict bound).
  const gt = Float64Array.from([1, 2, 10, 0.1, 4, NaN]);
  const pred = Float64Array.from([NaN, 20, 1, 1, 4, 1]);
  const range = { min: 0.1, max: 10 };

  it("strict bounds, clamped predictions, and compute_errors' definitions incl. log10", () => {
    const { metrics, counts } = zoeDepthMetrics(pred, gt, 6, 1, range, "none");
    expect(counts).toEqual({ total: 6, gtInvalid: 1, outOfRange: 2, outsideCrop: 0, predInvalid: 0, evaluated: 3 });
    expect(metrics.absRel).toBeCloseTo(1.6333333333333335, 6);
    expect(metrics.sqRel).toBeCloseTo(10.936666666666667, 5);
    expect(metrics.rmse).toBeCloseTo(4.6479386111838155, 5);
    expect(metrics.rmseLog).toBeCloseTo(1.6219523733717371, 5);
    expect(metrics.silog).toBeCloseTo(160.54114218084652, 3);
    expect(metrics.log10).toBeCloseTo(0.5663233347786729, 6);
    expect(metrics.delta1).toBeCloseTo(1 / 3, 12);
    // The standard protocol on the same pixels: inclusive ends, the NaN prediction dropped, 20 kept.
    const standard = depthMetrics(pred, gt, range);
    expect(standard.counts).toMatchObject({ evaluated: 4, predInvalid: 1 });
  });

  it("crops: Eigen (NYU) at 640x480, KITTI Eigen and Garg as int(fraction · size)", () => {
    expect(cropWindow("eigen", 640, 480)).toEqual({ top: 45, bottom: 471, left: 41, right: 601 });
    expect(() => cropWindow("eigen", 320, 240)).toThrow(/640x480/);
    expect(cropWindow("kitti-eigen", 1242, 375)).toEqual({ top: 124, bottom: 342, left: 44, right: 1197 });
    expect(cropWindow("garg", 1242, 375)).toEqual({ top: 153, bottom: 371, left: 44, right: 1197 });
    const ones = new Float32Array(640 * 480).fill(2);
    const { counts, metrics } = zoeDepthMetrics(ones, ones, 640, 480, { min: 1e-3, max: 10 }, "eigen");
    expect(counts.evaluated).toBe(426 * 560);
    expect(counts.outsideCrop).toBe(640 * 480 - 426 * 560);
    expect(metrics.absRel).toBe(0);
  });

  it("needs min > 0 and a finite max", () => {
    expect(() => zoeDepthMetrics(pred, gt, 6, 1, { min: 0, max: 10 }, "none")).toThrow(/min > 0/);
    expect(() => zoeDepthMetrics(pred, gt, 6, 1, { min: 0.1, max: Infinity }, "none")).toThrow(/finite max/);
  });
});
