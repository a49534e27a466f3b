import { describe, expect, it } from "vitest";
import type { RgbImage } from "../frame.js";
import { resizeFloat, resizeFloatAlignCorners, resizeLabels, resizeRgb, resizeRgbFloat } from "./resize.js";

describe("resizeRgb", () => {
  const img: RgbImage = {
    width: 2,
    height: 2,
    // (10,20,30) (40,50,60) / (70,80,90) (100,110,120)
    data: new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]),
  };

  it("nearest 2x2 -> 4x4 repeats each pixel in a 2x2 block", () => {
    const out = resizeRgb(img, 4, 4, "nearest");
    expect([out.width, out.height, out.data.length]).toEqual([4, 4, 48]);
    const px = (x: number, y: number): number[] => Array.from(out.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3));
    expect(px(0, 0)).toEqual([10, 20, 30]);
    expect(px(1, 1)).toEqual([10, 20, 30]);
    expect(px(2, 0)).toEqual([40, 50, 60]);
    expect(px(3, 3)).toEqual([100, 110, 120]);
    expect(px(0, 2)).toEqual([70, 80, 90]);
  });

  it("linear keeps a constant image constant and hits hand-worked midpoints", () => {
    const flat: RgbImage = { width: 5, height: 3, data: new Uint8Array(45).fill(77) };
    for (const interp of ["linear", "cubic", "area", "nearest"] as const) {
      expect(resizeRgb(flat, 8, 7, interp).data.every((v) => v === 77)).toBe(true);
    }
    // 2x1 -> 4x1: source x = (x + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → 0, ¼, ¾, 1 of the way.
    const row: RgbImage = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 200, 100, 40]) };
    expect(Array.from(resizeRgb(row, 4, 1, "linear").data)).toEqual([0, 0, 0, 50, 25, 10, 150, 75, 30, 200, 100, 40]);
  });

  it("returns the same image for the same size and reuses out", () => {
    expect(resizeRgb(img, 2, 2, "cubic")).toBe(img);
    const out = new Uint8Array(3 * 3 * 3);
    expect(resizeRgb(img, 3, 3, "area", out).data).toBe(out);
    expect(() => resizeRgb(img, 0, 3, "linear")).toThrow(RangeError);
  });
});

describe("resizeFloat", () => {
  it("interpolates depth with the half-pixel convention", () => {
    const out = resizeFloat(new Float32Array([0, 4]), 2, 1, 4, 1, "linear");
    expect(Array.from(out)).toEqual([0, 1, 3, 4]);
    const up = resizeFloat(new Float32Array([1.25, 2.5, 3.75, 5]), 2, 2, 3, 5, "nearest");
    expect(up.length).toBe(15);
  });

  it("averages with area when shrinking", () => {
    // 4x2 -> 2x1: each output is the mean of a 2x2 block.
    const src = new Float32Array([1, 3, 10, 20, 5, 7, 30, 40]);
    expect(Array.from(resizeFloat(src, 4, 2, 2, 1, "area"))).toEqual([4, 25]);
  });

  it("returns the input for the same size and checks length", () => {
    const d = new Float32Array(6);
    expect(resizeFloat(d, 3, 2, 3, 2, "cubic")).toBe(d);
    expect(() => resizeFloat(d, 4, 2, 8, 4, "linear")).toThrow(RangeError);
  });
});

