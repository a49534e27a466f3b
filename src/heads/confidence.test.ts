import { describe, expect, it } from "vitest";
import { DERIVED_EDGE_STEP, confidenceFromModel, derivedConfidence, fitTrust } from "./confidence.js";

describe("confidenceFromModel", () => {
  it("identity: clipped to 0..1, NaN to 0", () => {
    const out = confidenceFromModel(Float32Array.from([-0.5, 0, 0.25, 1, 3, NaN]), "identity");
    expect([...out]).toEqual([0, 0, 0.25, 1, 1, 0]);
  });

  it("expp1 (1 + exp(x)): published as sigmoid(x) = 1 - 1/c, keeping the order", () => {
    const xs = [-4, -1, 0, 0.5, 3];
    const out = confidenceFromModel(Float32Array.from(xs, (x) => 1 + Math.exp(x)), "expp1");
    xs.forEach((x, i) => expect(out[i]).toBeCloseTo(1 / (1 + Math.exp(-x)), 6));
    for (let i = 1; i < xs.length; i++) expect(out[i]!).toBeGreaterThan(out[i - 1]!);
    // Outside the activation's range (c < 1) and NaN: 0.
    expect([...confidenceFromModel(Float32Array.from([0.5, NaN]), "expp1")]).toEqual([0, 0]);
  });

  it("may write in place; refuses an out of another length", () => {
    const raw = Float32Array.from([2, 0.5]);
    expect(confidenceFromModel(raw, "identity", raw)).toBe(raw);
    expect([...raw]).toEqual([1, 0.5]);
    expect(() => confidenceFromModel(raw, "identity", new Float32Array(3))).toThrow(/out has 3 values/);
  });
});

describe("derivedConfidence", () => {
  const W = 8;
  const H = 6;

  it("1 on a flat surface, 1/(1+(s/step)^2) across a step of relative size s, 0 where depth is missing", () => {
    // Left half 2 m, right half 3 m (s = 0.5), one pixel missing far from the edge.
    const depth = Float32Array.from({ length: W * H }, (_, i) => (i % W < 4 ? 2 : 3));
    depth[W * 5 + 0] = NaN;
    const c = derivedConfidence(depth, W, H);
    const at = (u: number, v: number) => c[v * W + u]!;
    expect(at(1, 2)).toBe(1);
    expect(at(6, 2)).toBe(1);
    const edge = 1 / (1 + (0.5 / DERIVED_EDGE_STEP) ** 2);
    expect(at(3, 2)).toBeCloseTo(edge, 6);
    expect(at(4, 2)).toBeCloseTo(edge, 6);
    expect(edge).toBeLessThan(0.04);
    expect(at(0, 5)).toBe(0);
    // The missing pixel's neighbours are not made edges by it.
    expect(at(1, 5)).toBe(1);
  });

  it("a grazing floor (2 % per pixel) keeps most of its confidence; fitTrust scales every pixel", () => {
    const depth = Float32Array.from({ length: W * H }, (_, i) => 2 * 1.02 ** Math.floor(i / W));
    const c = derivedConfidence(depth, W, H);
    const inner = c[2 * W + 3]!;
    // 3x3 span: 1.02^2 - 1 = 4.04 % of the nearest depth.
    expect(inner).toBeCloseTo(1 / (1 + (0.0404 / DERIVED_EDGE_STEP) ** 2), 4);
    expect(inner).toBeGreaterThan(0.85);
    const trusted = derivedConfidence(depth, W, H, { fitTrust: 0.5 });
    expect(trusted[2 * W + 3]).toBeCloseTo(0.5 * inner, 6);
  });

  it("checks its arguments", () => {
    const depth = new Float32Array(W * H).fill(1);
    expect(() => derivedConfidence(depth, W, H + 1)).toThrow(/48 depths for 8x7/);
    expect(() => derivedConfidence(depth, W, H, { edgeStep: 0 })).toThrow(/edgeStep/);
    expect(() => derivedConfidence(depth, W, H, { fitTrust: 1.5 })).toThrow(/fitTrust/);
    expect(() => derivedConfidence(depth, W, H, {}, depth)).toThrow(/must not be the input/);
  });
});

describe("fitTrust", () => {
  it("1 - residual / tolerance, 0 without a fit", () => {
    expect(fitTrust(0, 0.15)).toBe(1);
    expect(fitTrust(0.03, 0.15)).toBeCloseTo(0.8, 12);
    expect(fitTrust(0.2, 0.15)).toBe(0);
    expect(fitTrust(undefined, 0.15)).toBe(0);
    expect(fitTrust(NaN, 0.15)).toBe(0);
  });
});
