// `npm run bench:fused`: issue 13's "pre- and post-processing where the model runs" (fused_io).
// Per 640x480 camera frame of the demo model (and tiny): the JS path (toInputTensor, session.run
// of the bundle's graph, argmax + resize + depth conversion + range, as frameProcessor.ts does
// them) against one session.run of the fused graph (src/inference/fusedIo.ts), alternating frame
// by frame in one process so both see the same machine. Prints the ratio and PASS/FAIL (fused
// frame faster than the JS frame), and checks the two give the same outputs.
//
//   npm run bench:fused [-- --runs 30] [--warmup 3] [--models demo,tiny] [--provider cpu] [--intra-op-threads 0]

import { availableParallelism, cpus } from "node:os";
import { parseArgs } from "node:util";
import type { InferenceSession } from "onnxruntime-node";
import { loadModelBundle } from "../src/inference/bundle.js";
import { resolveParameters } from "../src/config/parameters.js";
import { intrinsicsFromCalibration } from "../src/geometry/intrinsics.js";
import { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { FrameProcessor } from "../src/pipeline/frameProcessor.js";
import type { Frame } from "../src/frame.js";
import { DEFAULT_MODEL_DIR, TINY_MODEL_DIR } from "../src/paths.js";
import { generateScene } from "../src/synthetic/scene.js";
import { renderFrame, syntheticCalibration } from "../src/synthetic/frames.js";
import { compare, fusedPath, jsPath, sessions, type Range } from "../tests/support/fusedIoPaths.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "3" },
    models: { type: "string", default: "demo,tiny" },
    provider: { type: "string", default: "cpu" },
    "intra-op-threads": { type: "string", default: "0" },
  },
});
const RUNS = Number(args.runs);
const WARMUP = Number(args.warmup);
const THREADS = Number(args["intra-op-threads"]);
const RANGE: Range = { min: 0, max: Infinity };
const WIDTH = 640;
const HEIGHT = 480;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const options: InferenceSession.SessionOptions = {
  executionProviders: [args.provider],
  ...(THREADS > 0 ? { intraOpNumThreads: THREADS } : {}),
};
const images = [0, 1, 2, 3].map((i) => renderFrame(generateScene(3 + i), 7 * i, { calibration: syntheticCalibration(WIDTH, HEIGHT) }).image);

console.log(`fused_io bench: ${WIDTH}x${HEIGHT}, ${RUNS} frames each (after ${WARMUP} warm-up), provider ${args.provider}, ` +
  `intra-op threads ${THREADS || "ORT default"}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "?"})`);
let failed = false;
for (const name of args.models.split(",")) {
  const bundle = await loadModelBundle(name === "demo" ? DEFAULT_MODEL_DIR : name === "tiny" ? TINY_MODEL_DIR : name);
  const { plain, fused } = await sessions(bundle, options);
  const js = { around: [] as number[], run: [] as number[], frame: [] as number[] };
  const fz = { around: [] as number[], run: [] as number[], frame: [] as number[] };
  let worstDepth = 0;
  let worstLabels = 1;
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const image = images[i % images.length]!;
    const a = await jsPath(bundle, plain, image, RANGE);
    const b = await fusedPath(fused, image, RANGE);
    const c = compare(a, b);
    worstDepth = Math.max(worstDepth, c.depthMaxAbs);
    worstLabels = Math.min(worstLabels, c.labelAgreement);
    if (i < WARMUP) continue;
    js.around.push(a.aroundRunMs);
    js.run.push(a.runMs);
    js.frame.push(a.aroundRunMs + a.runMs);
    fz.around.push(b.aroundRunMs);
    fz.run.push(b.runMs);
    fz.frame.push(b.aroundRunMs + b.runMs);
  }
  await plain.release();
  await fused.release();
  const jsPrePost = median(js.around);
  // The fused graph's pre+post run inside its session.run: its run minus the model's own.
  const inGraph = median(fz.run) - median(js.run);
  const ratio = median(fz.frame) / median(js.frame);
  const pass = ratio <= 1;
  failed ||= !pass;
  console.log(`\n${bundle.name}`);
  console.log(`  JS path:  pre+post ${jsPrePost.toFixed(2)} ms, session.run ${median(js.run).toFixed(2)} ms, frame ${median(js.frame).toFixed(2)} ms (medians)`);
  console.log(`  fused_io: session.run ${median(fz.run).toFixed(2)} ms (pre+post in the graph ≈ ${inGraph.toFixed(2)} ms), JS side ${median(fz.around).toFixed(3)} ms, frame ${median(fz.frame).toFixed(2)} ms`);
  console.log(`  outputs: depth max |JS − fused| ${worstDepth.toFixed(4)} m, labels agree ${(100 * worstLabels).toFixed(3)} % (worst frame)`);
  console.log(`  ${"fused_io frame / JS frame".padEnd(34)}${ratio.toFixed(2)}  (≤ 1)  ${pass ? "PASS" : "FAIL"}`);
  console.log(`  ${"in-graph pre+post / JS pre+post".padEnd(34)}${(inGraph / jsPrePost).toFixed(2)}`);
}

// The same through FrameProcessor (the pipeline stage, worker thread, default parameters: flying
// pixels on, range off): main-thread preprocess + postprocess per frame, JS path vs fused_io.
for (const name of args.models.split(",")) {
  const bundle = await loadModelBundle(name === "demo" ? DEFAULT_MODEL_DIR : name === "tiny" ? TINY_MODEL_DIR : name);
  const threads = THREADS > 0 ? { intraOpThreads: THREADS } : {};
  const workers = {
    js: await InferenceWorker.start({ bundle, providers: [args.provider], ...threads }),
    fused: await InferenceWorker.start({ bundle, providers: [args.provider], ...threads, fusedIo: true }),
  };
  const params = resolveParameters({ execution_providers: [args.provider] });
  const calibration = syntheticCalibration(WIDTH, HEIGHT);
  const frames: Frame[] = images.map((image, i) => ({
    cameraTopic: "/bench/image", stamp: { sec: i, nanosec: 0 }, frameId: "cam", image, calibration, intrinsics: intrinsicsFromCalibration(calibration),
  }));
  const around = { js: [] as number[], fused: [] as number[] };
  const processors = { js: new FrameProcessor(bundle, workers.js, () => params), fused: new FrameProcessor(bundle, workers.fused, () => params) };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const mode of ["js", "fused"] as const) {
      const out = await processors[mode].process(frames[i % frames.length]!, { depthColorized: false, labelsColorized: false, confidence: false });
      if (i >= WARMUP) around[mode].push((out.timings.preprocess ?? 0) + (out.timings.postprocess ?? 0));
      processors[mode].release(out);
    }
  }
  await workers.js.close();
  await workers.fused.close();
  console.log(`\n${bundle.name} through FrameProcessor (colourised views off): main-thread preprocess + postprocess per frame`);
  console.log(`  JS path ${median(around.js).toFixed(2)} ms, fused_io ${median(around.fused).toFixed(2)} ms (medians; fused still removes flying pixels at model resolution and upsamples that depth for the cloud)`);
}
process.exitCode = failed ? 1 : 0;
