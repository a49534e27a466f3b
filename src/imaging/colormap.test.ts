import { describe, expect, it } from "vitest";
import { colorizeDepth, colorizeLabels, colormapLut } from "./colormap.js";

const px = (rgb: Uint8Array, i: number): number[] => Array.from(rgb.subarray(3 * i, 3 * i + 3));

describe("colormapLut", () => {
  it("has the published endpoints, cold/dark first", () => {
    const ends = (m: "turbo" | "viridis" | "inferno" | "jet"): number[][] => {
      const l = colormapLut(m);
      return [Array.from(l.subarray(0, 3)), Array.from(l.subarray(765, 768))];
    };
    expect(ends("turbo")).toEqual([[48, 18, 59], [122, 4, 3]]);
    expect(ends("viridis")).toEqual([[68, 1, 84], [253, 231, 37]]);
    expect(ends("inferno")).toEqual([[0, 0, 4], [252, 255, 164]]);
    expect(ends("jet")).toEqual([[0, 0, 128], [128, 0, 0]]);
    expect(colormapLut("turbo")).toBe(colormapLut("turbo")); // built once
  });
});

describe("colorizeDepth", () => {
  it("maps near to the warm end, far to the cold end, invalid to black", () => {
    const lut = colormapLut("turbo");
    const entry = (k: number): number[] => Array.from(lut.subarray(3 * k, 3 * k + 3));
    const depth = new Float32Array([0.5, 10, 50, NaN, Infinity, -Infinity, 0.49, 5]);
    const out = colorizeDepth(depth, 4, 2, { min: 0.5, max: 10, map: "turbo" });
    expect(px(out, 0)).toEqual(entry(255)); // min → near → red
    expect(px(out, 1)).toEqual(entry(0)); // max → far → blue
    expect(px(out, 2)).toEqual(entry(0)); // beyond max saturates
    for (const i of [3, 4, 5, 6]) expect(px(out, i)).toEqual([0, 0, 0]);
    // 5 m: index round(255·(10 − 5)/9.5) = round(134.2) = 134
    expect(px(out, 7)).toEqual(entry(134));
  });

  it("inverts the scale", () => {
    const lut = colormapLut("viridis");
    const entry = (k: number): number[] => Array.from(lut.subarray(3 * k, 3 * k + 3));
    // min 0, max 255 so the index is the depth itself (inverted) or 255 − depth.
    const depth = new Float32Array([0, 255, 100, 3.4]);
    const inv = colorizeDepth(depth, 4, 1, { min: 0, max: 255, map: "viridis", invert: true });
    expect([0, 1, 2, 3].map((i) => px(inv, i))).toEqual([entry(0), entry(255), entry(100), entry(3)]);
    const norm = colorizeDepth(depth, 4, 1, { min: 0, max: 255, map: "viridis" });
    expect([0, 1, 2, 3].map((i) => px(norm, i))).toEqual([entry(255), entry(0), entry(155), entry(252)]);
  });

  it("checks its arguments and reuses out", () => {
    const out = new Uint8Array(6);
    expect(colorizeDepth(new Float32Array(2), 2, 1, { min: 0, max: 1, map: "jet" }, out)).toBe(out);
    expect(() => colorizeDepth(new Float32Array(2), 2, 1, { min: 1, max: 1, map: "jet" })).toThrow(RangeError);
    expect(() => colorizeDepth(new Float32Array(3), 2, 1, { min: 0, max: 1, map: "jet" })).toThrow(RangeError);
  });
});

describe("colorizeLabels", () => {
  it("looks ids up in the palette, unknown ids get the unlabelled colour", () => {
    const palette = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]);
    const out = colorizeLabels(new Uint16Array([2, 0, 1, 3, 65535]), palette, [7, 8, 9]);
    expect([0, 1, 2, 3, 4].map((i) => px(out, i))).toEqual([
      [0, 0, 255],
      [255, 0, 0],
      [0, 255, 0],
      [7, 8, 9],
      [7, 8, 9],
    ]);
  });
});
