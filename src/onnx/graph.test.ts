import { InferenceSession, Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { attr, encodeModel as writeModel } from "../../tools/onnx/model.js";
import { appendHead, countNodes, decodeModel, encodeModel, exposeTensor, GraphEditError, graphInputNames, graphOutputNames, removeOutputs } from "./graph.js";

const C = 4;
const K = 3;
const [H, W] = [6, 8];

/** image → Conv 2×2 stride 2 → Relu ("enc_relu", [1, 4, H/2, W/2]); depth = red channel; old_logits = image. */
function smallModel(opsetVersion: number): Uint8Array {
  const weights = Array.from({ length: C * 3 * 2 * 2 }, (_, i) => Math.sin(i + 1));
  return writeModel(
    {
      name: "small",
      inputs: [{ name: "image", dims: [1, 3, "H", "W"] }],
      outputs: [
        { name: "depth", dims: [1, 1, "H", "W"] },
        { name: "old_logits", dims: [1, 3, "H", "W"] },
      ],
      initializers: [
        { name: "enc_w", dims: [C, 3, 2, 2], data: weights },
        { name: "enc_b", dims: [C], data: [0.1, -0.2, 0.3, 0] },
        { name: "unused_by_depth", dims: [1], data: [2] },
      ],
      nodes: [
        { opType: "Conv", name: "enc_conv", inputs: ["image", "enc_w", "enc_b"], outputs: ["enc_conv_out"], attributes: { strides: attr.ints([2, 2]), kernel_shape: attr.ints([2, 2]) } },
        { opType: "Relu", name: "enc_relu", inputs: ["enc_conv_out"], outputs: ["enc_relu_out"] },
        { opType: "Split", name: "split", inputs: ["image"], outputs: ["red", "green", "blue"], attributes: { axis: attr.int(1) } },
        { opType: "Identity", name: "depth_id", inputs: ["red"], outputs: ["depth"] },
        { opType: "Mul", name: "old_head", inputs: ["image", "unused_by_depth"], outputs: ["old_logits"] },
      ],
    },
    { opsetVersion },
  );
}

const image = new Tensor("float32", Float32Array.from({ length: 3 * H * W }, (_, i) => Math.cos(i * 0.7)), [1, 3, H, W]);
const head = {
  inChannels: C,
  outChannels: K,
  weight: Float32Array.from({ length: K * C }, (_, i) => (i % 5) - 2),
  bias: Float32Array.from([0.5, -1, 0]),
};

async function run(bytes: Uint8Array, outputs: string[]): Promise<Record<string, Tensor>> {
  const session = await InferenceSession.create(bytes);
  try {
    return (await session.run({ image }, outputs)) as Record<string, Tensor>;
  } finally {
    await session.release();
  }
}

describe("ONNX graph editing (onnx-proto)", () => {
  it("round-trips a model and exposes an intermediate tensor as an output", async () => {
    const model = decodeModel(smallModel(17));
    expect(graphInputNames(model)).toEqual(["image"]);
    exposeTensor(model, "enc_relu_out", "features", C);
    expect(graphOutputNames(model)).toEqual(["depth", "old_logits", "features"]);
    const out = await run(encodeModel(model), ["features", "depth"]);
    expect(out["features"]!.dims).toEqual([1, C, H / 2, W / 2]);
    expect([...(out["features"]!.data as Float32Array)].every((v) => v >= 0)).toBe(true);
    expect(() => exposeTensor(model, "no_such_tensor", "f2")).toThrow(new GraphEditError('no node of the graph produces "no_such_tensor"'));
    expect(() => exposeTensor(model, "enc_conv_out", "depth")).toThrow(/already has a tensor named "depth"/);
  });

  it.each([11, 13, 17])("appends a 1×1 head resized to depth's size at opset %i", async (opset) => {
    const model = decodeModel(smallModel(opset));
    exposeTensor(model, "enc_relu_out", "features");
    appendHead(model, { features: "features", layers: [head], sizeOf: "depth", output: "fitted" });
    const out = await run(encodeModel(model), ["features", "fitted"]);
    expect(out["fitted"]!.dims).toEqual([1, K, H, W]);
    // Corner pixel: half-pixel source coordinate −0.25 clamps to cell (0, 0), so it is the head on that cell.
    const f = out["features"]!.data as Float32Array;
    const cells = (H / 2) * (W / 2);
    const logits = out["fitted"]!.data as Float32Array;
    for (let k = 0; k < K; k++) {
      let want = head.bias[k]!;
      for (let c = 0; c < C; c++) want += head.weight[k * C + c]! * f[c * cells]!;
      expect(logits[k * H * W]!).toBeCloseTo(want, 5);
    }
  });

  it("refuses opsets before 11, unknown outputs and mismatched weights", () => {
    const old = decodeModel(smallModel(10));
    exposeTensor(old, "enc_relu_out", "features");
    expect(() => appendHead(old, { features: "features", layers: [head], sizeOf: "depth", output: "fitted" })).toThrow(/opset 10; appending a head needs opset 11/);
    const model = decodeModel(smallModel(17));
    expect(() => appendHead(model, { features: "features", layers: [head], sizeOf: "depth", output: "fitted" })).toThrow(/"features" is not an output of the graph/);
    exposeTensor(model, "enc_relu_out", "features");
    expect(() => appendHead(model, { features: "features", layers: [{ ...head, bias: new Float32Array(2) }], sizeOf: "depth", output: "fitted" })).toThrow(/bias 2 values do not fit 3×4/);
  });

  it("removing an output drops the nodes and initializers only it needed; the rest computes the same", async () => {
    const bytes = smallModel(17);
    const model = decodeModel(bytes);
    removeOutputs(model, ["old_logits"]);
    expect(graphOutputNames(model)).toEqual(["depth"]);
    expect(countNodes(model, (n) => n.name === "old_head")).toBe(0);
    // The encoder feeds no remaining output either.
    expect(countNodes(model, (n) => n.name.startsWith("enc_"))).toBe(0);
    expect(countNodes(model, () => true)).toBe(2);
    expect(model.graph!.initializer!.map((t) => t.name)).toEqual([]);
    const before = await run(bytes, ["depth"]);
    const after = await run(encodeModel(model), ["depth"]);
    expect(after["depth"]!.data).toEqual(before["depth"]!.data);
  });
});
