// The Python exporters in tools/export, run in --self-test mode: each builds a small stand-in with
// the real model's interface (standins.py), goes through the same wrapping, patching,
// torch.onnx.export and model.yaml code as a real checkpoint would, and saves torch's outputs for
// a few inputs. Here the bundle must load with loadModelBundle, run through the InferenceWorker
// (onnxruntime-node) with the right output shape, and reproduce torch's numbers -- at a second,
// non-square size for dynamic Depth Anything graphs. ZoeD_NK's bundle leaves the routing to
// depthseg: its domain logits must make depthseg's router pick the head upstream's picks, on a dark
// and a bright image that the stand-in sends to different heads.
//
// These tests need Python with torch and onnx (`/usr/bin/python3 -c "import torch, onnx"`, e.g.
// Debian's python3-torch and python3-onnx; DEPTHSEG_PYTHON overrides the interpreter). CI does not
// install torch, so there they are skipped, not failed.

import { spawnSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveParameters } from "../src/config/parameters.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { pickDomain } from "../src/heads/routing.js";
import { loadModelBundle } from "../src/inference/bundle.js";
import { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { modelInputSize, toInputTensor } from "../src/inference/preprocess.js";
import { decodeFrame } from "../src/messages/ingest.js";
import { buildRoutedAnalyticModel } from "../tools/onnx/builders.js";
import { checkParamsForModel, FrameProcessor } from "../src/pipeline/frameProcessor.js";
import type { RgbImage } from "../src/frame.js";
import { PACKAGE_ROOT } from "../src/paths.js";
import { FRAME_ID, rgb8, tempDir } from "./support/cameraBag.js";
import { readF32, type Reference } from "./support/torchReference.js";

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

async function readIndex(folder: string): Promise<Reference[]> {
  return JSON.parse(await readFile(join(folder, "index.json"), "utf8")) as Reference[];
}

/** One saved tensor ("input" or an output name) of image `tag` in a reference folder. */
async function referenceTensor(folder: string, tag: string, name: string): Promise<Float32Array> {
  const ref = (await readIndex(folder)).find((r) => r.tag === tag);
  const tensor = name === "input" ? ref?.input : ref?.outputs[name];
  if (!tensor) throw new Error(`${folder}/index.json has no ${tag} ${name}`);
  return readF32(join(folder, tensor.file));
}

/** Largest |got - want| in units of the tolerance (1e-4 absolute + 1e-5 relative): <= 1 passes. */
function worstError(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1e-4 + 1e-5 * Math.abs(want[i]!)));
  }
  return worst;
}

/** Runs every saved input through the worker; returns each output checked, as "<tag>.<name>". */
async function expectMatchesTorch(worker: InferenceWorker, dir: string): Promise<Record<string, Float32Array>> {
  const folder = join(dir, "selftest");
  const seen: Record<string, Float32Array> = {};
  for (const ref of await readIndex(folder)) {
    const input = await readF32(join(folder, ref.input.file));
    const result = await worker.run(input, ref.input.dims);
    for (const [name, expected] of Object.entries(ref.outputs)) {
      // Every saved output is one the bundle reads, so the worker must have fetched it.
      const got = result.outputs[name];
      expect(got, `${ref.tag} ${name}`).toBeDefined();
      if (!got) continue;
      expect(got.dims, `${ref.tag} ${name}`).toEqual(expected.dims);
      const want = await readF32(join(folder, expected.file));
      expect(worstError(got.data, want), `${ref.tag} ${name}: worst |onnx - torch| / tolerance`).toBeLessThanOrEqual(1);
      seen[`${ref.tag}.${name}`] = got.data;
    }
  }
  return seen;
}

