import { describe, expect, it } from "vitest";
import { canonicalFocalScale, maskSky, toMetricDepth, validDepthFraction } from "./depth.js";

const f32 = (xs: number[]): Float32Array => new Float32Array(xs);
const arr = (a: Float32Array): number[] => Array.from(a);

describe("canonical-camera models (canonical_focal)", () => {
  it("scales metric output by f / canonical_focal, f the mean focal at the model's input resolution", () => {
    // 640x480, fx 600, fy 610, resized to 518x392 for the model: f = (600·518/640 + 610·392/480) / 2.
    const k = canonicalFocalScale({ width: 640, height: 480, fx: 600, fy: 610 }, 518, 392, 300);
    expect(k).toBeCloseTo((600 * (518 / 640) + 610 * (392 / 480)) / 2 / 300, 12);
    // The same lens at half the resolution, resized to the same model input: the same scale.
    expect(canonicalFocalScale({ width: 320, height: 240, fx: 300, fy: 305 }, 518, 392, 300)).toBeCloseTo(k, 12);
    expect(arr(toMetricDepth(f32([2, 10, -1]), "metric", { scale: 1, shift: 0, metricScale: k, maxDepth: 20 }))).toEqual([
      Math.fround(2 * k), Math.fround(10 * k) <= 20 ? Math.fround(10 * k) : NaN, NaN,
    ]);
    expect(() => toMetricDepth(f32([1]), "metric", { scale: 1, shift: 0, metricScale: 0 })).toThrow(/metricScale must be finite and > 0/);
  });
});

describe("toMetricDepth", () => {
  it("metric: keeps metres, NaN for non-finite, ≤ 0 and beyond maxDepth", () => {
    const raw = f32([1.5, 0, -2, NaN, Infinity, -Infinity, 19.75, 20, 20.5]);
    expect(arr(toMetricDepth(raw, "metric", { scale: 1, shift: 0, maxDepth: 20 }))).toEqual([
      1.5, NaN, NaN, NaN, NaN, NaN, 19.75, 20, NaN,
    ]);
    // Without maxDepth, large finite depths stay; scale/shift do not apply to metric heads.
    expect(arr(toMetricDepth(f32([500, Infinity]), "metric", { scale: 3, shift: 1 }))).toEqual([500, NaN]);
  });

  it("relative_depth: z = scale·raw + shift", () => {
    const raw = f32([0, 1, 2.5, -1, NaN, 10]);
    // scale 2, shift 0.5: 0.5, 2.5, 5.5, -1.5 → NaN, NaN, 20.5 → NaN (max 20)
    expect(arr(toMetricDepth(raw, "relative_depth", { scale: 2, shift: 0.5, maxDepth: 20 }))).toEqual([
      0.5, 2.5, 5.5, NaN, NaN, NaN,
    ]);
  });

  it("relative_disparity: z = 1/(scale·raw + shift), disparity ≤ 0 → NaN", () => {
    const raw = f32([1, 4, 0, -0.25, 0.25, NaN, Infinity, 0.04]);
    // scale 0.5, shift 0.25: d = 0.75, 2.25, 0.25, 0.125, 0.375, NaN, Inf, 0.27
    const out = toMetricDepth(raw, "relative_disparity", { scale: 0.5, shift: 0.25 });
    const want = [1 / 0.75, 1 / 2.25, 4, 8, 1 / 0.375, NaN, NaN, 1 / 0.27];
    want.forEach((w, i) => {
      if (Number.isNaN(w)) expect(out[i]).toBeNaN();
      else expect(out[i]).toBeCloseTo(w, 5);
    });
    // Disparity exactly 0 and negative.
    expect(arr(toMetricDepth(f32([0, -1, 2]), "relative_disparity", { scale: 1, shift: 0 }))).toEqual([NaN, NaN, 0.5]);
    // maxDepth cuts far (small disparity) points: 1/0.05 = 20 kept, 1/0.04 = 25 dropped.
    const far = toMetricDepth(f32([0.05, 0.04]), "relative_disparity", { scale: 1, shift: 0, maxDepth: 20 });
    expect(far[0]).toBeCloseTo(20, 5);
    expect(far[1]).toBeNaN();
    // A tiny positive disparity whose inverse overflows float32 is invalid, not +Inf.
    expect(toMetricDepth(f32([1e-39]), "relative_disparity", { scale: 1, shift: 0 })[0]).toBeNaN();
  });

  it("works in place and validates its parameters", () => {
    const raw = f32([2, 4]);
    const res = toMetricDepth(raw, "relative_depth", { scale: 0.5, shift: 0 }, raw);
    expect(res).toBe(raw);
    expect(arr(raw)).toEqual([1, 2]);
    expect(() => toMetricDepth(raw, "relative_depth", { scale: 0, shift: 1 })).toThrow(/non-zero/);
    expect(() => toMetricDepth(raw, "relative_disparity", { scale: NaN, shift: 0 })).toThrow(RangeError);
    expect(() => toMetricDepth(raw, "relative_depth", { scale: 1, shift: Infinity })).toThrow(RangeError);
    expect(() => toMetricDepth(raw, "metric", { scale: 1, shift: 0, maxDepth: 0 })).toThrow(RangeError);
    expect(() => toMetricDepth(raw, "metric", { scale: 1, shift: 0 }, new Float32Array(3))).toThrow(RangeError);
  });
});

describe("validDepthFraction", () => {
  it("counts finite depths > 0 and leaves max_depth out of it", () => {
    const raw = new Float32Array([1, NaN, Infinity, -Infinity, -2, 0, 500, 3]);
    // 1, 500 (far, but a depth) and 3 are valid: 3 of 8.
    expect(validDepthFraction(raw, "metric", { scale: 1, shift: 0 })).toBe(3 / 8);
    // relative_depth 2·raw − 1: 1 → 1, 500 → 999, 3 → 5, 0 → −1.
    expect(validDepthFraction(raw, "relative_depth", { scale: 2, shift: -1 })).toBe(3 / 8);
    // relative_disparity: a disparity ≤ 0 or NaN is no depth; +Inf disparity gives depth 0.
    expect(validDepthFraction(raw, "relative_disparity", { scale: 1, shift: 0 })).toBe(3 / 8);
    expect(validDepthFraction(new Float32Array(0), "metric", { scale: 1, shift: 0 })).toBe(0);
  });
});

describe("maskSky", () => {
  it("NaNs depth where the sky map is >= threshold or NaN, in place, and counts them", () => {
    const depth = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const sky = Float32Array.from([0, 0.29, 0.3, 0.9, NaN, -1]);
    expect(maskSky(depth, sky, 0.3)).toBe(3);
    expect(Array.from(depth)).toEqual([1, 2, NaN, NaN, NaN, 6]);
  });

  it("refuses a sky map of another size and a threshold that is not > 0", () => {
    expect(() => maskSky(new Float32Array(4), new Float32Array(3), 0.3)).toThrow(/sky has 3 values, depth has 4/);
    expect(() => maskSky(new Float32Array(1), new Float32Array(1), 0)).toThrow(/threshold must be finite and > 0/);
  });
});
