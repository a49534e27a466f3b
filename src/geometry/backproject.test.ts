import { describe, expect, it } from "vitest";
import type { CameraCalibration, PinholeIntrinsics } from "../frame.js";
import { backProject } from "./backproject.js";
import { decimateIntrinsics, intrinsicsFromCalibration } from "./intrinsics.js";

// Small deterministic PRNG so failures reproduce.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const baseCal: CameraCalibration = {
  width: 64,
  height: 48,
  distortionModel: "plumb_bob",
  d: [0, 0, 0, 0, 0],
  k: [60, 0, 31, 0, 62, 23.5, 0, 0, 1],
  r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  p: [55, 0, 30.25, 0, 0, 57, 22, 0, 0, 0, 1, 0],
  binningX: 0,
  binningY: 0,
  roi: { xOffset: 0, yOffset: 0, width: 0, height: 0, doRectify: false },
};

function randomDepth(w: number, h: number, rand: () => number): Float32Array {
  const d = new Float32Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = 0.3 + rand() * 9.5;
  return d;
}

const wide = { decimation: 1, minRange: 0, maxRange: Infinity };

describe("backProject", () => {
  for (const [name, cal, fx, fy, cx, cy] of [
    ["P", baseCal, 55, 57, 30.25, 22],
    ["K (P zero)", { ...baseCal, p: new Array(12).fill(0) }, 60, 62, 31, 23.5],
  ] as const) {
    it(`matches the pinhole formula within 1e-5 m using ${name}`, () => {
      const intr = intrinsicsFromCalibration(cal);
      const rand = rng(42);
      const depth = randomDepth(64, 48, rand);
      const { width, height, xyz } = backProject(depth, intr, wide);
      expect([width, height]).toEqual([64, 48]);
      for (let k = 0; k < 200; k++) {
        const u = Math.floor(rand() * 64);
        const v = Math.floor(rand() * 48);
        const z = depth[v * 64 + u]!;
        const o = 3 * (v * 64 + u);
        expect(Math.abs(xyz[o]! - ((u - cx) * z) / fx)).toBeLessThan(1e-5);
        expect(Math.abs(xyz[o + 1]! - ((v - cy) * z) / fy)).toBeLessThan(1e-5);
        expect(xyz[o + 2]).toBe(z);
      }
    });
  }

  it("gives hand-worked points in the optical frame (x right, y down)", () => {
    const intr: PinholeIntrinsics = { width: 3, height: 2, fx: 2, fy: 4, cx: 1, cy: 0.5 };
    const depth = new Float32Array([2, 2, 2, 4, 4, 4]);
    const { xyz } = backProject(depth, intr, wide);
    // (u=0, v=0, z=2): x = (0-1)·2/2 = -1, y = (0-0.5)·2/4 = -0.25
    expect(Array.from(xyz.subarray(0, 3))).toEqual([-1, -0.25, 2]);
    // (u=2, v=1, z=4): x = (2-1)·4/2 = 2, y = (1-0.5)·4/4 = 0.5
    expect(Array.from(xyz.subarray(15, 18))).toEqual([2, 0.5, 4]);
  });

  it("turns non-finite and out-of-range depths into all-NaN points", () => {
    const intr: PinholeIntrinsics = { width: 7, height: 1, fx: 1, fy: 1, cx: 0, cy: 0 };
    const depth = new Float32Array([NaN, Infinity, -Infinity, 0.49, 0.5, 10, 10.01]);
    const { xyz } = backProject(depth, intr, { decimation: 1, minRange: 0.5, maxRange: 10 });
    const valid = [false, false, false, false, true, true, false];
    valid.forEach((ok, i) => {
      const p = Array.from(xyz.subarray(3 * i, 3 * i + 3));
      if (ok) expect(p.every(Number.isFinite)).toBe(true);
      else expect(p.every(Number.isNaN)).toBe(true);
    });
    expect(xyz[3 * 4 + 2]).toBe(0.5);
    expect(xyz[3 * 5 + 2]).toBe(10);

    // With an unbounded range +Inf is still invalid.
    const inf = backProject(new Float32Array([Infinity]), { ...intr, width: 1 }, wide).xyz;
    expect(Number.isNaN(inf[2])).toBe(true);
  });

  it("samples every n-th pixel, matching decimated intrinsics", () => {
    const intr = intrinsicsFromCalibration({ ...baseCal, width: 65, height: 47 });
    const depth = randomDepth(65, 47, rng(7));
    for (const n of [2, 3, 4]) {
      const out = backProject(depth, intr, { decimation: n, minRange: 0, maxRange: 100 });
      expect(out.width).toBe(Math.ceil(65 / n));
      expect(out.height).toBe(Math.ceil(47 / n));
      expect(out.xyz.length).toBe(3 * out.width * out.height);
      // The same as back-projecting the subsampled depth with decimateIntrinsics.
      const dIntr = decimateIntrinsics(intr, n);
      const sub = new Float32Array(dIntr.width * dIntr.height);
      for (let i = 0; i < dIntr.height; i++) for (let j = 0; j < dIntr.width; j++) sub[i * dIntr.width + j] = depth[i * n * 65 + j * n]!;
      const ref = backProject(sub, dIntr, { decimation: 1, minRange: 0, maxRange: 100 });
      for (let k = 0; k < out.xyz.length; k++) expect(Math.abs(out.xyz[k]! - ref.xyz[k]!)).toBeLessThan(1e-5);
      // Last grid point is pixel (n·(w'-1), n·(h'-1)).
      const u = n * (out.width - 1);
      const v = n * (out.height - 1);
      const z = depth[v * 65 + u]!;
      const last = out.xyz.length - 3;
      expect(out.xyz[last]).toBeCloseTo(((u - intr.cx) * z) / intr.fx, 5);
      expect(out.xyz[last + 1]).toBeCloseTo(((v - intr.cy) * z) / intr.fy, 5);
    }
  });

  it("reuses an output buffer and checks sizes", () => {
    const intr: PinholeIntrinsics = { width: 2, height: 2, fx: 1, fy: 1, cx: 0, cy: 0 };
    const out = new Float32Array(12);
    const res = backProject(new Float32Array([1, 1, 1, 1]), intr, wide, out);
    expect(res.xyz).toBe(out);
    expect(() => backProject(new Float32Array(3), intr, wide)).toThrow(RangeError);
    expect(() => backProject(new Float32Array(4), intr, wide, new Float32Array(3))).toThrow(RangeError);
    expect(() => backProject(new Float32Array(4), intr, { decimation: 1, minRange: 2, maxRange: 1 })).toThrow(RangeError);
  });
});
