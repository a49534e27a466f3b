import { describe, expect, it } from "vitest";
import { packPointCloud, POINT_FIELD_FLOAT32, POINT_FIELD_UINT16, sampleGrid, sampleLabelGrid, sampleRgbGrid } from "./pointcloud2.js";

describe("packPointCloud", () => {
  const width = 3;
  const height = 2;
  const xyz = new Float32Array([
    0.5, -0.25, 2, /**/ NaN, NaN, NaN, /**/ 1e-3, 123.456, 7.5,
    -3, 4, 5, /**/ 0, 0, 0.1, /**/ 1, 2, 3,
  ]);
  const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 18, 52, 86, 255, 255, 255, 1, 2, 3]);
  const labels = new Uint16Array([0, 1, 65535, 300, 7, 2]);

  it("describes the field layout", () => {
    const pc = packPointCloud(xyz, width, height, rgb, labels, 255);
    expect(pc.fields.map((f) => [f.name, f.offset, f.datatype, f.count])).toEqual([
      ["x", 0, POINT_FIELD_FLOAT32, 1],
      ["y", 4, POINT_FIELD_FLOAT32, 1],
      ["z", 8, POINT_FIELD_FLOAT32, 1],
      ["rgb", 12, 7, 1],
      ["label", 16, POINT_FIELD_UINT16, 1],
    ]);
    expect(POINT_FIELD_UINT16).toBe(4);
    expect(pc.pointStep).toBe(20);
    expect(pc.rowStep).toBe(60);
    expect([pc.width, pc.height, pc.isDense, pc.isBigendian]).toEqual([3, 2, false, false]);
    expect(pc.data.byteLength).toBe(120);
  });

  it("round-trips x, y, z, rgb bits and label through little-endian bytes", () => {
    const pc = packPointCloud(xyz, width, height, rgb, labels, 255);
    const view = new DataView(pc.data.buffer, pc.data.byteOffset, pc.data.byteLength);
    for (let i = 0; i < width * height; i++) {
      const o = i * pc.pointStep;
      for (let c = 0; c < 3; c++) {
        const got = view.getFloat32(o + 4 * c, true);
        const want = xyz[3 * i + c]!;
        if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
        else expect(got).toBe(want);
      }
      const bits = view.getUint32(o + 12, true);
      expect(bits).toBe((rgb[3 * i]! << 16) | (rgb[3 * i + 1]! << 8) | rgb[3 * i + 2]!);
      expect(view.getUint16(o + 16, true)).toBe(labels[i]);
      expect(view.getUint16(o + 18, true)).toBe(0);
    }
    // Spot values worked by hand.
    expect(view.getUint32(12, true)).toBe(0x00ff0000);
    expect(view.getUint32(3 * 20 + 12, true)).toBe(0x00123456);
    // The rgb float decodes like PCL does: reinterpret its 4 bytes as uint32.
    const asFloat = view.getFloat32(3 * 20 + 12, true);
    const back = new DataView(new ArrayBuffer(4));
    back.setFloat32(0, asFloat, true);
    expect(back.getUint32(0, true)).toBe(0x00123456);
  });

  it("fills black and the unlabelled value when rgb or labels are missing", () => {
    const pc = packPointCloud(xyz, width, height, undefined, undefined, 255);
    const view = new DataView(pc.data.buffer);
    for (let i = 0; i < 6; i++) {
      expect(view.getUint32(i * 20 + 12, true)).toBe(0);
      expect(view.getUint16(i * 20 + 16, true)).toBe(255);
    }
  });

  it("writes every byte of a reused `out`, padding included", () => {
    const fresh = packPointCloud(xyz, width, height, rgb, labels, 255);
    const dirty = new Uint8Array(120).fill(0xab);
    const reused = packPointCloud(xyz, width, height, rgb, labels, 255, dirty);
    expect(reused.data).toBe(dirty);
    expect(Buffer.from(reused.data).equals(Buffer.from(fresh.data))).toBe(true);
    expect(packPointCloud(xyz, width, height, undefined, undefined, 255, dirty).data).toBe(dirty);
    expect(Buffer.from(dirty).equals(Buffer.from(packPointCloud(xyz, width, height, undefined, undefined, 255).data))).toBe(true);
    expect(() => packPointCloud(xyz, width, height, rgb, labels, 255, new Uint8Array(119))).toThrow(RangeError);
    expect(() => packPointCloud(xyz, width, height, rgb, labels, 255, new Uint8Array(122).subarray(2))).toThrow(RangeError);
  });

  it("checks sizes", () => {
    expect(() => packPointCloud(xyz, 4, 2, rgb, labels, 255)).toThrow(RangeError);
    expect(() => packPointCloud(xyz, 3, 2, rgb.subarray(3), labels, 255)).toThrow(RangeError);
    expect(() => packPointCloud(xyz, 3, 2, rgb, labels.subarray(1), 255)).toThrow(RangeError);
    expect(() => packPointCloud(xyz, 3, 2, rgb, labels, 70000)).toThrow(RangeError);
  });
});

describe("sampleGrid", () => {
  it("keeps every n-th pixel from 0, like backProject's decimation", () => {
    // 5x3 single channel: value = 10·v + u
    const labels = new Uint16Array(15);
    for (let v = 0; v < 3; v++) for (let u = 0; u < 5; u++) labels[v * 5 + u] = 10 * v + u;
    expect(Array.from(sampleLabelGrid(labels, 5, 3, 2))).toEqual([0, 2, 4, 20, 22, 24]);
    expect(Array.from(sampleLabelGrid(labels, 5, 3, 3))).toEqual([0, 3]);
    expect(sampleLabelGrid(labels, 5, 3, 1)).toBe(labels);
    const dst = new Uint16Array(6).fill(999);
    expect(sampleGrid(labels, 5, 3, 1, 2, dst)).toBe(dst);
    expect(Array.from(dst)).toEqual([0, 2, 4, 20, 22, 24]);
    expect(() => sampleGrid(labels, 5, 3, 1, 2, new Uint16Array(5))).toThrow(RangeError);
  });

  it("keeps whole rgb triples and the array type", () => {
    const rgb = new Uint8Array(4 * 2 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = i;
    const out = sampleRgbGrid(rgb, 4, 2, 2);
    expect(out).toBeInstanceOf(Uint8Array);
    // pixels (0,0) and (2,0): bytes 0..2 and 6..8
    expect(Array.from(out)).toEqual([0, 1, 2, 6, 7, 8]);
    const f = sampleGrid(new Float32Array([1.5, 2.5, 3.5, 4.5]), 2, 2, 1, 2);
    expect(f).toBeInstanceOf(Float32Array);
    expect(Array.from(f)).toEqual([1.5]);
    expect(() => sampleGrid(rgb, 4, 3, 3, 2)).toThrow(RangeError);
  });
});
