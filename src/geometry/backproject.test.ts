import { describe, expect, it } from "vitest";
import type { CameraCalibration, PinholeIntrinsics } from "../frame.js";
import { backProjectToXyz, cloudXyz, twoPassPointCloud } from "../../tests/support/twoPassPointCloud.js";
import { backProjectCloud, CloudBuffer } from "./backproject.js";
import { POINT_FIELDS, POINT_STEP } from "./pointcloud2.js";
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

describe("backProjectCloud", () => {
  for (const [name, cal, fx, fy, cx, cy] of [
    ["P", baseCal, 55, 57, 30.25, 22],
    ["K (P zero)", { ...baseCal, p: new Array(12).fill(0) }, 60, 62, 31, 23.5],
  ] as const) {
    it(`matches the pinhole formula within 1e-5 m using ${name}`, () => {
      const intr = intrinsicsFromCalibration(cal);
      const rand = rng(42);
      const depth = randomDepth(64, 48, rand);
      const { width, height, xyz } = backProjectToXyz(depth, intr, wide);
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
    const { xyz } = backProjectToXyz(depth, intr, wide);
    // (u=0, v=0, z=2): x = (0-1)·2/2 = -1, y = (0-0.5)·2/4 = -0.25
    expect(Array.from(xyz.subarray(0, 3))).toEqual([-1, -0.25, 2]);
    // (u=2, v=1, z=4): x = (2-1)·4/2 = 2, y = (1-0.5)·4/4 = 0.5
    expect(Array.from(xyz.subarray(15, 18))).toEqual([2, 0.5, 4]);
  });

  it("turns non-finite and out-of-range depths into all-NaN points", () => {
    const intr: PinholeIntrinsics = { width: 7, height: 1, fx: 1, fy: 1, cx: 0, cy: 0 };
    const depth = new Float32Array([NaN, Infinity, -Infinity, 0.49, 0.5, 10, 10.01]);
    const { xyz } = backProjectToXyz(depth, intr, { decimation: 1, minRange: 0.5, maxRange: 10 });
    const valid = [false, false, false, false, true, true, false];
    valid.forEach((ok, i) => {
      const p = Array.from(xyz.subarray(3 * i, 3 * i + 3));
      if (ok) expect(p.every(Number.isFinite)).toBe(true);
      else expect(p.every(Number.isNaN)).toBe(true);
    });
    expect(xyz[3 * 4 + 2]).toBe(0.5);
    expect(xyz[3 * 5 + 2]).toBe(10);

    // With an unbounded range +Inf is still invalid.
    const inf = backProjectToXyz(new Float32Array([Infinity]), { ...intr, width: 1 }, wide).xyz;
    expect(Number.isNaN(inf[2])).toBe(true);
  });

  it("samples every n-th pixel, matching decimated intrinsics", () => {
    const intr = intrinsicsFromCalibration({ ...baseCal, width: 65, height: 47 });
    const depth = randomDepth(65, 47, rng(7));
    for (const n of [2, 3, 4]) {
      const out = backProjectToXyz(depth, intr, { decimation: n, minRange: 0, maxRange: 100 });
      expect(out.width).toBe(Math.ceil(65 / n));
      expect(out.height).toBe(Math.ceil(47 / n));
      expect(out.xyz.length).toBe(3 * out.width * out.height);
      // The same as back-projecting the subsampled depth with decimateIntrinsics.
      const dIntr = decimateIntrinsics(intr, n);
      const sub = new Float32Array(dIntr.width * dIntr.height);
      for (let i = 0; i < dIntr.height; i++) for (let j = 0; j < dIntr.width; j++) sub[i * dIntr.width + j] = depth[i * n * 65 + j * n]!;
      const ref = backProjectToXyz(sub, dIntr, { decimation: 1, minRange: 0, maxRange: 100 });
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
    const none = { rgb: undefined, labels: undefined, unlabelled: 0 };
    const out = new Uint8Array(4 * POINT_STEP).fill(0xaa);
    const res = backProjectCloud(new Float32Array([1, 1, 1, 1]), intr, wide, none, out);
    expect(res.data).toBe(out);
    expect(Array.from(cloudXyz(res).subarray(9, 12))).toEqual([1, 1, 1]);
    expect(() => backProjectToXyz(new Float32Array(3), intr, wide)).toThrow(RangeError);
    expect(() => backProjectCloud(new Float32Array(4), intr, wide, none, new Uint8Array(4 * POINT_STEP - 1))).toThrow(RangeError);
    // Plain bytes get a copy of the kernel's output, so they need no alignment.
    const unaligned = new Uint8Array(4 * POINT_STEP + 2).subarray(2);
    expect(Array.from(backProjectCloud(new Float32Array([1, 1, 1, 1]), intr, wide, none, unaligned).data)).toEqual(Array.from(res.data));
    expect(() => backProjectToXyz(new Float32Array(4), intr, { decimation: 1, minRange: 2, maxRange: 1 })).toThrow(RangeError);
    expect(() => backProjectCloud(new Float32Array(4), intr, wide, { ...none, rgb: new Uint8Array(11) })).toThrow(/rgb has 11 bytes/);
    expect(() => backProjectCloud(new Float32Array(4), intr, wide, { ...none, labels: new Uint16Array(3) })).toThrow(/labels has 3/);
    expect(() => backProjectCloud(new Float32Array(4), intr, wide, { ...none, unlabelled: 70000 })).toThrow(RangeError);
  });

  it("writes rgb bits and the uint32 label of each grid pixel at their POINT_FIELDS offsets", () => {
    const intr: PinholeIntrinsics = { width: 3, height: 2, fx: 1, fy: 1, cx: 0, cy: 0 };
    const rgb = new Uint8Array([255, 0, 0, 18, 52, 86, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const labels = new Uint16Array([0, 65534, 300, 4, 5, 6]);
    const depth = new Float32Array([1, NaN, 2, 3, 4, Infinity]);
    const cloud = backProjectCloud(depth, intr, { decimation: 2, minRange: 0, maxRange: Infinity }, { rgb, labels, unlabelled: 9 });
    expect([cloud.width, cloud.height, cloud.rowStep]).toEqual([2, 1, 2 * POINT_STEP]);
    const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    const at = (point: number, field: string) => point * POINT_STEP + POINT_FIELDS.find((f) => f.name === field)!.offset;
    // Grid points are pixels (0, 0) and (2, 0); the last is the last pixel of the first row.
    expect(view.getUint32(at(0, "rgb"), true)).toBe(0xff0000);
    expect(view.getUint32(at(1, "rgb"), true)).toBe(0x010203);
    expect([view.getUint32(at(0, "label"), true), view.getUint32(at(1, "label"), true)]).toEqual([0, 300]);
    expect([view.getFloat32(at(1, "x"), true), view.getFloat32(at(1, "z"), true)]).toEqual([4, 2]);
    // The image's very last pixel (no byte after its blue) and missing labels.
    const last = backProjectCloud(depth, intr, wide, { rgb, labels: undefined, unlabelled: 9 });
    const lastView = new DataView(last.data.buffer);
    expect(lastView.getUint32(5 * POINT_STEP + 12, true)).toBe(0x0a0b0c);
    expect(lastView.getUint32(5 * POINT_STEP + 16, true)).toBe(9);
    expect(Number.isNaN(lastView.getFloat32(5 * POINT_STEP + 8, true))).toBe(true);
    const bare = backProjectCloud(depth, intr, wide, { rgb: undefined, labels: undefined, unlabelled: 9 });
    expect(new DataView(bare.data.buffer).getUint32(12, true)).toBe(0);
  });

  it("equals the two-pass cloud (backProject, sampleGrid, packPointCloud) bit for bit, NaNs and decimation included", () => {
    const width = 67;
    const height = 45;
    const intr = intrinsicsFromCalibration({ ...baseCal, width, height });
    const rand = rng(11);
    const depth = randomDepth(width, height, rand);
    // NaN, ±Inf, zero, negative and far depths scattered over the frame, plus a NaN last pixel.
    const specials = [NaN, Infinity, -Infinity, 0, -1, 0.2, 1e30, 12];
    for (let k = 0; k < 300; k++) depth[Math.floor(rand() * depth.length)] = specials[k % specials.length]!;
    depth[depth.length - 1] = NaN;
    const rgb = Uint8Array.from({ length: 3 * width * height }, () => Math.floor(rand() * 256));
    const labels = Uint16Array.from({ length: width * height }, () => Math.floor(rand() * 65536));
    const inPlace = new CloudBuffer();
    backProjectCloud(new Float32Array(4).fill(0xa5), { width: 2, height: 2, fx: 1, fy: 1, cx: 0, cy: 0 }, wide,
      { rgb: undefined, labels: undefined, unlabelled: 3 }, inPlace);
    for (const decimation of [1, 2, 3, 4]) {
      for (const range of [{ minRange: 0, maxRange: Infinity }, { minRange: 0.5, maxRange: 9 }]) {
        const opts = { decimation, ...range };
        for (const [r, l] of [[rgb, labels], [undefined, undefined], [rgb, undefined]] as const) {
          const reference = twoPassPointCloud(depth, intr, opts, r, l, 65535);
          // A dirty reused buffer (every byte must be written), then in place in a CloudBuffer
          // that last held another cloud.
          const out = new Uint8Array(reference.data.length).fill(0x5a);
          const copied = backProjectCloud(depth, intr, opts, { rgb: r, labels: l, unlabelled: 65535 }, out);
          expect(copied.data).toBe(out);
          const cloud = backProjectCloud(depth, intr, opts, { rgb: r, labels: l, unlabelled: 65535 }, inPlace);
          expect(cloud.data.findIndex((byte, i) => byte !== out[i])).toBe(-1);
          expect([cloud.width, cloud.height, cloud.rowStep, cloud.pointStep]).toEqual([reference.width, reference.height, reference.rowStep, reference.pointStep]);
          expect(cloud.fields).toBe(reference.fields);
          const differing = cloud.data.findIndex((byte, i) => byte !== reference.data[i]);
          expect({ decimation, ...range, rgb: r !== undefined, labels: l !== undefined, differing }).toEqual({
            decimation, ...range, rgb: r !== undefined, labels: l !== undefined, differing: -1,
          });
        }
      }
    }
  });

  it("tests float32 depths against the float64 range exactly, also where the bounds have no float32", () => {
    const f32 = (x: number) => Math.fround(x);
    const next = (x: number, step: number) => {
      const bits = new Uint32Array(new Float32Array([x]).buffer);
      bits[0]! += step;
      return new Float32Array(bits.buffer)[0]!;
    };
    // fround(0.7) < 0.7 and fround(0.3) > 0.3: a float32 comparison with the rounded bounds
    // would keep the first depth and drop the last.
    expect(f32(0.7)).toBeLessThan(0.7);
    expect(f32(0.3)).toBeGreaterThan(0.3);
    const depth = new Float32Array([f32(0.7), next(f32(0.7), 1), next(f32(0.3), -1), f32(0.3)]);
    const intr: PinholeIntrinsics = { width: 4, height: 1, fx: 1, fy: 1, cx: 0, cy: 0 };
    const z = (minRange: number, maxRange: number) =>
      Array.from(cloudXyz(backProjectCloud(depth, intr, { decimation: 1, minRange, maxRange }, { rgb: undefined, labels: undefined, unlabelled: 0 })))
        .filter((_, i) => i % 3 === 2);
    expect(z(0.7, 10).map(Number.isNaN)).toEqual([true, false, true, true]);
    expect(z(0, 0.3).map(Number.isNaN)).toEqual([true, true, false, true]);
    // A finite bound beyond float32's range keeps the largest float32 and drops +Inf.
    const far = new Float32Array([3.4028234663852886e38, Infinity, 1, 1]);
    const cloud = backProjectCloud(far, intr, { decimation: 1, minRange: 0, maxRange: 1e39 }, { rgb: undefined, labels: undefined, unlabelled: 0 });
    expect(Array.from(cloudXyz(cloud)).filter((_, i) => i % 3 === 2).map(Number.isNaN)).toEqual([false, true, false, false]);
  });

  it("fills a CloudBuffer in place, and grows it for a bigger cloud (detaching the previous bytes)", () => {
    const buffer = new CloudBuffer();
    const attrs = { rgb: undefined, labels: undefined, unlabelled: 5 };
    const small: PinholeIntrinsics = { width: 4, height: 2, fx: 1, fy: 1, cx: 0, cy: 0 };
    const first = backProjectCloud(new Float32Array(8).fill(2), small, wide, attrs, buffer);
    const again = backProjectCloud(new Float32Array(8).fill(3), small, wide, attrs, buffer);
    expect(again.data.buffer).toBe(first.data.buffer);
    expect(new DataView(again.data.buffer).getFloat32(8, true)).toBe(3);
    // 640x480 needs ~9 MB of the memory's 64 KiB: a grow, after which the old view is empty.
    const big: PinholeIntrinsics = { width: 640, height: 480, fx: 500, fy: 500, cx: 320, cy: 240 };
    const grown = backProjectCloud(new Float32Array(640 * 480).fill(1.5), big, wide, attrs, buffer);
    expect(grown.data.length).toBe(640 * 480 * POINT_STEP);
    expect(again.data.length).toBe(0);
    const view = new DataView(grown.data.buffer, grown.data.byteOffset);
    const last = (640 * 480 - 1) * POINT_STEP;
    expect([view.getFloat32(last, true), view.getFloat32(last + 4, true), view.getFloat32(last + 8, true)]).toEqual([
      Math.fround((639 - 320) * 1.5 / 500), Math.fround((479 - 240) * 1.5 / 500), 1.5,
    ]);
    expect(view.getUint32(last + 16, true)).toBe(5);
  });
});
