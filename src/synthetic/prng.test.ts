import { describe, expect, it } from "vitest";
import { mulberry32, uniformWeights } from "./prng.js";

describe("mulberry32", () => {
  it("repeats its sequence for a seed and differs across seeds", () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const c = mulberry32(124);
    const seqA = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(seqA);
    expect([c(), c(), c()]).not.toEqual(seqA);
  });

  it("stays in [0, 1) with a mean near 0.5", () => {
    const next = mulberry32(1);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const v = next();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
      sum += v;
    }
    expect(sum / 10_000).toBeCloseTo(0.5, 1);
  });
});

describe("uniformWeights", () => {
  it("scales into [-bound, bound)", () => {
    const w = uniformWeights(mulberry32(5), 1000, 0.25);
    expect(w.length).toBe(1000);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-0.25);
    expect(Math.max(...w)).toBeLessThan(0.25);
    expect(Math.max(...w) - Math.min(...w)).toBeGreaterThan(0.45);
  });
});