/** torch.argmax over a [1, C] row, written out independently of pickDomain: first largest. */
function torchArgmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** A saved [1, 3, H, W] input (0..1, RGB planes) as the 8-bit camera image it nearly is. */
function planarToImage(planes: Float32Array, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(3 * n);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) data[3 * p + c] = Math.round(planes[c * n + p]! * 255);
  }
  return { width, height, data };
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
    expect(bundle.outputs.depth).toEqual({ name: "disparity", kind: "relative_disparity", upsample: "align_corners" });

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

  it.skipIf(!hasTorch)("Depth Anything V2 --features vit|dpt: outputs.features declared, [1, C, H/stride, W/stride] as torch's, depth identical to the export without it", async () => {
    const size = ["--dynamic", "--height", "56", "--width", "56"];
    const plain = selfTest("export_depth_anything_v2.py", size, "da2-plain");
    const plainSession = await InferenceSession.create(join(plain, "model.onnx"));
    // Stand-in: a 16-dim ViT (stride 14) and an 8-channel decoder map at the input size (stride 1).
    for (const [choice, stride, channels] of [["vit", 14, 16], ["dpt", 1, 8]] as const) {
      const dir = selfTest("export_depth_anything_v2.py", [...size, "--features", choice], `da2-features-${choice}`);
      const bundle = await loadModelBundle(dir);
      expect(bundle.outputs.features, choice).toEqual({ name: "features", stride });
      expect(bundle.outputs.depth.name).toBe("disparity");
      const session = await InferenceSession.create(bundle.onnxPath);
      const folder = join(dir, "selftest");
      const refs = await readIndex(folder);
      expect(refs.map((r) => r.tag)).toEqual(["56x56", "42x84"]);
      for (const ref of refs) {
        const [, , h, w] = ref.input.dims as [number, number, number, number];
        const feed = { image: new Tensor("float32", await readF32(join(folder, ref.input.file)), ref.input.dims) };
        const got = await session.run(feed);
        const want = (await plainSession.run(feed))["disparity"]!;
        expect(got["disparity"]!.dims).toEqual(want.dims);
        expect(got["disparity"]!.data, `${choice} ${ref.tag}: depth bit-identical`).toEqual(want.data);
        expect(got["features"]!.dims, `${choice} ${ref.tag}`).toEqual([1, channels, Math.floor(h / stride), Math.floor(w / stride)]);
        const torch = await readF32(join(folder, ref.outputs["features"]!.file));
        expect(worstError(got["features"]!.data as Float32Array, torch), `${choice} ${ref.tag}: features vs torch`).toBeLessThanOrEqual(1);
      }
      await session.release();
    }
    await plainSession.release();
  });

  it.skipIf(!hasTorch)("Depth Anything V2, metric, static size for a camera: metres within max_depth", async () => {
    const dir = selfTest(
      "export_depth_anything_v2.py",
      ["--metric", "--max-depth", "20", "--camera", "64x48", "--height", "56", "--width", "56"],
      "da2-metric",
    );
    const bundle = await loadModelBundle(dir);
    expect(bundle.input).toMatchObject({ height: 56, width: 70, multipleOf: 14, resize: "stretch" });
    expect(bundle.outputs.depth).toEqual({ name: "depth", kind: "metric", maxDepth: 20, upsample: "align_corners" });
    await withWorker(dir, async (worker) => {
      await expectMatchesTorch(worker, dir);
      const tensor = toInputTensor(gradientImage(64, 48), bundle.input);
      expect(tensor.dims).toEqual([1, 3, 56, 70]);
      const depth = (await worker.run(tensor.data, tensor.dims)).outputs["depth"];
      expect(depth?.dims).toEqual([1, 1, 56, 70]);
      expect(depth?.data.every((v) => v > 0 && v <= 20)).toBe(true);
    });
  });

  it.skipIf(!hasTorch)("ZoeD_N / ZoeD_NK --features: the decoder's last map, padded and cropped as depth, [1, 8, 64, 96] as torch's; every other output bit-identical", async () => {
    for (const model of ["ZoeD_N", "ZoeD_NK"]) {
      const plain = selfTest("export_zoedepth.py", ["--model", model], `${model}-plain`);
      const dir = selfTest("export_zoedepth.py", ["--model", model, "--features"], `${model}-features`);
      const bundle = await loadModelBundle(dir);
      expect(bundle.outputs.features, model).toEqual({ name: "features", stride: 1 });
      const session = await InferenceSession.create(bundle.onnxPath);
      const plainSession = await InferenceSession.create(join(plain, "model.onnx"));
      const folder = join(dir, "selftest");
      const refs = await readIndex(folder);
      expect(refs.map((r) => r.tag)).toEqual(["dark", "bright"]);
      for (const ref of refs) {
        const feed = { image: new Tensor("float32", await readF32(join(folder, ref.input.file)), ref.input.dims) };
        const got = await session.run(feed);
        const want = await plainSession.run(feed);
        expect(Object.keys(got).sort()).toEqual([...Object.keys(want), "features"].sort());
        for (const name of Object.keys(want)) expect(got[name]!.data, `${model} ${ref.tag} ${name}: bit-identical`).toEqual(want[name]!.data);
        expect(got["features"]!.dims).toEqual([1, 8, 64, 96]);
        const torch = await readF32(join(folder, ref.outputs["features"]!.file));
        expect(worstError(got["features"]!.data as Float32Array, torch), `${model} ${ref.tag}: features vs torch`).toBeLessThanOrEqual(1);
      }
      await session.release();
      await plainSession.release();
    }
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

  it.skipIf(!hasTorch)("ZoeD_NK: both heads and the domain logits leave the graph; depthseg picks upstream's head per image", async () => {
    const dir = selfTest("export_zoedepth.py", ["--model", "ZoeD_NK"], "zoed-nk");
    const bundle = await loadModelBundle(dir);
    expect(bundle.outputs.domain).toEqual({ name: "domain_logits", classes: ["indoor", "outdoor"] });
    expect(bundle.heads).toEqual({
      indoor: { name: "depth_indoor", kind: "metric", maxDepth: 10 },
      outdoor: { name: "depth_outdoor", kind: "metric", maxDepth: 80 },
    });
    const classes = bundle.outputs.domain?.classes ?? [];
    const { height, width } = bundle.input;
    const selftest = join(dir, "selftest");
    const upstream = join(selftest, "upstream");

    await withWorker(dir, async (worker) => {
      expect(worker.outputNames).toEqual(["depth_indoor", "depth_outdoor", "domain_logits"]);
      const seen = await expectMatchesTorch(worker, dir);

      // depthseg's router on the graph's logits, against upstream's argmax on torch's logits; and
      // the chosen head's depth against what upstream's own forward (Python router) returned.
      const picked: Record<string, string> = {};
      for (const tag of ["dark", "bright"]) {
        const logits = seen[`${tag}.domain_logits`];
        if (!logits) throw new Error(`no ${tag} domain_logits`);
        const head = classes[pickDomain(logits, classes.length)]!;
        const torchLogits = await referenceTensor(selftest, tag, "domain_logits");
        expect(head, `${tag}: upstream's head`).toBe(classes[torchArgmax(torchLogits)]);
        const depth = seen[`${tag}.${bundle.heads[head]!.name}`];
        if (!depth) throw new Error(`no ${tag} ${head} depth`);
        const upstreamDepth = await referenceTensor(upstream, tag, "depth");
        expect(worstError(depth, upstreamDepth), `${tag}: ${head} head vs upstream's forward`).toBeLessThanOrEqual(1);
        picked[tag] = head;
      }
      // The stand-in routes dark images to NYU (indoor) and bright ones to KITTI (outdoor).
      expect(picked).toEqual({ dark: "indoor", bright: "outdoor" });

      // The real per-frame path: FrameProcessor routes on each frame's own logits, names the head
      // (status.depth_head) and publishes that head's output, NaN past its max_depth (model-sized
      // frames: no resize on either side). depth.head pins one head whatever the logits say.
      // head_switch_frames 1 (ZoeDepth's own per-image routing): this checks the router, not the
      // hysteresis, which would keep the first head for the next 3 frames (routing.test.ts).
      const calibration = pinholeCalibration(width, height, 80, 80, (width - 1) / 2, (height - 1) / 2);
      const views = { depthColorized: false, labelsColorized: false, confidence: false };
      const runs: [string, Record<string, string>][] = [
        ["auto", picked],
        ["indoor", { dark: "indoor", bright: "indoor" }],
      ];
      for (const [pin, expected] of runs) {
        const params = resolveParameters({ model: dir, execution_providers: ["cpu"], "depth.head": pin, "depth.head_switch_frames": 1 });
        checkParamsForModel(params, bundle);
        const processor = new FrameProcessor(bundle, worker, () => params);
        for (const tag of ["dark", "bright"]) {
          const image = planarToImage(await referenceTensor(selftest, tag, "input"), width, height);
          const stamp = { sec: 1, nanosec: 0 };
          const frame = decodeFrame(
            { cameraTopic: "/cam/image_raw", stamp, frameId: FRAME_ID, image: { encoding: "raw", message: rgb8(stamp, image) }, receivedAt: performance.now() },
            calibration,
          ).frame;
          const outputs = await processor.process(frame, views);
          const want = expected[tag]!;
          expect(outputs.depthHead, `depth.head ${pin}, ${tag}`).toBe(want);
          const head = bundle.heads[want]!;
          const tensor = toInputTensor(image, bundle.input);
          const raw = (await worker.run(tensor.data, tensor.dims)).outputs[head.name]?.data ?? new Float32Array(0);
          const metres = Array.from(raw, (z) => (z > 0 && z <= head.maxDepth! ? z : NaN));
          expect(Array.from(outputs.depth), `depth.head ${pin}, ${tag}: depth`).toEqual(metres);
          processor.release(outputs);
        }
      }
    });
  });
});

