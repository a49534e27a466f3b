// depthseg expose-features on the demo model with its features output taken away again: the
// command puts back the same output (what npm run train-demo does), other outputs bit-identical.

import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { parseDocument } from "yaml";
import { beforeEach, describe, expect, it } from "vitest";
import { exposeFeatures } from "../src/heads/fit/exposeFeatures.js";
import { loadModelBundle } from "../src/inference/bundle.js";
import { decodeModel, encodeModel, graphOutputNames, removeOutputs } from "../src/onnx/graph.js";
import { DEFAULT_MODEL_DIR } from "../src/paths.js";
import { tempDir } from "./support/cameraBag.js";
import { cli } from "./support/runCli.js";

const ENC4 = "/enc4/enc4.5/Relu_output_0";

async function run(path: string, outputs: string[]): Promise<Record<string, Tensor>> {
  const session = await InferenceSession.create(path);
  const pixels = Float32Array.from({ length: 3 * 120 * 160 }, (_, i) => Math.cos(i * 0.11));
  try {
    return (await session.run({ image: new Tensor("float32", pixels, [1, 3, 120, 160]) }, outputs)) as Record<string, Tensor>;
  } finally {
    await session.release();
  }
}

describe("depthseg expose-features", () => {
  let dir: string;

  beforeEach(async () => {
    dir = join(await tempDir(), "demo-without-features");
    await cp(DEFAULT_MODEL_DIR, dir, { recursive: true });
    const model = decodeModel(await readFile(join(dir, "model.onnx")));
    removeOutputs(model, ["features"]);
    await writeFile(join(dir, "model.onnx"), encodeModel(model));
    const doc = parseDocument(await readFile(join(dir, "model.yaml"), "utf8"));
    doc.deleteIn(["outputs", "features"]);
    await writeFile(join(dir, "model.yaml"), doc.toString());
    expect((await loadModelBundle(dir)).outputs.features).toBeUndefined();
  });

  it("exposes the encoder output as the committed demo bundle has it; depth and logits bit-identical", async () => {
    const { code, stdout, stderr } = await cli("expose-features", dir, "--tensor", ENC4, "--stride", "16");
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`output features = ${ENC4} [1, 192, 8, 10], stride 16`);
    const bundle = await loadModelBundle(dir);
    expect(bundle.outputs.features).toEqual({ name: "features", stride: 16 });
    // The rest of model.yaml keeps its lines (tests/support/relativeBundle.ts edits the demo's line by line).
    const text = await readFile(join(dir, "model.yaml"), "utf8");
    expect(text).toMatch(/^warning: "trained on synthetic rooms only.*\(README: Real models\)"$/m);
    expect(text).toContain("\n  mean: [0.485, 0.456, 0.406]\n");
    const written = decodeModel(await readFile(bundle.onnxPath));
    expect(graphOutputNames(written)).toEqual(["depth", "logits", "features"]);
    const a = await run(join(DEFAULT_MODEL_DIR, "model.onnx"), ["depth", "logits", "features"]);
    const b = await run(bundle.onnxPath, ["depth", "logits", "features"]);
    for (const name of ["depth", "logits", "features"]) expect(b[name]!.data).toEqual(a[name]!.data);
  });

  it("refuses an unknown tensor, a wrong stride, a second features output and a bad command line", async () => {
    await expect(exposeFeatures(dir, "no/such", 16)).rejects.toThrow(/no node of the graph produces "no\/such"/);
    await expect(exposeFeatures(dir, ENC4, 8)).rejects.toThrow(`"${ENC4}" is 8x10 for a 120x160 input: its stride is not 8`);
    await exposeFeatures(dir, ENC4, 16);
    await expect(exposeFeatures(dir, ENC4, 16)).rejects.toThrow(/already has outputs\.features \("features"\)/);
    const usage = await cli("expose-features", dir, "--tensor", ENC4);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--stride must be an integer in 1..1024");
  });
});
