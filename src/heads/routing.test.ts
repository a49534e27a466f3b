import { describe, expect, it } from "vitest";
import { resolveParameters } from "../config/parameters.js";
import { HeadSwitcher, pickDomain } from "./routing.js";

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

describe("HeadSwitcher (depth.head_switch_frames)", () => {
  it("switches only after N votes in a row for the same other head; the first vote at once", () => {
    const sw = new HeadSwitcher(3);
    const seen = ["outdoor", "indoor", "indoor", "outdoor", "indoor", "indoor", "indoor", "outdoor"].map((v) => sw.update(v));
    expect(seen).toEqual(["outdoor", "outdoor", "outdoor", "outdoor", "outdoor", "outdoor", "indoor", "indoor"]);
    expect(new HeadSwitcher(1).update("a")).toBe("a");
    expect(() => new HeadSwitcher(0)).toThrow(/switchFrames must be an integer >= 1/);
  });

  // How the default (4) was chosen: indoor 60 frames, outdoor 60, indoor 60, a router wrong on 15 %
  // of frames and on 40 % within 5 frames of a change (seeded, 50 sequences).
  it("with the default, a noisy router no longer flips the head, at a lag of a few frames", () => {
    const run = (n: number) => {
      let spurious = 0;
      let wrongFrames = 0;
      for (let seed = 1; seed <= 50; seed++) {
        let s = seed >>> 0;
        const random = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
        const sw = new HeadSwitcher(n);
        let previous: string | undefined;
        let switches = 0;
        for (let i = 0; i < 180; i++) {
          const truth = i >= 60 && i < 120 ? "outdoor" : "indoor";
          const nearChange = Math.min(Math.abs(i - 60), Math.abs(i - 120)) < 5;
          const vote = random() < (nearChange ? 0.4 : 0.15) ? (truth === "indoor" ? "outdoor" : "indoor") : truth;
          const head = sw.update(vote);
          if (previous !== undefined && head !== previous) switches++;
          if (head !== truth) wrongFrames++;
          previous = head;
        }
        spurious += Math.max(0, switches - 2);
      }
      return { spuriousPerSequence: spurious / 50, wrongFramesPerSequence: wrongFrames / 50 };
    };
    const none = run(1);
    const chosen = run(resolveParameters({}).headSwitchFrames);
    expect(none.spuriousPerSequence).toBeGreaterThan(40);
    expect(chosen.spuriousPerSequence).toBeLessThan(0.1);
    expect(chosen.wrongFramesPerSequence).toBeLessThan(none.wrongFramesPerSequence);
  });
});