// bundle_yaml.py needs no third-party package, so this runs wherever python3 (>= 3.7) does.
const hasPython = spawnSync(PYTHON, ["-c", "import sys; assert sys.version_info >= (3, 7)"], { stdio: "ignore" }).status === 0;

/**
 * Routed model.yaml variants built with bundle_yaml's dataclasses: for each, the field its
 * validate() refuses (null: accepted) and the text render() writes with validation switched off,
 * so bundle.ts can judge the same document.
 */
const YAML_CASES = String.raw`
import dataclasses, json, sys
sys.path.insert(0, sys.argv[1])
import bundle_yaml as b

D = b.DepthOutput
routed = b.ModelYaml(
    name="nk", file="model.onnx", input=b.InputSpec(name="image", height=4, width=6), depth=None,
    domain=b.DomainOutput(name="domain_logits", classes=("indoor", "outdoor")),
    heads={"indoor": D("depth_indoor", "metric", 10.0), "outdoor": D("depth_outdoor", "metric", 80.0)})
edit = lambda **kw: dataclasses.replace(routed, **kw)
heads = lambda **kw: {**routed.heads, **kw}
cases = {
    "routed": routed,
    "single": edit(depth=D("depth", "metric", 80.0), domain=None, heads={}),
    "trained on": edit(trained_on="hypersim: indoor, rendered", warning="not for outdoor scenes: null, true"),
    "empty trained_on": edit(trained_on=" "),
    "trained_on not text": edit(trained_on=3),
    "depth beside heads": edit(depth=D("depth", "metric", 80.0)),
    "no depth, no heads": edit(domain=None, heads={}),
    "domain without heads": edit(depth=D("depth", "metric", 80.0), heads={}),
    "heads without domain": edit(domain=None),
    "one class": edit(domain=b.DomainOutput("domain_logits", ("indoor",)), heads={"indoor": routed.heads["indoor"]}),
    "duplicate classes": edit(domain=b.DomainOutput("domain_logits", ("indoor", "indoor"))),
    "class without head": edit(heads={"indoor": routed.heads["indoor"]}),
    "head without class": edit(heads=heads(underwater=D("depth_underwater", "metric", 5.0))),
    "relative head": edit(heads=heads(outdoor=D("depth_outdoor", "relative_depth", 80.0))),
    "head without max_depth": edit(heads=heads(outdoor=D("depth_outdoor", "metric"))),
    "two heads, one output": edit(heads=heads(outdoor=D("depth_indoor", "metric", 80.0))),
    "head named like the domain": edit(heads=heads(outdoor=D("domain_logits", "metric", 80.0))),
    "sky and confidence": edit(depth=D("depth", "metric", 80.0, 300.0), domain=None, heads={},
                               sky=b.SkyOutput("sky", 0.3), confidence=b.ConfidenceOutput("confidence", "expp1")),
    "confidence activation unknown": edit(depth=D("depth", "metric", 80.0), domain=None, heads={},
                                          confidence=b.ConfidenceOutput("confidence", "softplus")),
    "sky threshold 0": edit(depth=D("depth", "metric", 80.0), domain=None, heads={}, sky=b.SkyOutput("sky", 0.0)),
    "sky named like depth": edit(depth=D("depth", "metric", 80.0), domain=None, heads={}, sky=b.SkyOutput("depth", 0.3)),
    "features": edit(depth=D("disparity", "relative_disparity"), domain=None, heads={}, features=b.FeaturesOutput("features", 14)),
    "features stride 0": edit(depth=D("disparity", "relative_disparity"), domain=None, heads={}, features=b.FeaturesOutput("features", 0)),
    "features stride 1.5": edit(depth=D("disparity", "relative_disparity"), domain=None, heads={}, features=b.FeaturesOutput("features", 1.5)),
    "features named like depth": edit(depth=D("disparity", "relative_disparity"), domain=None, heads={}, features=b.FeaturesOutput("disparity", 14)),
}
out = []
for case, doc in cases.items():
    try:
        b.validate(doc)
        error = None
    except b.BundleSchemaError as e:
        error = str(e)
    out.append({"case": case, "error": error})
b.validate = lambda doc: None  # render() the refused documents too
for item, doc in zip(out, cases.values()):
    # An empty outputs section would be YAML null, refused for that rather than what is missing.
    item["text"] = b.render(doc).replace("outputs:\nheads:", "outputs: {}\nheads:")
    if item["text"].endswith("outputs:\n"):
        item["text"] = item["text"][:-1] + " {}\n"
print(json.dumps(out))
`;

