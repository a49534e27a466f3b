import { describe, expect, it } from "vitest";
import { float16ToFloat32 } from "./float16.js";

describe("float16ToFloat32", () => {
  it("decodes normals, subnormals, signed zeros, the extremes, ±Inf and NaN exactly", () => {
    const bits = Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0xfe01]);
    const got = float16ToFloat32(bits);
    expect(Array.from(got.slice(0, 7))).toEqual([1, -2, 0.333251953125, 65504, 2 ** -14, 2 ** -24, 1023 * 2 ** -24]);
    expect(Object.is(got[7], 0)).toBe(true);
    expect(Object.is(got[8], -0)).toBe(true);
    expect([got[9], got[10]]).toEqual([Infinity, -Infinity]);
    expect(Number.isNaN(got[11]!) && Number.isNaN(got[12]!)).toBe(true);
  });

  it("round-trips every finite binary16 value through float32 (monotone, none lost)", () => {
    const all = new Uint16Array(0x7c00).map((_, i) => i); // +0 .. 65504
    const v = float16ToFloat32(all);
    for (let i = 1; i < v.length; i++) expect(v[i]! > v[i - 1]!).toBe(true);
    expect(v[v.length - 1]).toBe(65504);
  });

  it("refuses an output buffer of the wrong length", () => {
    expect(() => float16ToFloat32(new Uint16Array(2), new Float32Array(3))).toThrow("out has 3 values, bits has 2");
  });
});
