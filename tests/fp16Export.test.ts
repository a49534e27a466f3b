// float16 exports (the exporters' --fp16, tools/export/fp16.py) of Depth Anything V2 at ViT-S
// shape with random weights, in upstream's classes (tests/support/fp16/cases.py builds them):
// the float16 graph runs in onnxruntime-node close to float32; a naive all-float16 conversion of
// a model whose q.k^T passes 65504 gives NaN depth while the exporter's float32-attention one
// does not; and depthseg counts such a frame as failed (model_output_invalid) instead of
// publishing it.
//
// onnxruntime's CPU provider computes float16 nodes in float32 (it has few float16 kernels), so an
// overflow can only appear here with float16 storage made explicit (tests/support/fp16/emulate.py:
// every tensor the graph stores as float16 is cast to float16 and back, as a CUDA / TensorRT
// engine stores it). The emulated graphs are the overflow evidence; the real float16 file is run
// too.
//
// Needs python3 with torch + onnx and the Depth-Anything-V2 clone (DEPTHSEG_UPSTREAM_DIR, default
// /work/upstream); skipped with the reason printed otherwise. Cached in .cache/fp16-export/.

import { spawnSync } from "node:child_process";
import { runChild } from "./support/childProcess.js";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveParameters } from "../src/config/parameters.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { loadModelBundle } from "../src/inference/bundle.js";
import { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { PACKAGE_ROOT } from "../src/paths.js";
import { replay } from "../src/replay/replay.js";
import { cameraInfo, readOutputBag, rgb8, stampAt, tempDir, typed, writeCameraBag } from "./support/cameraBag.js";
import { readF32 } from "./support/torchReference.js";

const PYTHON = process.env["DEPTHSEG_PYTHON"] ?? "/usr/bin/python3";
const UPSTREAM = process.env["DEPTHSEG_UPSTREAM_DIR"] ?? "/work/upstream";
const CASES = join(PACKAGE_ROOT, "tests", "support", "fp16", "cases.py");
const FP16_MAX = 65504;
/** float16 keeps 11 significant bits (unit roundoff 4.9e-4); 12 ViT blocks and the DPT head add up. */
const REL_TOLERANCE = 2e-3;

function whySkip(): string | undefined {
  if (spawnSync(PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" }).status !== 0) return `${PYTHON} cannot import torch and onnx`;
  if (!existsSync(join(UPSTREAM, "Depth-Anything-V2", "depth_anything_v2"))) {
    return `no ${join(UPSTREAM, "Depth-Anything-V2")} (set DEPTHSEG_UPSTREAM_DIR): the stand-ins have no attention`;
  }
  if (spawnSync(PYTHON, ["-c", "import cv2, torchvision"], { stdio: "ignore" }).status !== 0) return `${PYTHON} cannot import cv2, torchvision (upstream needs them)`;
  return undefined;
}
const why = whySkip();
if (why) console.log(`[fp16] skipped: ${why}`);

interface Cases {
  source: string;
  fp16_log: string[];
  logit_before: number;
  logit_after: number;
  softmax_inputs: string[];
  softmax_count: number;
  reference_input: string;
  sizes: { fp32: number; fp16: number };
}

let dir: string;
let cases: Cases;

async function buildCases(): Promise<Cases> {
  const hash = createHash("sha256");
  for (const f of ["tools/export/fp16.py", "tools/export/onnx_export.py", "tools/export/export_depth_anything_v2.py",
    "tests/support/fp16/cases.py", "tests/support/fp16/emulate.py"]) hash.update(readFileSync(join(PACKAGE_ROOT, f)));
  dir = join(PACKAGE_ROOT, ".cache", "fp16-export", hash.digest("hex").slice(0, 16));
  const done = join(dir, "cases.json");
  if (existsSync(done)) return JSON.parse(await readFile(done, "utf8")) as Cases;
  await rm(join(PACKAGE_ROOT, ".cache", "fp16-export"), { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const run = await runChild(PYTHON, ["-B", CASES, "--out", dir, "--upstream", UPSTREAM], { timeoutMs: 900_000 });
  if (run.status !== 0) throw new Error(`cases.py failed (${run.status}):\n${run.stderr.slice(-4000)}`);
  const line = run.stdout.trim().split("\n").at(-1)!;
  await writeFile(done, line);
  return JSON.parse(line) as Cases;
}

/** The bundle in DIR/<name> through depthseg's InferenceWorker on the reference input: its depth output. */
async function depthOf(name: string): Promise<Float32Array> {
  const bundle = await loadModelBundle(join(dir, name));
  const worker = await InferenceWorker.start({ bundle, providers: ["cpu"], intraOpThreads: 2 });
  try {
    const input = await readF32(cases.reference_input);
    const result = await worker.run(input, [1, 3, bundle.input.height, bundle.input.width]);
    return result.outputs[bundle.outputs.depth!.name]!.data;
  } finally {
    await worker.close();
  }
}

function nonFinite(a: Float32Array): number {
  let n = 0;
  for (const v of a) if (!Number.isFinite(v)) n++;
  return n;
}

/** max |a - b| and max |b|. */
function diff(a: Float32Array, b: Float32Array): { maxAbs: number; scale: number } {
  expect(a.length).toBe(b.length);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { maxAbs, scale };
}

describe.skipIf(why !== undefined)("float16 export of Depth Anything V2 (ViT-S shape, upstream classes, random weights)", () => {
  beforeAll(async () => {
    cases = await buildCases();
  }, 900_000);

  it("keeps every attention (q.k, softmax, attn@v) and layer norm in float32, halves the file, runs close to float32", async () => {
    expect(cases.source).toBe("upstream");
    // ViT-S: 12 blocks, each one softmax and two attention MatMuls; 2 layer norms a block + 4 outputs.
    expect(cases.fp16_log[0]).toContain("kept_Softmax 12");
    expect(cases.fp16_log[0]).toContain("kept_MatMul 24");
    expect(cases.fp16_log[0]).toContain("kept_LayerNormalization 28");
    expect(cases.sizes.fp16 / cases.sizes.fp32).toBeLessThan(0.52);
    const fp32 = await depthOf("fp32");
    for (const name of ["fp16", "fp16-emulated"]) {
      const got = await depthOf(name);
      const d = diff(got, fp32);
      console.log(`[fp16] ${name}: max |fp16 - fp32| = ${d.maxAbs.toExponential(2)} (${(d.maxAbs / d.scale).toExponential(2)} of max |fp32| ${d.scale.toPrecision(3)}), ${nonFinite(got)} non-finite`);
      expect(nonFinite(got)).toBe(0);
      expect(d.maxAbs).toBeLessThanOrEqual(REL_TOLERANCE * d.scale);
      expect(d.maxAbs).toBeGreaterThan(0); // it is float16: something must have rounded
    }
  }, 300_000);

  it("reads a graph whose outputs are float16 (Uint16Array from onnxruntime) as the same float32 values", async () => {
    const session = await ort.InferenceSession.create(join(dir, "fp16-outputs", "model.onnx"));
    expect(session.outputMetadata.map((m) => (m.isTensor ? m.type : "?"))).toEqual(["float16"]);
    await session.release();
    const viaCast = await depthOf("fp16");
    const viaWorker = await depthOf("fp16-outputs");
    expect(Array.from(viaWorker)).toEqual(Array.from(viaCast));
  }, 300_000);

  it("q.k^T beyond 65504: naive all-float16 storage gives NaN depth, float32 attention does not", async () => {
    // The constructed model's largest attention logit, from the float32 graph.
    const session = await ort.InferenceSession.create(join(dir, "probe.onnx"));
    let largest = 0;
    try {
      const input = await readF32(cases.reference_input);
      const result = await session.run({ image: new ort.Tensor("float32", input, [1, 3, 70, 98]) });
      for (const name of cases.softmax_inputs) for (const v of result[name]!.data as Float32Array) largest = Math.max(largest, Math.abs(v));
    } finally {
      await session.release();
    }
    console.log(`[fp16] overflow model: max |q.k^T| = ${largest.toExponential(3)} (random init: ${cases.logit_before.toExponential(2)}); float16 max ${FP16_MAX}`);
    expect(largest).toBeGreaterThan(4 * FP16_MAX);

    const fp32 = await depthOf("overflow-fp32");
    const naive = await depthOf("overflow-naive-emulated");
    const kept = await depthOf("overflow-fp16-emulated");
    const real = await depthOf("overflow-fp16");
    const d = diff(kept, fp32);
    console.log(`[fp16] overflow model: naive float16 ${nonFinite(naive)}/${naive.length} non-finite; float32 attention ${nonFinite(kept)} non-finite, max |fp16 - fp32| ${d.maxAbs.toExponential(2)}; real fp16 file on the CPU provider ${nonFinite(real)} non-finite`);
    expect(nonFinite(naive)).toBe(naive.length);
    expect(nonFinite(kept)).toBe(0);
    expect(d.maxAbs).toBeLessThanOrEqual(REL_TOLERANCE * d.scale);
    expect(nonFinite(real)).toBe(0);
  }, 300_000);

  it("depthseg replay fails the naive float16 model's frames (model_output_invalid) and publishes the float32-attention model's", async () => {
    const out = await tempDir("depthseg-fp16-");
    try {
      const width = 98;
      const height = 70;
      const frames = [0, 1].map((i) => {
        const data = Uint8Array.from({ length: width * height * 3 }, (_, k) => (k * (31 + i) + ((k / 3) | 0) * 7) % 256);
        const stamp = stampAt(i);
        return { stamp, image: rgb8(stamp, { width, height, data }), info: cameraInfo(stamp, pinholeCalibration(width, height, 80, 80, 48.5, 34.5)) };
      });
      const input = await writeCameraBag(join(out, "cam.mcap"), frames);
      const results: Record<string, { processed: number; failed: number; depthMessages: number; reasons: unknown }> = {};
      for (const name of ["overflow-naive-emulated", "overflow-fp16-emulated"]) {
        const output = join(out, `${name}.mcap`);
        const summary = await replay({
          input, output, realtime: false, showProgress: false, log: () => undefined,
          params: resolveParameters({ model: join(dir, name), execution_providers: ["cpu"] }),
        });
        const depth = typed(await readOutputBag(output), "/depthseg/depth/image", "sensor_msgs/msg/Image");
        results[name] = { processed: summary.stats.processed, failed: summary.stats.failed, depthMessages: depth.length, reasons: summary.stats.failedByReason };
      }
      console.log(`[fp16] replay: ${JSON.stringify(results)}`);
      expect(results["overflow-naive-emulated"]).toMatchObject({ processed: 0, failed: 2, depthMessages: 0, reasons: { model_output_invalid: 2 } });
      expect(results["overflow-fp16-emulated"]).toMatchObject({ processed: 2, failed: 0, depthMessages: 2 });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 300_000);
});

describe.skipIf(spawnSync(PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" }).status !== 0)("float16 export of a dynamic graph (stand-in, --self-test --dynamic --fp16)", () => {
  it("keeps the size arithmetic float32 (Range has no float16 form; sizes must not round) and runs at three sizes", async () => {
    const out = await tempDir("depthseg-fp16-dynamic-");
    try {
      const exported: Record<string, string> = {};
      for (const [name, extra] of [["fp32", []], ["fp16", ["--fp16"]]] as const) {
        exported[name] = join(out, name);
        const run = await runChild(PYTHON, ["-B", join(PACKAGE_ROOT, "tools", "export", "export_depth_anything_v2.py"), "--self-test", "--dynamic",
          "--height", "70", "--width", "70", ...extra, "--out", exported[name]!], { timeoutMs: 300_000 });
        expect(run.status, run.stderr).toBe(0);
      }
      const sessions = await Promise.all(["fp32", "fp16"].map((n) => ort.InferenceSession.create(join(exported[n]!, "model.onnx"))));
      try {
        for (const [h, w] of [[70, 70], [56, 98], [84, 70]] as const) {
          const x = Float32Array.from({ length: 3 * h * w }, (_, i) => ((i * 7919) % 1000) / 1000);
          const [want, got] = await Promise.all(sessions.map(async (s) => (await s.run({ image: new ort.Tensor("float32", x, [1, 3, h, w]) }))["disparity"]!));
          expect(got!.dims).toEqual(want!.dims);
          const d = diff(got!.data as Float32Array, want!.data as Float32Array);
          console.log(`[fp16] dynamic stand-in ${h}x${w}: max |fp16 - fp32| = ${d.maxAbs.toExponential(2)} of max ${d.scale.toPrecision(3)}`);
          expect(d.maxAbs).toBeLessThanOrEqual(REL_TOLERANCE * d.scale);
        }
      } finally {
        await Promise.all(sessions.map((s) => s.release()));
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 600_000);
});
