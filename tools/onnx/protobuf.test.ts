import { describe, expect, it } from "vitest";
import { ProtoWriter } from "./protobuf.js";

const bytes = (w: ProtoWriter): number[] => [...w.finish()];

describe("ProtoWriter", () => {
  it("writes varint fields (protobuf docs: 150 → 08 96 01)", () => {
    expect(bytes(new ProtoWriter().varint(1, 1))).toEqual([0x08, 0x01]);
    expect(bytes(new ProtoWriter().varint(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes(new ProtoWriter().varint(1, 300))).toEqual([0x08, 0xac, 0x02]);
    expect(bytes(new ProtoWriter().varint(1, 0))).toEqual([0x08, 0x00]);
  });

  it("writes negative int64 as ten-byte two's complement", () => {
    expect(bytes(new ProtoWriter().varint(3, -1))).toEqual([
      0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    expect(bytes(new ProtoWriter().varint(1, -2))).toEqual([
      0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
  });

  it("writes bigint varints beyond 2^53", () => {
    // 2^63 = 0x8000000000000000: nine 0x80 continuation bytes then 0x01.
    expect(bytes(new ProtoWriter().varint(1, 1n << 63n))).toEqual([
      0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
    ]);
  });

  it("encodes multi-byte keys for field numbers above 15", () => {
    // Field 20, wire type 0: key 160 → a0 01.
    expect(bytes(new ProtoWriter().varint(20, 7))).toEqual([0xa0, 0x01, 0x07]);
  });

  it("writes strings as length-delimited UTF-8 (docs: 12 07 'testing')", () => {
    expect(bytes(new ProtoWriter().string(2, "testing"))).toEqual([
      0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67,
    ]);
    expect(bytes(new ProtoWriter().string(1, "é"))).toEqual([0x0a, 0x02, 0xc3, 0xa9]);
    expect(bytes(new ProtoWriter().string(1, ""))).toEqual([0x0a, 0x00]);
  });

  it("writes floats as little-endian fixed32", () => {
    expect(bytes(new ProtoWriter().float(2, 1))).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    expect(bytes(new ProtoWriter().float(2, -2.5))).toEqual([0x15, 0x00, 0x00, 0x20, 0xc0]);
  });

  it("writes packed repeated varints (docs: 22 06 03 8e 02 9e a7 05)", () => {
    expect(bytes(new ProtoWriter().packedVarints(4, [3, 270, 86942]))).toEqual([
      0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05,
    ]);
  });

  it("writes packed repeated floats", () => {
    expect(bytes(new ProtoWriter().packedFloats(7, [1, -2]))).toEqual([
      0x3a, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0,
    ]);
  });

  it("embeds messages with their length and grows past the initial buffer", () => {
    const inner = new ProtoWriter().varint(1, 150).finish();
    expect(bytes(new ProtoWriter().message(3, inner))).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);

    const big = new Uint8Array(1000).fill(7);
    const out = new ProtoWriter().bytes(1, big).finish();
    expect(out.length).toBe(1 + 2 + 1000);
    expect([...out.subarray(0, 3)]).toEqual([0x0a, 0xe8, 0x07]);
    expect(out[1002]).toBe(7);
  });

  it("rejects field numbers and values it cannot encode", () => {
    expect(() => new ProtoWriter().varint(0, 1)).toThrow(/field number 0/);
    expect(() => new ProtoWriter().varint(1, 0.5)).toThrow(/safe integer/);
  });
});
