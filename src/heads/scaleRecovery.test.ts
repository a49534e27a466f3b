import { beforeAll, describe, expect, it } from "vitest";
import { generateScene } from "../synthetic/scene.js";
import { renderFrame, syntheticCalibration } from "../synthetic/frames.js";
import { ScaleFilter, fitInverseDepth, relativeDepthError } from "./scaleRecovery.js";

// The synthetic world has exact depth. A relative model is simulated from it: d = ((1/z)(1 + e) − t0) / s0,
// with an unknown affine (s0, t0) and a 3 % multiplicative model error e per pixel.
const W = 160;
const H = 120;
const S0 = 0.37;
const T0 = 0.05;

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const gauss = (random: () => number) => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());

let truths: Float32Array[];
beforeAll(() => {
  const scene = generateScene(11);
  truths = Array.from({ length: 30 }, (_, i) => Float32Array.from(renderFrame(scene, i, { calibration: syntheticCalibration(W, H), noise: 0 }).depth));
});

function relative(truth: Float32Array, seed: number): Float32Array {
  const random = lcg(seed);
  return truth.map((z) => ((1 / z) * (1 + 0.03 * gauss(random)) - T0) / S0);
}

/** 16 "LiDAR beams": 16 rows, every 4th pixel, 1 % range noise. */
function beams(truth: Float32Array, seed: number): Float32Array {
  const random = lcg(seed);
  const anchors = new Float32Array(truth.length).fill(NaN);
  for (let b = 0; b < 16; b++) {
    const v = Math.round(((b + 0.5) * H) / 16);
    for (let u = 0; u < W; u += 4) anchors[v * W + u] = truth[v * W + u]! * (1 + 0.01 * gauss(random));
  }
  return anchors;
}

/** A depth camera with 60 % holes and 1 % noise. */
function holey(truth: Float32Array, seed: number): Float32Array {
  const random = lcg(seed);
  return truth.map((z) => (random() < 0.6 ? NaN : z * (1 + 0.01 * gauss(random))));
}

function absRel(truth: Float32Array, disparity: Float32Array, scale: number, shift: number): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += Math.abs(1 / (scale * disparity[i]! + shift) - truth[i]!) / truth[i]!;
  return sum / truth.length;
}

describe("fitInverseDepth", () => {
  it("with each anchor source, AbsRel after recovery is within 10 % of an oracle fit on full ground truth", () => {
    const truth = truths[0]!;
    const d = relative(truth, 1);
    const oracle = fitInverseDepth(d, truth, { tolerance: Infinity })!;
    const oracleAbsRel = absRel(truth, d, oracle.scale, oracle.shift);
    for (const [source, anchors] of [["16 beams", beams(truth, 2)], ["holey depth image", holey(truth, 3)]] as const) {
      const fit = fitInverseDepth(d, anchors)!;
      expect(absRel(truth, d, fit.scale, fit.shift), source).toBeLessThan(1.1 * oracleAbsRel);
    }
    expect(oracle.scale).toBeCloseTo(S0, 1);
  });

  it("20 % corrupted anchors move the scale by less than 2 %", () => {
    const truth = truths[0]!;
    const d = relative(truth, 1);
    const clean = beams(truth, 2);
    const random = lcg(4);
    const corrupted = clean.map((z) => (Number.isFinite(z) && random() < 0.2 ? z * (0.3 + 2.7 * random()) : z));
    const a = fitInverseDepth(d, clean)!;
    const b = fitInverseDepth(d, corrupted)!;
    expect(Math.abs(b.scale / a.scale - 1)).toBeLessThan(0.02);
    expect(b.inliers).toBeLessThan(a.inliers);
  });

  it("needs two usable anchors", () => {
    expect(fitInverseDepth(new Float32Array([1, 2]), new Float32Array([NaN, 3]))).toBeUndefined();
  });
});

describe("ScaleFilter", () => {
  const run = (smoothing: number, anchorsAt: (frame: number) => Float32Array | undefined) => {
    const filter = new ScaleFilter({ smoothing, minInliers: 20 });
    return truths.map((truth, i) => {
      const d = relative(truth, 100 + i);
      const anchors = anchorsAt(i);
      const fit = anchors ? fitInverseDepth(d, anchors) : undefined;
      return filter.update(i / 10, fit, (s, t) => relativeDepthError(d, anchors ?? new Float32Array(d.length).fill(NaN), s, t))!;
    });
  };
  const stdLog = (xs: number[]) => {
    const logs = xs.map(Math.log);
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    return Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length);
  };

  it("with smoothing, the scale jitters less than 1 % (std of log scale) over a sequence with a constant true scale", () => {
    const raw = run(0, (i) => beams(truths[i]!, 200 + i));
    const smoothed = run(1.0, (i) => beams(truths[i]!, 200 + i));
    expect(stdLog(smoothed.slice(5).map((e) => e.scale))).toBeLessThan(0.01);
    expect(stdLog(smoothed.slice(5).map((e) => e.scale))).toBeLessThan(stdLog(raw.slice(5).map((e) => e.scale)));
  });

  it("keeps the last estimate while anchors are missing, says so, and takes new anchors when they return", () => {
    const estimates = run(0.5, (i) => (i >= 10 && i < 15 ? undefined : beams(truths[i]!, 300 + i)));
    expect(estimates.slice(10, 15).every((e) => e.held && e.scale === estimates[9]!.scale)).toBe(true);
    expect(estimates[14]!.age).toBeCloseTo(0.5, 6);
    expect(estimates[15]!.held).toBe(false);
    expect(estimates[15]!.age).toBe(0);
  });

  it("resets to the new fit when the scene changes (the smoothed estimate no longer fits the anchors)", () => {
    const filter = new ScaleFilter({ smoothing: 10, minInliers: 20 });
    const truth = truths[0]!;
    const d = relative(truth, 1);
    const anchors = beams(truth, 2);
    const first = filter.update(0, fitInverseDepth(d, anchors), (s, t) => relativeDepthError(d, anchors, s, t))!;
    // The same model output, now with anchors three times as far: a different scale altogether.
    const far = anchors.map((z) => 3 * z);
    const second = filter.update(0.1, fitInverseDepth(d, far), (s, t) => relativeDepthError(d, far, s, t))!;
    expect(first.reset).toBe(true);
    expect(second.reset).toBe(true);
    expect(second.scale / first.scale).toBeCloseTo(1 / 3, 2);
  });
  it("does not reset on a steady scene where most anchors miss the fit (inlier and all-anchor errors compared like with like)", () => {
    // 45 % exact anchors (0.5 % noise), 55 % off by 8-20 % either way, scattered (no consensus of their own).
    const random = lcg(77);
    const n = 2000;
    const d = Float32Array.from({ length: n }, () => 0.5 + 2 * random());
    const frames = Array.from({ length: 10 }, () =>
      d.map((x) => {
        const z = 1 / (S0 * x + T0);
        return random() < 0.45 ? z * (1 + 0.005 * gauss(random)) : z * (1 + (random() < 0.5 ? -1 : 1) * (0.08 + 0.12 * random()));
      }),
    );
    const filter = new ScaleFilter({ smoothing: 1, minInliers: 20 });
    const estimates = frames.map((anchors, i) =>
      filter.update(i / 10, fitInverseDepth(d, anchors, { tolerance: 0.05 }), (s, t) => relativeDepthError(d, anchors, s, t))!,
    );
    expect(estimates.map((e) => e.reset)).toEqual([true, ...Array(9).fill(false)]);
    expect(estimates[9]!.scale / S0).toBeCloseTo(1, 2);
  });
});
