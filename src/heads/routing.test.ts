import { describe, expect, it } from "vitest";
import { pickDomain } from "./routing.js";

describe("pickDomain", () => {
  it("picks the class with the largest logit of a [1, C] router", () => {
    expect(pickDomain(new Float32Array([0.2, 1.5]), 2)).toBe(1);
    expect(pickDomain(new Float32Array([3, -1, 2.9]), 3)).toBe(0);
  });

  it("votes by the spatial mean of a [1, C, H, W] router, not by majority of pixels", () => {
    // Class 0 wins 3 of 4 pixels by a little; class 1 wins one pixel by a lot: means 1.1 vs 1.75.
    const logits = new Float32Array([1.2, 1.2, 1.2, 0.8, /* class 1 */ 1, 1, 1, 4]);
    expect(pickDomain(logits, 2)).toBe(1);
  });

  it("breaks ties toward the first class, as argmax does", () => {
    expect(pickDomain(new Float32Array([0.5, 0.5]), 2)).toBe(0);
  });

  it("refuses logits that do not split into the classes, or a non-finite mean", () => {
    expect(() => pickDomain(new Float32Array(5), 2)).toThrow("pickDomain: 5 logits do not split into 2 classes");
    expect(() => pickDomain(new Float32Array(0), 2)).toThrow("pickDomain: 0 logits do not split into 2 classes");
    expect(() => pickDomain(new Float32Array([1, NaN]), 2)).toThrow("pickDomain: class 1 has a non-finite mean logit (NaN)");
    expect(() => pickDomain(new Float32Array([Infinity, 0]), 2)).toThrow("class 0 has a non-finite mean logit (Infinity)");
  });
});