/** The field an error message names: "<...>model.yaml: <field>: <why>". */
function errorField(message: string): string {
  return /model\.yaml: ([^:]+): /.exec(message)?.[1] ?? `(no field in: ${message})`;
}

describe("tools/export/bundle_yaml.py checks routed bundles, sky, confidence and features as bundle.ts does (needs python3 only)", () => {
  it.skipIf(!hasPython)("accepts and refuses the same documents, naming the same field", async () => {
    const run = spawnSync(PYTHON, ["-B", "-c", YAML_CASES, EXPORT_DIR], { encoding: "utf8", timeout: 60_000 });
    if (run.status !== 0) throw new Error(`bundle_yaml cases failed (${run.status}):\n${run.stderr}`);
    const cases = JSON.parse(run.stdout) as { case: string; error: string | null; text: string }[];
    expect(cases.filter((c) => c.error === null).map((c) => c.case)).toEqual(["routed", "single", "trained on", "sky and confidence", "features"]);
    const model = buildRoutedAnalyticModel(); // any valid .onnx: only model.yaml is judged here
    for (const [index, c] of cases.entries()) {
      const dir = join(root, `yaml-case-${index}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "model.yaml"), c.text);
      await writeFile(join(dir, "model.onnx"), model);
      const loaded = await loadModelBundle(dir).then(() => null, (error: Error) => error.message);
      expect(loaded === null ? null : errorField(loaded), c.case).toBe(c.error === null ? null : errorField(c.error));
    }
    // The valid routed document reads back as written.
    const bundle = await loadModelBundle(join(root, "yaml-case-0"));
    expect(bundle.outputs.domain).toEqual({ name: "domain_logits", classes: ["indoor", "outdoor"] });
    expect(bundle.heads).toEqual({
      indoor: { name: "depth_indoor", kind: "metric", maxDepth: 10 },
      outdoor: { name: "depth_outdoor", kind: "metric", maxDepth: 80 },
    });
    // trained_on and warning are free text, read back as written (quoted by _s, so YAML words stay text).
    const described = await loadModelBundle(join(root, "yaml-case-2"));
    expect([described.trainedOn, described.warning]).toEqual(["hypersim: indoor, rendered", "not for outdoor scenes: null, true"]);
    // Depth Anything 3 Metric's outputs read back as written.
    const da3 = await loadModelBundle(join(root, `yaml-case-${cases.findIndex((c) => c.case === "sky and confidence")}`));
    expect(da3.outputs.depth).toEqual({ name: "depth", kind: "metric", maxDepth: 80, canonicalFocal: 300 });
    expect(da3.outputs.sky).toEqual({ name: "sky", threshold: 0.3 });
    expect(da3.outputs.confidence).toEqual({ name: "confidence", activation: "expp1" });
    const withFeatures = await loadModelBundle(join(root, `yaml-case-${cases.findIndex((c) => c.case === "features")}`));
    expect(withFeatures.outputs.features).toEqual({ name: "features", stride: 14 });
  });
});
