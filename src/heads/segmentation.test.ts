import { describe, expect, it } from "vitest";
import { argmaxLabels } from "./segmentation.js";

describe("argmaxLabels", () => {
  // 3 classes over a 2x2 image, planar C×H×W.
  const logits = new Float32Array([
    // class 0
    1, 5, NaN, 2,
    // class 1
    3, 5, NaN, NaN,
    // class 2
    2, 4, NaN, 2,
  ]);

  it("picks the largest logit, first channel on ties, NaN never wins", () => {
    const out = argmaxLabels(logits, 3, 2, 2, { unlabelled: 255 });
    // pixel 0: 1,3,2 → 1; pixel 1: 5,5,4 → tie → 0; pixel 2: all NaN → 255; pixel 3: 2,NaN,2 → 0
    expect(Array.from(out)).toEqual([1, 0, 255, 0]);
  });

  it("maps channels to class ids", () => {
    const out = argmaxLabels(logits, 3, 2, 2, { unlabelled: 65535, classIds: new Uint16Array([10, 20, 30]) });
    expect(Array.from(out)).toEqual([20, 10, 65535, 10]);
  });

  it("lets a real logit beat NaN in an earlier channel, and treats all −Inf as unlabelled", () => {
    const l = new Float32Array([NaN, -Infinity, -7, -Infinity]);
    expect(Array.from(argmaxLabels(l, 2, 2, 1, { unlabelled: 9 }))).toEqual([1, 9]);
  });

  it("reuses buffers and checks sizes", () => {
    const out = new Uint16Array(4);
    const scratch = new Float32Array(4);
    expect(argmaxLabels(logits, 3, 2, 2, { unlabelled: 255, out, scratch })).toBe(out);
    expect(() => argmaxLabels(logits, 2, 2, 2, { unlabelled: 255 })).toThrow(RangeError);
    expect(() => argmaxLabels(logits, 3, 2, 2, { unlabelled: 255, classIds: new Uint16Array(2) })).toThrow(RangeError);
    expect(() => argmaxLabels(logits, 3, 2, 2, { unlabelled: -1 })).toThrow(RangeError);
  });
});
