import { describe, expect, it } from "vitest";
import { removeFlyingPixels } from "./flyingPixels.js";

const W = 16;
const H = 8;
function image(depthAt: (u: number, v: number) => number): Float32Array {
  const d = new Float32Array(W * H);
  for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) d[v * W + u] = depthAt(u, v);
  return d;
}
const removed = (before: Float32Array, after: Float32Array): number[] =>
  [...before.keys()].filter((i) => Number.isFinite(before[i]!) && Number.isNaN(after[i]!));

describe("removeFlyingPixels", () => {
  it("removes a one-pixel smear between a foreground and a background, and keeps both surfaces' edge pixels", () => {
    // 1 m on the left, 3 m on the right, column 8 smeared to 2 m as a monocular model does.
    const depth = image((u) => (u < 8 ? 1 : u === 8 ? 2 : 3));
    const out = removeFlyingPixels(depth, W, H, 0.1);
    // Rows 2..5 (the filter needs two pixels of context on each side).
    expect(removed(depth, out)).toEqual([2, 3, 4, 5].map((v) => v * W + 8));
    for (let v = 0; v < H; v++) {
      expect(out[v * W + 7]).toBe(1);
      expect(out[v * W + 9]).toBe(3);
    }
    expect(depth[2 * W + 8]).toBe(2); // the input is left as it was
  });

  it("keeps a floor at a grazing angle, whose depth changes fast but evenly, and a clean step", () => {
    const floor = image((_u, v) => 2 * Math.pow(1.3, v)); // 30 % deeper every row
    expect(removed(floor, removeFlyingPixels(floor, W, H, 0.1))).toEqual([]);
    const step = image((u) => (u < 8 ? 1 : 3));
    expect(removed(step, removeFlyingPixels(step, W, H, 0.1))).toEqual([]);
  });

  it("takes no evidence from missing neighbours, and checks its arguments", () => {
    const depth = image((u) => (u < 8 ? 1 : u === 8 ? 2 : u === 9 ? NaN : 3));
    expect(removed(depth, removeFlyingPixels(depth, W, H, 0.1))).toEqual([]);
    expect(() => removeFlyingPixels(depth, W, H, 0)).toThrow(/threshold must be finite and > 0/);
    expect(() => removeFlyingPixels(depth, W, H, 0.1, depth)).toThrow(/out must not be the input/);
    expect(() => removeFlyingPixels(depth, W + 1, H, 0.1)).toThrow(/128 depths for 17x8/);
  });
});
