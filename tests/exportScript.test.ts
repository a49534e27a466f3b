// The Python exporters in tools/export, run in --self-test mode: each builds a small stand-in with
// the real model's interface (standins.py), goes through the same wrapping, patching,
// torch.onnx.export and model.yaml code as a real checkpoint would, and saves torch's outputs for
// a few inputs. Here the bundle must load with loadModelBundle, run through the InferenceWorker
// (onnxruntime-node) with the right output shape, and reproduce torch's numbers -- at a second,
// non-square size for dynamic Depth Anything graphs, and on both sides of ZoeD_NK's router.
//
// These tests need Python with torch and onnx (`/usr/bin/python3 -c "import torch, onnx"`, e.g.
// Debian's python3-torch and python3-onnx; DEPTHSEG_PYTHON overrides the interpreter). CI does not
// install torch, so there they are skipped, not failed.

import { spawnSync } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelBundle } from "../src/inference/bundle.js";
import { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { modelInputSize, toInputTensor } from "../src/inference/preprocess.js";
import type { RgbImage } from "../src/frame.js";
import { PACKAGE_ROOT } from "../src/paths.js";
import { tempDir } from "./support/cameraBag.js";

const PYTHON = process.env["DEPTHSEG_PYTHON"] ?? "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" }).status === 0;
const EXPORT_DIR = join(PACKAGE_ROOT, "tools", "export");

