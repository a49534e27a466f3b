import { InferenceSession, Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { attr, encodeModel, type GraphSpec } from "./model.js";

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** Index of `needle` inside `hay`, or -1. */
function indexOf(hay: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const identity: GraphSpec = {
  name: "g",
  nodes: [{ opType: "Add", name: "add", inputs: ["x", "w"], outputs: ["y"] }],
  initializers: [{ name: "w", dims: [2], data: [1, 2] }],
  inputs: [{ name: "x", dims: [1, "H"] }],
  outputs: [{ name: "y", dims: [1, "H"] }],
};

describe("encodeModel", () => {
  const model = encodeModel(identity);

  it("starts with ir_version 8 and producer depthseg, ends with opset 17", () => {
    expect([...model.subarray(0, 12)]).toEqual([0x08, 0x08, 0x12, 0x08, ...ascii("depthseg")]);
    // opset_import (field 8): domain "" (0a 00), version 17 (10 11).
    expect([...model.subarray(model.length - 6)]).toEqual([0x42, 0x04, 0x0a, 0x00, 0x10, 0x11]);
  });

  it("writes initializers as float32 raw_data, little-endian", () => {
    // TensorProto: dims [2], data_type FLOAT, name "w", raw_data 1.0f 2.0f.
    const tensor = [0x0a, 0x01, 0x02, 0x10, 0x01, 0x42, 0x01, 0x77, 0x4a, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];
    expect(indexOf(model, [0x2a, tensor.length, ...tensor])).toBeGreaterThan(0);
  });

  it("writes value_info with numeric and symbolic dims", () => {
    const shape = [0x0a, 0x02, 0x08, 0x01, 0x0a, 0x03, 0x12, 0x01, 0x48];
    const tensorType = [0x08, 0x01, 0x12, shape.length, ...shape];
    const type = [0x0a, tensorType.length, ...tensorType];
    const valueInfo = [0x0a, 0x01, 0x78, 0x12, type.length, ...type];
    // graph.input is field 11 → key 0x5a.
    expect(indexOf(model, [0x5a, valueInfo.length, ...valueInfo])).toBeGreaterThan(0);
  });

  it("writes each attribute kind with its type tag", () => {
    const bytes = encodeModel({
      ...identity,
      nodes: [
        {
          opType: "Identity",
          inputs: ["x"],
          outputs: ["y"],
          attributes: {
            i: attr.int(1),
            p: attr.ints([1, 2]),
            f: attr.float(1),
            a: attr.floats([1]),
            s: attr.string("hi"),
          },
        },
      ],
    });
    const expected: number[][] = [
      [0x0a, 0x01, ...ascii("i"), 0x18, 0x01, 0xa0, 0x01, 0x02],
      [0x0a, 0x01, ...ascii("p"), 0x42, 0x02, 0x01, 0x02, 0xa0, 0x01, 0x07],
      [0x0a, 0x01, ...ascii("f"), 0x15, 0, 0, 0x80, 0x3f, 0xa0, 0x01, 0x01],
      [0x0a, 0x01, ...ascii("a"), 0x3a, 0x04, 0, 0, 0x80, 0x3f, 0xa0, 0x01, 0x06],
      [0x0a, 0x01, ...ascii("s"), 0x22, 0x02, ...ascii("hi"), 0xa0, 0x01, 0x03],
    ];
    for (const attribute of expected) {
      // NodeProto.attribute is field 5 → key 0x2a.
      expect(indexOf(bytes, [0x2a, attribute.length, ...attribute])).toBeGreaterThan(0);
    }
  });

  it("loads and runs in onnxruntime with a dynamic dim", async () => {
    const session = await InferenceSession.create(model);
    expect(session.inputNames).toEqual(["x"]);
    expect(session.outputNames).toEqual(["y"]);
    const out = await session.run({ x: new Tensor("float32", new Float32Array([10, 20]), [1, 2]) });
    expect(out["y"]?.dims).toEqual([1, 2]);
    expect([...(out["y"]?.data as Float32Array)]).toEqual([11, 22]);
  });

  it("rejects an initializer whose data does not fill its dims", () => {
    expect(() =>
      encodeModel({ ...identity, initializers: [{ name: "w", dims: [2, 2], data: [1, 2] }] }),
    ).toThrow('initializer "w": dims [2, 2] need 4 values, got 2');
  });
});
