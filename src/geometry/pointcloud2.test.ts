import { describe, expect, it } from "vitest";
import { sampleGrid, sampleLabelGrid, sampleRgbGrid } from "../../tests/support/twoPassPointCloud.js";
import { PointFieldType } from "../messages/types.js";
import {
  packPointCloud,
  POINT_FIELD_FLOAT32,
  POINT_FIELD_UINT32,
  POINT_FIELDS,
  POINT_STEP,
  type PointFieldLayout,
} from "./pointcloud2.js";

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
      ["label", 16, POINT_FIELD_UINT32, 1],
    ]);
    expect([POINT_FIELD_UINT32, POINT_FIELD_FLOAT32]).toEqual([PointFieldType.UINT32, PointFieldType.FLOAT32]);
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
      expect(view.getUint32(o + 16, true)).toBe(labels[i]);
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
      expect(view.getUint32(i * 20 + 16, true)).toBe(255);
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

// pcl::fromROSMsg as PCL 1.12-1.14 does it (ROS Humble and Jazzy), written out from
// PointCloudLibrary/pcl common/include/pcl/conversions.h (createMapping, fromPCLPointCloud2),
// common/include/pcl/PCLPointField.h (FieldMatches) and the rgb/rgba FieldMatches specialisations
// and POINT_CLOUD_REGISTER_POINT_STRUCT entries of common/include/pcl/impl/point_types.hpp.
// PCL 1.15 adds a cast for same-name fields of another datatype; older ones leave them unset.
interface PclField {
  readonly name: string;
  readonly structOffset: number;
  readonly datatype: number;
}
interface PclPointType {
  readonly fields: readonly PclField[];
  readonly size: number;
}
const F32 = PointFieldType.FLOAT32;
const U32 = PointFieldType.UINT32;
const XYZ: PclField[] = [
  { name: "x", structOffset: 0, datatype: F32 },
  { name: "y", structOffset: 4, datatype: F32 },
  { name: "z", structOffset: 8, datatype: F32 },
];
const PCL_TYPES: Record<string, PclPointType> = {
  // struct EIGEN_ALIGN16 _PointXYZL { PCL_ADD_POINT4D; std::uint32_t label; }
  PointXYZL: { fields: [...XYZ, { name: "label", structOffset: 16, datatype: U32 }], size: 32 },
  // struct EIGEN_ALIGN16 _PointXYZRGBL { PCL_ADD_POINT4D; PCL_ADD_RGB; std::uint32_t label; }, registered as rgba
  PointXYZRGBL: {
    fields: [...XYZ, { name: "rgba", structOffset: 16, datatype: U32 }, { name: "label", structOffset: 20, datatype: U32 }],
    size: 32,
  },
  PointXYZRGB: { fields: [...XYZ, { name: "rgb", structOffset: 16, datatype: F32 }], size: 32 },
};

function fieldMatches(tag: PclField, field: PointFieldLayout): boolean {
  const countOk = field.count === 1 || field.count === 0;
  if (tag.name === "rgba" && field.name === "rgb") return (field.datatype === F32 || field.datatype === U32) && field.count === 1;
  if (tag.name === "rgb" && field.name === "rgba") return field.datatype === U32 && field.count === 1;
  if (tag.name === "rgb") return field.name === "rgb" && (field.datatype === F32 || field.datatype === U32) && field.count === 1;
  return field.name === tag.name && field.datatype === tag.datatype && countOk;
}

/** Each point as PCL's struct bytes, with the names PCL could not match. */
function pclFromRosMsg(type: PclPointType, fields: readonly PointFieldLayout[], pointStep: number, data: Uint8Array, count: number) {
  const unmatched: string[] = [];
  let map: { serialized: number; struct: number; size: number }[] = [];
  for (const tag of type.fields) {
    const field = fields.find((f) => fieldMatches(tag, f));
    if (field) map.push({ serialized: field.offset, struct: tag.structOffset, size: 4 });
    else unmatched.push(tag.name); // PCL_WARN "Failed to find exact match for field"
  }
  map.sort((a, b) => a.serialized - b.serialized);
  const coalesced = map.slice(0, 1);
  for (const next of map.slice(1)) {
    const last = coalesced.at(-1)!;
    if (next.serialized - last.serialized === next.struct - last.struct) last.size += next.struct + next.size - (last.struct + last.size);
    else coalesced.push({ ...next });
  }
  map = coalesced;
  const points = new Uint8Array(count * type.size); // default-constructed: zero labels
  for (let i = 0; i < count; i++) {
    for (const m of map) points.set(data.subarray(i * pointStep + m.serialized, i * pointStep + m.serialized + m.size), i * type.size + m.struct);
  }
  return { view: new DataView(points.buffer), unmatched };
}

describe("the cloud through pcl::fromROSMsg", () => {
  const xyz = new Float32Array([0.5, -0.25, 2, 1, 2, 3, -3, 4, 5]);
  const rgb = new Uint8Array([255, 0, 0, 18, 52, 86, 1, 2, 3]);
  const labels = new Uint16Array([0, 65534, 300]);
  const cloud = packPointCloud(xyz, 3, 1, rgb, labels, 65535);

  for (const [name, type] of Object.entries(PCL_TYPES)) {
    it(`${name} gets every field: x, y, z, colour and the uint32 label`, () => {
      const { view, unmatched } = pclFromRosMsg(type, POINT_FIELDS, POINT_STEP, cloud.data, 3);
      expect(unmatched).toEqual([]);
      for (let i = 0; i < 3; i++) {
        const o = i * type.size;
        for (let c = 0; c < 3; c++) expect(view.getFloat32(o + 4 * c, true)).toBe(xyz[3 * i + c]);
        const label = type.fields.find((f) => f.name === "label");
        if (label) expect(view.getUint32(o + label.structOffset, true)).toBe(labels[i]);
        const colour = type.fields.find((f) => f.name === "rgb" || f.name === "rgba");
        if (colour) {
          expect(view.getUint32(o + colour.structOffset, true) & 0xffffff).toBe((rgb[3 * i]! << 16) | (rgb[3 * i + 1]! << 8) | rgb[3 * i + 2]!);
        }
      }
    });
  }

  it("the former uint16 label matched no PCL field: every label came out 0", () => {
    const former = POINT_FIELDS.map((f) => (f.name === "label" ? { ...f, datatype: PointFieldType.UINT16 } : f));
    const { view, unmatched } = pclFromRosMsg(PCL_TYPES.PointXYZRGBL!, former, POINT_STEP, cloud.data, 3);
    expect(unmatched).toEqual(["label"]);
    expect([0, 1, 2].map((i) => view.getUint32(i * 32 + 20, true))).toEqual([0, 0, 0]);
  });
});