let root: string;
beforeAll(async () => {
  root = await tempDir("depthseg-export-");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs an exporter with --self-test; returns the bundle folder. */
function selfTest(script: string, args: string[], name: string): string {
  const out = join(root, name);
  const run = spawnSync(PYTHON, [join(EXPORT_DIR, script), "--self-test", ...args, "--out", out], {
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`${script} ${args.join(" ")} failed (${run.status}):\n${run.stderr}`);
  return out;
}

interface RefTensor {
  file: string;
  dims: number[];
}
interface Reference {
  tag: string;
  input: RefTensor;
  outputs: Record<string, RefTensor>;
}

async function readF32(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  // Copy: small files come back as views into a shared pool.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Runs every saved input through the worker; returns the tags checked. */
async function expectMatchesTorch(worker: InferenceWorker, dir: string): Promise<Record<string, Float32Array>> {
  const index = JSON.parse(await readFile(join(dir, "selftest", "index.json"), "utf8")) as Reference[];
  const seen: Record<string, Float32Array> = {};
  for (const ref of index) {
    const input = await readF32(join(dir, "selftest", ref.input.file));
    const result = await worker.run(input, ref.input.dims);
    for (const [name, expected] of Object.entries(ref.outputs)) {
      const got = result.outputs[name];
      if (!got) continue; // e.g. domain_logits: in the graph but not requested by the bundle
      expect(got.dims, `${ref.tag} ${name}`).toEqual(expected.dims);
      const want = await readF32(join(dir, "selftest", expected.file));
      let worst = 0;
      for (let i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs(got.data[i]! - want[i]!) / (1e-4 + 1e-5 * Math.abs(want[i]!)));
      }
      expect(worst, `${ref.tag} ${name}: worst |onnx - torch| / tolerance`).toBeLessThanOrEqual(1);
      seen[`${ref.tag}.${name}`] = got.data;
    }
  }
  return seen;
}

function gradientImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[3 * i] = (i * 7) % 256;
    data[3 * i + 1] = (i * 13) % 256;
    data[3 * i + 2] = (i * 29) % 256;
  }
  return { width, height, data };
}

async function withWorker<T>(dir: string, body: (w: InferenceWorker) => Promise<T>): Promise<T> {
  const bundle = await loadModelBundle(dir);
  const worker = await InferenceWorker.start({ bundle, providers: ["cpu"], intraOpThreads: 1 });
  try {
    return await body(worker);
  } finally {
    await worker.close();
  }
}

describe("tools/export self-tests (need python3 with torch + onnx; skipped without)", () => {
  it.skipIf(!hasTorch)("Depth Anything V2, relative, dynamic H/W: loads, keeps the aspect, matches torch at a new size", async () => {
    const dir = selfTest("export_depth_anything_v2.py", ["--dynamic", "--height", "56", "--width", "56"], "da2-relative");
    const bundle = await loadModelBundle(dir);
    expect(bundle.input).toMatchObject({
      name: "image", height: 56, width: 56, multipleOf: 14, resize: "keep_aspect_lower_bound",
      interpolation: "cubic", color: "rgb", mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
    });
    expect(bundle.outputs.depth).toEqual({ name: "disparity", kind: "relative_disparity" });

    await withWorker(dir, async (worker) => {
      // Trace size 56x56 and a non-square 42x84: a graph with frozen sizes fails the second.
      await expectMatchesTorch(worker, dir);
      // A 4:3 camera frame, preprocessed as depthseg does: 64x48 -> 70x56 (multiples of 14).
      const image = gradientImage(64, 48);
      expect(modelInputSize(64, 48, bundle.input)).toEqual({ width: 70, height: 56 });
      const tensor = toInputTensor(image, bundle.input);
      const result = await worker.run(tensor.data, tensor.dims);
      expect(result.outputs["disparity"]?.dims).toEqual([1, 1, 56, 70]);
      expect(result.outputs["disparity"]?.data.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    });
  });

  it.skipIf(!hasTorch)("Depth Anything V2, metric, static size for a camera: metres within max_depth", async () => {
    const dir = selfTest(
      "export_depth_anything_v2.py",
      ["--metric", "--max-depth", "20", "--camera", "64x48", "--height", "56", "--width", "56"],
      "da2-metric",
    );
    const bundle = await loadModelBundle(dir);
    expect(bundle.input).toMatchObject({ height: 56, width: 70, multipleOf: 14, resize: "stretch" });
    expect(bundle.outputs.depth).toEqual({ name: "depth", kind: "metric", maxDepth: 20 });
    await withWorker(dir, async (worker) => {
      await expectMatchesTorch(worker, dir);
      const tensor = toInputTensor(gradientImage(64, 48), bundle.input);
      expect(tensor.dims).toEqual([1, 3, 56, 70]);
      const depth = (await worker.run(tensor.data, tensor.dims)).outputs["depth"];
      expect(depth?.dims).toEqual([1, 1, 56, 70]);
      expect(depth?.data.every((v) => v > 0 && v <= 20)).toBe(true);
    });
  });

  it.skipIf(!hasTorch)("ZoeD_N: normalisation inside the graph, static size, metric depth", async () => {
    const dir = selfTest("export_zoedepth.py", ["--model", "ZoeD_N"], "zoed-n");
    const bundle = await loadModelBundle(dir);
    expect(bundle.input).toMatchObject({
      height: 64, width: 96, multipleOf: 32, resize: "stretch", interpolation: "linear", mean: [0, 0, 0], std: [1, 1, 1],
    });
    expect(bundle.outputs.depth).toEqual({ name: "depth", kind: "metric", maxDepth: 10 });
    await withWorker(dir, async (worker) => {
      await expectMatchesTorch(worker, dir);
      const tensor = toInputTensor(gradientImage(120, 80), bundle.input);
      const depth = (await worker.run(tensor.data, tensor.dims)).outputs["depth"];
      expect(depth?.dims).toEqual([1, 1, 64, 96]);
    });
  });

  it.skipIf(!hasTorch)("ZoeD_NK: the router runs inside the graph, so each image gets its own head", async () => {
    const dir = selfTest("export_zoedepth.py", ["--model", "ZoeD_NK"], "zoed-nk");
    const bundle = await loadModelBundle(dir);
    expect(bundle.outputs.depth).toEqual({ name: "depth", kind: "metric", maxDepth: 80 });
    await withWorker(dir, async (worker) => {
      expect(worker.outputNames).toEqual(["depth", "domain_logits"]);
      const seen = await expectMatchesTorch(worker, dir);
      // The stand-in sends dark images to the NYU head (<= 10 m) and bright ones to KITTI's.
      const max = (a: Float32Array | undefined): number => (a ? a.reduce((m, v) => Math.max(m, v), 0) : NaN);
      expect(max(seen["dark.depth"])).toBeLessThanOrEqual(10);
      expect(max(seen["bright.depth"])).toBeGreaterThan(10);
    });
  });
});
