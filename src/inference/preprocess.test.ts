import { describe, expect, it } from "vitest";
import type { RgbImage } from "../frame.js";
import { resizeRgb } from "../imaging/resize.js";
import { modelInputSize, toInputTensor, type PreprocessSpec } from "./preprocess.js";

const depthAnything: PreprocessSpec = {
  height: 518,
  width: 518,
  multipleOf: 14,
  resize: "keep_aspect_lower_bound",
  interpolation: "cubic",
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  color: "rgb",
};

describe("modelInputSize", () => {
  it("follows Depth Anything's lower-bound resize (worked by hand)", () => {
    // 640x480: scale = max(518/480, 518/640) = 1.0792; 690.67 x 518 → 49.33·14 → 686, 37·14 = 518.
    expect(modelInputSize(640, 480, depthAnything)).toEqual({ width: 686, height: 518 });
    // Portrait is the transpose.
    expect(modelInputSize(480, 640, depthAnything)).toEqual({ width: 518, height: 686 });
    // 1280x720: scale 518/720; 920.9 → 65.78 → 66·14 = 924.
    expect(modelInputSize(1280, 720, depthAnything)).toEqual({ width: 924, height: 518 });
    // Already the target size.
    expect(modelInputSize(518, 518, depthAnything)).toEqual({ width: 518, height: 518 });
    // Upscaling a small image: scale = 518/50 = 10.36; 1036 = 74·14.
    expect(modelInputSize(100, 50, depthAnything)).toEqual({ width: 1036, height: 518 });
  });

  it("rounds halves to even like np.round, and up when rounding falls below the target", () => {
    // 26x10 → 5x5, multiple 2: scale 0.5 → 13 x 5. 13/2 = 6.5 → 6 (np.round) → 12;
    // 5/2 = 2.5 → 2 → 4 < 5 → ceil → 6.
    const spec = { width: 5, height: 5, multipleOf: 2, resize: "keep_aspect_lower_bound" } as const;
    expect(modelInputSize(26, 10, spec)).toEqual({ width: 12, height: 6 });
  });

  it("stretch gives the target rounded up to the multiple", () => {
    expect(modelInputSize(640, 480, { ...depthAnything, resize: "stretch" })).toEqual({ width: 518, height: 518 });
    expect(modelInputSize(640, 480, { width: 512, height: 500, multipleOf: 32, resize: "stretch" })).toEqual({
      width: 512,
      height: 512,
    });
    expect(modelInputSize(640, 480, { width: 10, height: 9, multipleOf: 1, resize: "stretch" })).toEqual({
      width: 10,
      height: 9,
    });
  });

  it("rejects nonsense", () => {
    expect(() => modelInputSize(0, 480, depthAnything)).toThrow(RangeError);
    expect(() => modelInputSize(640, 480, { ...depthAnything, multipleOf: 0 })).toThrow(RangeError);
  });
});

describe("toInputTensor", () => {
  // 2x2: red, green / blue, (255, 128, 0)
  const img: RgbImage = { width: 2, height: 2, data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 128, 0]) };
  const spec: PreprocessSpec = { ...depthAnything, width: 2, height: 2, multipleOf: 1, resize: "stretch" };
  const norm = (v: number, c: number): number => Math.fround((v / 255 - spec.mean[c]!) / spec.std[c]!);

  it("normalises into planar RGB, value by value", () => {
    const t = toInputTensor(img, spec);
    expect(t.dims).toEqual([1, 3, 2, 2]);
    const r = [255, 0, 0, 255];
    const g = [0, 255, 0, 128];
    const b = [0, 0, 255, 0];
    expect(Array.from(t.data)).toEqual([...r.map((v) => norm(v, 0)), ...g.map((v) => norm(v, 1)), ...b.map((v) => norm(v, 2))]);
    // Hand-worked: red plane, pixel 0: (1 − 0.485)/0.229 = 2.2489; pixel 1: −0.485/0.229 = −2.1179
    expect(t.data[0]).toBeCloseTo(2.24891, 4);
    expect(t.data[1]).toBeCloseTo(-2.11790, 4);
    // green plane, pixel 3: (128/255 − 0.456)/0.224 = 0.2052
    expect(t.data[4 + 3]).toBeCloseTo(0.20518, 4);
  });

  it("puts planes in BGR order for bgr models (mean/std stay per colour)", () => {
    const t = toInputTensor(img, { ...spec, color: "bgr" });
    const r = [255, 0, 0, 255].map((v) => norm(v, 0));
    const g = [0, 255, 0, 128].map((v) => norm(v, 1));
    const b = [0, 0, 255, 0].map((v) => norm(v, 2));
    expect(Array.from(t.data)).toEqual([...b, ...g, ...r]);
  });

  it("resizes to the model size first and reuses buffers", () => {
    const big: RgbImage = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3) };
    for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 31) & 255;
    const out = new Float32Array(3 * 686 * 518);
    const t = toInputTensor(big, depthAnything, { out });
    expect(t.dims).toEqual([1, 3, 518, 686]);
    expect(t.data).toBe(out);
    const resized = resizeRgb(big, 686, 518, "cubic");
    const n = 686 * 518;
    for (const i of [0, 1, 12345, n - 1]) {
      for (let c = 0; c < 3; c++) expect(t.data[c * n + i]).toBe(norm(resized.data[3 * i + c]!, c));
    }
    expect(() => toInputTensor(big, depthAnything, { out: new Float32Array(10) })).toThrow(RangeError);
  });
});

describe("toInputTensor with resizeOn: float (Depth Anything V2's infer_image)", () => {
  /** A hard vertical edge, dark | bright, 6x2. */
  const edge: RgbImage = {
    width: 6,
    height: 2,
    data: Uint8Array.from({ length: 36 }, (_, i) => (Math.floor(i / 3) % 6 < 3 ? 0 : 255)),
  };
  const small = { ...depthAnything, height: 4, width: 24, multipleOf: 1, resize: "stretch" } as const;

  it("keeps cubic overshoot (no 8-bit rounding) and matches the uint8 path where nothing is resized", () => {
    const asFloat = toInputTensor(edge, { ...small, resizeOn: "float" });
    const asUint8 = toInputTensor(edge, small);
    expect(asFloat.dims).toEqual([1, 3, 4, 24]);
    // Red plane: (v - 0.485) / 0.229; v < 0 only without the clamp to 0..255.
    const red = (t: Float32Array) => t.subarray(0, 4 * 24);
    const floor = (0 - 0.485) / 0.229;
    expect(Math.min(...red(asFloat.data))).toBeLessThan(floor - 0.01);
    expect(Math.min(...red(asUint8.data))).toBeGreaterThanOrEqual(Math.fround(floor));
    const same = { ...small, width: 6, height: 2 };
    const a = toInputTensor(edge, { ...same, resizeOn: "float" }).data;
    const b = toInputTensor(edge, same).data;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-6);
  });
});