describe("resizeLabels", () => {
  it("samples pixel centres: floor((x + 0.5)·src/dst)", () => {
    const labels = new Uint16Array([300, 7, 65535]);
    // up 3 -> 6: x = 0..5 → src 0,0,1,1,2,2
    expect(Array.from(resizeLabels(labels, 3, 1, 6, 1))).toEqual([300, 300, 7, 7, 65535, 65535]);
    // 5 -> 3: (x + 0.5)·5/3 = 0.83, 2.5, 4.17 → 0, 2, 4 (top-left floor(x·5/3) would give 0, 1, 3)
    expect(Array.from(resizeLabels(new Uint16Array([1, 2, 3, 4, 5]), 5, 1, 3, 1))).toEqual([1, 3, 5]);
    // 9 -> 3 in y on a 1-wide column: (y + 0.5)·3 = 1.5, 4.5, 7.5 → rows 1, 4, 7
    expect(Array.from(resizeLabels(new Uint16Array([0, 1, 2, 3, 4, 5, 6, 7, 8]), 1, 9, 1, 3))).toEqual([1, 4, 7]);
    // Exact ties (even downscale: centres land on source boundaries) take the lower pixel.
    expect(Array.from(resizeLabels(new Uint16Array([0, 1, 2, 3, 4, 5]), 6, 1, 3, 1))).toEqual([0, 2, 4]);
  });

  it("never invents label values", () => {
    const w = 37;
    const h = 23;
    const labels = new Uint16Array(w * h);
    for (let i = 0; i < labels.length; i++) labels[i] = (i % 5) * 1000;
    const out = resizeLabels(labels, w, h, 91, 64);
    expect(out.length).toBe(91 * 64);
    expect(new Set(out)).toEqual(new Set([0, 1000, 2000, 3000, 4000]));
    expect(resizeLabels(labels, w, h, w, h)).toBe(labels);
  });
});

describe("resizeFloatAlignCorners", () => {
  it("equals PyTorch's bilinear align_corners=True (values from F.interpolate)", () => {
    const src = Float32Array.from([1, 2, 4, 8, 16, 32]);
    expect(Array.from(resizeFloatAlignCorners(src, 3, 2, 5, 3))).toEqual([1, 1.5, 2, 3, 4, 4.5, 6.75, 9, 13.5, 18, 8, 12, 16, 24, 32]);
    // torch.arange(12.).reshape(1, 1, 3, 4) ** 1.5 -> (7, 9): first 12 outputs.
    const powers = Float32Array.from({ length: 12 }, (_, i) => Math.fround(i ** 1.5));
    const want = [0, 0.375, 0.75, 1.2285534143447876, 1.9142135381698608, 2.5998737812042236, 3.420358419418335,
      4.308255195617676, 5.196152210235596, 2.6666667461395264, 3.314209222793579, 3.961751699447632];
    const got = resizeFloatAlignCorners(powers, 4, 3, 9, 7).subarray(0, 12);
    for (let i = 0; i < 12; i++) expect(Math.abs(got[i]! - want[i]!), `output ${i}`).toBeLessThanOrEqual(2 ** -20 * Math.max(1, want[i]!));
  });

  it("keeps the corners, spreads NaN to the outputs that touch it, and half-pixel differs", () => {
    const src = Float32Array.from([0, 10, 20, 30]);
    const up = resizeFloatAlignCorners(src, 4, 1, 7, 1);
    expect(Array.from(up)).toEqual([0, 5, 10, 15, 20, 25, 30]);
    // OpenCV's half-pixel bilinear maps pixel centres instead: its ends are clamped, not aligned.
    expect(Array.from(resizeFloat(src, 4, 1, 7, 1, "linear"))[1]).not.toBe(5);
    const holed = resizeFloatAlignCorners(Float32Array.from([0, NaN, 20, 30]), 4, 1, 7, 1);
    // As PyTorch: a NaN neighbour poisons an output even at weight 0 (output 0 samples pixels 0 and 1).
    expect(Array.from(holed).map((v) => Number.isNaN(v))).toEqual([true, true, true, true, false, false, false]);
    expect(resizeFloatAlignCorners(src, 4, 1, 4, 1)).toBe(src);
  });
});

describe("resizeRgbFloat", () => {
  it("resizes 0..1 floats without rounding to 8 bits; cubic overshoot survives", () => {
    // A hard edge 0 | 1, upscaled with cubic: the float result rings below 0 and above 1.
    const src = new Float32Array(4 * 1 * 3);
    for (let x = 2; x < 4; x++) src.fill(1, 3 * x, 3 * x + 3);
    const up = resizeRgbFloat(src, 4, 1, 16, 1, "cubic");
    expect(Math.min(...up)).toBeLessThan(0);
    expect(Math.max(...up)).toBeGreaterThan(1);
    expect(up.some((v) => Math.round(v * 255) / 255 !== v)).toBe(true);
  });
});
