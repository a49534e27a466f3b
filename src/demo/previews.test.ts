import { describe, expect, it } from "vitest";
import { colorizeDepth } from "../imaging/colormap.js";
import { classLegend, depthColourBar, previewImage, sideBySide, tickStep } from "./previews.js";

describe("sideBySide", () => {
  it("places images left to right, row by row", () => {
    const a = { width: 2, height: 2, data: Uint8Array.from({ length: 12 }, (_, i) => i) };
    const b = { width: 1, height: 2, data: Uint8Array.from([100, 101, 102, 103, 104, 105]) };
    const joined = sideBySide([a, b]);
    expect([joined.width, joined.height]).toEqual([3, 2]);
    expect(Array.from(joined.data)).toEqual([0, 1, 2, 3, 4, 5, 100, 101, 102, 6, 7, 8, 9, 10, 11, 103, 104, 105]);
  });

  it("refuses images of different heights", () => {
    const a = { width: 1, height: 1, data: new Uint8Array(3) };
    const b = { width: 1, height: 2, data: new Uint8Array(6) };
    expect(() => sideBySide([a, b])).toThrow(/heights differ \(1, 2\)/);
  });
});

describe("preview key", () => {
  const depth = { min: 0, max: 8, map: "turbo" as const };

  it("tick steps of 1/2/5 give at most 6 ticks", () => {
    expect([tickStep(8), tickStep(15), tickStep(80), tickStep(0.6)]).toEqual([2, 5, 20, 0.2]);
  });

  it("the colour bar runs min..max metres left to right in depth/colorized's colours", () => {
    const bar = depthColourBar(206, 40, depth);
    const at = (x: number, y: number) => Array.from(bar.data.subarray((y * 206 + x) * 3, (y * 206 + x) * 3 + 3));
    // x = 6 + round(m / 8 * 193): 0 m at x 6, 4 m at x 102 or 103, 8 m at x 199.
    const colour = (m: number) => Array.from(colorizeDepth(Float32Array.of(m), 1, 1, depth));
    expect(at(6, 8)).toEqual(colour(0 + 1e-6));
    expect(at(199, 8)).toEqual(colour(8));
    expect(at(6 + Math.round((4 / 8) * 193), 8)).toEqual(colour((8 * Math.round((4 / 8) * 193)) / 193));
    expect(at(2, 8)).toEqual([0, 0, 0]); // margin
    // Tick labels are drawn (white-ish pixels) under the bar.
    let bright = 0;
    for (let y = 16; y < 40; y++) for (let x = 0; x < 206; x++) if (bar.data[(y * 206 + x) * 3]! > 128) bright++;
    expect(bright).toBeGreaterThan(20);
  });

  it("the legend shows each class's colour as a swatch", () => {
    const classes = [
      { id: 0, name: "floor", color: [10, 200, 30] as [number, number, number] },
      { id: 1, name: "wall", color: [250, 5, 60] as [number, number, number] },
    ];
    const legend = classLegend(160, 30, classes);
    const at = (x: number, y: number) => Array.from(legend.data.subarray((y * 160 + x) * 3, (y * 160 + x) * 3 + 3));
    expect(at(6 + 5, 4 + 5)).toEqual([10, 200, 30]);
    // Second entry after "floor": 6 + 10 + 4 + 7*5 + 10 = 65.
    expect(at(65 + 5, 4 + 5)).toEqual([250, 5, 60]);
  });

  it("previewImage puts the key under the three views", () => {
    const view = (v: number) => ({ width: 100, height: 50, data: new Uint8Array(100 * 50 * 3).fill(v) });
    const image = previewImage(view(1), view(2), view(3), { depth, classes: [] });
    expect(image.width).toBe(300);
    expect(image.height).toBeGreaterThan(50);
    expect(Array.from(image.data.subarray((10 * 300 + 150) * 3, (10 * 300 + 150) * 3 + 3))).toEqual([2, 2, 2]);
  });
});
