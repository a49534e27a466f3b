// `npm run bench`: the speed targets of the pipeline around session.run, each printed with its
// measured ratio and PASS/FAIL, plus per-stage times of one 640x480 camera frame.
//
//   npm run bench [-- --json out.json] [--models tiny,demo,vits] [--frames 120] [--runs 100] [--warmup 10]
//                    [--demo-frames 40] [--demo-runs 6] [--vits-frames 8] [--vits-runs 2]
//                    [--rss-frames 300] [--kernel-runs 200]
//                    [--providers cpu] [--intra-op-threads 0]
//
// Machines are noisy, so the project reports speed as ratios measured in one run, never as
// absolute thresholds in tests. See bench/README.md for what each number and target means.

import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Tensor, env as ortEnv, type InferenceSession } from "onnxruntime-node";
import { Observable, lastValueFrom, tap } from "rxjs";
import type { CameraCalibration, PinholeIntrinsics, Stamp, StageTimings } from "../src/frame.js";
import { resolveParameters, type DepthsegParams } from "../src/config/parameters.js";
import { backProjectCloud, CloudBuffer } from "../src/geometry/backproject.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { packPointCloud, POINT_STEP } from "../src/geometry/pointcloud2.js";
import { encodeJpeg } from "../src/imaging/decode.js";
import { bundleOutputNames, loadModelBundle, type ModelBundle } from "../src/inference/bundle.js";
import { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { SharedSlot, SharedSlots } from "../src/inference/sharedSlots.js";
import { modelInputSize, toInputTensor } from "../src/inference/preprocess.js";
import { createSessionWithFallback } from "../src/inference/providers.js";
import { CdrBufferPool, FrameCdrBuffers, encodeMessage } from "../src/messages/cdr.js";
import { decodeFrame, type PendingImage } from "../src/messages/ingest.js";
import { OutputEncoder } from "../src/messages/outputMessages.js";
import { header } from "../src/messages/outputs.js";
import type { CompressedImage } from "../src/messages/types.js";
import { CameraStatsRegistry, cameraPipeline, type CameraInput, type FrameSink } from "../src/pipeline/cameraPipeline.js";
import { FrameProcessor, type FrameOutputs, type OutputSelection } from "../src/pipeline/frameProcessor.js";
import { LatestWinsState } from "../src/pipeline/latestWins.js";
import { DEFAULT_MODEL_DIR, TINY_MODEL_DIR } from "../src/paths.js"; // DEFAULT_MODEL_DIR is models/demo
import { backProjectXyz } from "../tests/support/twoPassPointCloud.js";
import { drawScene } from "../tools/make-sample-bag.js";
import { benchMcapWrite, replayMessages } from "./mcapWrite.js";
import { defaultCompressionWorkers } from "../src/transport/mcap/compressionPool.js";
import { target, targetLines, targetRows } from "./targets.js";
import { vitsGraphs } from "./vitsGraph.js";

const WIDTH = 640;
const HEIGHT = 480;
const TOPIC = "/camera/color/image_raw/compressed";
const FRAME_ID = "camera_color_optical_frame";
/** Distinct JPEGs cycled through the pipeline run (the scene's boxes move between them). */
const DISTINCT_FRAMES = 8;
/** Everything on, as `depthseg replay` writes it. */
const SELECT: OutputSelection = { depthColorized: true, labelsColorized: true, confidence: false };
const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", ".bench");

/** The targets of issue 13; each is printed with its measured value and PASS/FAIL. */
const TARGETS = {
  /** backProjectCloud's median over the C -O2 loop's, same work, same inputs. */
  kernelOverC: 1.5,
  /** Everything but session.run, per frame (decode..encode, GC included), over bare session.run. */
  overheadOverSessionRun: 0.5,
  /** Main-thread GC pause time per frame in the pipeline, ms. */
  gcMsPerFrame: 1,
  /** RSS over the long run: median of the last fifth over the median of the second tenth. */
  rssGrowth: 1.05,
  /**
   * max_in_flight 2: frames/s over 1 / slowest stage (main thread vs worker session.run). Without
   * overlap it would be 1 / (sum of both stages): about 0.5 of the bound where the stages are
   * equal (tiny, demo on this CPU), ~0.97 where session.run dominates (ViT-S), so the row
   * discriminates only for the former; each model's line prints the serial rate next to it.
   */
  overlap: 0.9,
  /** Output MCAP (BagWriter, uncompressed chunks) ms/frame over a raw write of the same bytes. */
  mcapOverRawWrite: 1.5,
  /**
   * Output MCAP with zstd chunks (replay's default, compressed by the worker pool): main-thread
   * busy ms/frame during the writes over the raw write's wall ms/frame. This bench's own bar, the
   * writer row's: the pipeline's thread pays no more for a compressed bag than ~a raw write takes.
   */
  zstdMainThreadOverRawWrite: 1.5,
} as const;

const { values: args } = parseArgs({
  options: {
    json: { type: "string" },
    models: { type: "string", default: "tiny,demo,vits" },
    frames: { type: "string", default: "120" },
    runs: { type: "string", default: "100" },
    warmup: { type: "string", default: "10" },
    "demo-frames": { type: "string", default: "40" },
    "demo-runs": { type: "string", default: "6" },
    "vits-frames": { type: "string", default: "8" },
    "vits-runs": { type: "string", default: "2" },
    "rss-frames": { type: "string", default: "10000" },
    "kernel-runs": { type: "string", default: "200" },
    "mcap-frames": { type: "string", default: "20" },
    "mcap-rounds": { type: "string", default: "3" },
    providers: { type: "string", default: "cpu" },
    "intra-op-threads": { type: "string", default: "0" },
  },
});
/**
 * Frames at the start of a pipeline run left out of its steady-state GC: with the demo graph all
 * of a 24-frame run's pauses fell in frames 0-2 (a new FrameProcessor's buffer sets and CDR pool
 * filled, first calls of the kernels at this size), none after.
 */
const STEADY_AFTER_FRAMES = 3;

const FRAMES = positiveInt("frames", args.frames);
const RUNS = positiveInt("runs", args.runs);
const WARMUP = positiveInt("warmup", args.warmup, true);
const DEMO_FRAMES = positiveInt("demo-frames", args["demo-frames"]);
const DEMO_RUNS = positiveInt("demo-runs", args["demo-runs"]);
const VITS_FRAMES = positiveInt("vits-frames", args["vits-frames"]);
const VITS_RUNS = positiveInt("vits-runs", args["vits-runs"]);
const RSS_FRAMES = positiveInt("rss-frames", args["rss-frames"], true);
const KERNEL_RUNS = positiveInt("kernel-runs", args["kernel-runs"]);
const MCAP_FRAMES = positiveInt("mcap-frames", args["mcap-frames"], true);
const MCAP_ROUNDS = positiveInt("mcap-rounds", args["mcap-rounds"]);
const PROVIDERS = args.providers.split(",").map((p) => p.trim()).filter(Boolean);
const INTRA_OP_THREADS = positiveInt("intra-op-threads", args["intra-op-threads"], true);
const MODELS = args.models.split(",").map((m) => m.trim()).filter(Boolean);
for (const m of MODELS) if (m !== "tiny" && m !== "demo" && m !== "vits") throw new Error(`--models takes tiny, demo and/or vits, got "${m}"`);

// ---------------------------------------------------------------------------------------------
// Statistics

interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p95: number;
  /** Unlike medians, means add up: a GC pause lands in some stage's mean, in no stage's median. */
  readonly mean: number;
  readonly min: number;
}

function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, median: NaN, p95: NaN, mean: NaN, min: NaN };
  const sorted = Float64Array.from(samples).sort();
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  // Nearest rank, as the pipeline's own stats.
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { n: sorted.length, median, p95, mean, min: sorted[0]! };
}

/** Runs `fn` `warmup` times untimed, then `runs` times timed; `prepare` runs outside the timing. */
async function measure<P>(
  runs: number,
  warmup: number,
  fn: (prepared: P) => unknown,
  prepare: () => P = () => undefined as P,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(prepare());
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const prepared = prepare();
    const t0 = performance.now();
    await fn(prepared);
    samples.push(performance.now() - t0);
  }
  return samples;
}

/** Main-thread garbage-collection pauses, to explain time that no stage accounts for. */
const gcPauses: { start: number; duration: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push({ start: entry.startTime, duration: entry.duration });
});
gcObserver.observe({ entryTypes: ["gc"] });

/** Observer entries arrive asynchronously: await this before reading `gcPauses`. */
function gcEntriesDelivered(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** GC pause time (ms) and count that started within [from, to]. */
function gcBetween(from: number, to: number): { ms: number; count: number } {
  const inside = gcPauses.filter((gc) => gc.start >= from && gc.start <= to);
  return { ms: inside.reduce((sum, gc) => sum + gc.duration, 0), count: inside.length };
}

const started = performance.now();
const machineBefore = machineBusyMs();
const selfBefore = process.cpuUsage();
const lines: string[] = [];
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2).padStart(8) : "       -");
const json: Record<string, unknown> = {};

// ---------------------------------------------------------------------------------------------
// 1. Back-projection + PointCloud2 packing at 640x480 against a C -O2 loop doing the same work.

/** Synthetic kernel inputs; bench/backprojectCloud.c builds the same arrays with the same formulas. */
function syntheticCloudInputs() {
  const pixels = WIDTH * HEIGHT;
  const depth = new Float32Array(pixels);
  const labels = new Uint16Array(pixels);
  const rgb = new Uint8Array(3 * pixels);
  for (let i = 0; i < pixels; i++) {
    depth[i] = i % 37 === 0 ? NaN : 0.5 + (i % 997) * 0.01;
    labels[i] = i % 7;
  }
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 31) & 0xff;
  const intrinsics: PinholeIntrinsics = { width: WIDTH, height: HEIGHT, fx: 525, fy: 525, cx: 319.5, cy: 239.5 };
  return { depth, labels, rgb, intrinsics };
}

/** FNV-1a over bytes, as the C program prints it: equal sums = both did the same work. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619) >>> 0;
  return h;
}

/** Compiles and runs the C reference when a compiler is there; undefined with the reason if not. */
function runCReference(runs: number, warmup: number): { medianMs: number; checksum: number; compiler: string } | string {
  const compiler = ["cc", "gcc", "clang"].find((c) => {
    try {
      execFileSync(c, ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
  if (compiler === undefined) return "no C compiler (cc, gcc, clang) on PATH: C row skipped";
  mkdirSync(BENCH_DIR, { recursive: true });
  const source = join(dirname(fileURLToPath(import.meta.url)), "backprojectCloud.c");
  const binary = join(BENCH_DIR, "backprojectCloud");
  execFileSync(compiler, ["-O2", "-o", binary, source, "-lm"], { stdio: "inherit" });
  const out = execFileSync(binary, [String(WIDTH), String(HEIGHT), "1", String(runs), String(warmup)]).toString();
  const median = /median_ms ([\d.]+)/.exec(out)?.[1];
  const checksum = /checksum (\d+)/.exec(out)?.[1];
  if (median === undefined || checksum === undefined) throw new Error(`unexpected output of ${binary}: ${out}`);
  return { medianMs: Number(median), checksum: Number(checksum), compiler: `${compiler} -O2` };
}

{
  const { depth, labels, rgb, intrinsics } = syntheticCloudInputs();
  const opts = { decimation: 1, minRange: 0, maxRange: Infinity };
  const attributes = { rgb, labels, unlabelled: 65535 };
  // As FrameProcessor does: a reused CloudBuffer that the kernel fills in place.
  const cloudBuffer = new CloudBuffer();
  let onePassBytes: Uint8Array = new Uint8Array(0);
  const onePass = () => {
    onePassBytes = backProjectCloud(depth, intrinsics, opts, attributes, cloudBuffer).data;
  };
  // The same kernel into plain bytes: its output copied out of the WebAssembly memory.
  const copiedBytes = new Uint8Array(WIDTH * HEIGHT * POINT_STEP);
  const copied = () => backProjectCloud(depth, intrinsics, opts, attributes, copiedBytes);
  // The code before the one pass: back-projection into a reused xyz array, then packPointCloud
  // (decimation 1 samples nothing, as the old FrameProcessor did).
  const xyz = new Float32Array(3 * WIDTH * HEIGHT);
  const twoPassBytes = new Uint8Array(WIDTH * HEIGHT * POINT_STEP);
  const twoPass = () => {
    const points = backProjectXyz(depth, intrinsics, opts, xyz);
    packPointCloud(points.xyz, points.width, points.height, rgb, labels, 65535, twoPassBytes);
  };
  // JS, C, JS again: the JS samples of both halves bracket the C run in time.
  const jsSamples = await measure(KERNEL_RUNS >> 1, WARMUP * 3, onePass);
  const copiedSamples = await measure(KERNEL_RUNS >> 1, WARMUP * 3, copied);
  const twoPassSamples = await measure(KERNEL_RUNS >> 2, WARMUP, twoPass);
  const c = runCReference(KERNEL_RUNS, WARMUP * 3);
  jsSamples.push(...(await measure(KERNEL_RUNS - (KERNEL_RUNS >> 1), WARMUP, onePass)));
  copiedSamples.push(...(await measure(KERNEL_RUNS - (KERNEL_RUNS >> 1), WARMUP, copied)));
  const js = summarize(jsSamples);
  const copy = summarize(copiedSamples);
  const before = summarize(twoPassSamples);
  const jsSum = fnv1a(onePassBytes);
  if (fnv1a(twoPassBytes) !== jsSum || fnv1a(copiedBytes) !== jsSum) {
    throw new Error("backProjectCloud and the two-pass code disagree on the synthetic frame");
  }
  lines.push(`back-projection + PointCloud2 packing, ${WIDTH}x${HEIGHT}, decimation 1, every 37th depth NaN (${KERNEL_RUNS} runs, ms):`);
  lines.push(`  ${"backProjectCloud into a CloudBuffer".padEnd(40)}${ms(js.median)} median ${ms(js.p95)} p95   (wasm SIMD, inputs copied in; as the pipeline)`);
  lines.push(`  ${"backProjectCloud into plain bytes".padEnd(40)}${ms(copy.median)} median ${ms(copy.p95)} p95   (the same + a copy of the 6 MB out)`);
  lines.push(`  ${"before: backProject + packPointCloud".padEnd(40)}${ms(before.median)} median ${ms(before.p95)} p95   (${(before.median / js.median).toFixed(2)}x the one pass)`);
  if (typeof c === "string") {
    lines.push(`  C reference: ${c}`);
    target("back-projection+packing / C -O2", NaN, TARGETS.kernelOverC, "max", c);
  } else {
    if (c.checksum !== jsSum) throw new Error(`the C reference wrote other bytes (FNV ${c.checksum}) than backProjectCloud (${jsSum})`);
    lines.push(`  ${`C loop (${c.compiler}), same bytes`.padEnd(40)}${ms(c.medianMs)} median`);
    target("back-projection+packing / C -O2", js.median / c.medianMs, TARGETS.kernelOverC, "max",
      `${js.median.toFixed(2)} ms vs C ${c.medianMs.toFixed(2)} ms (into plain bytes ${(copy.median / c.medianMs).toFixed(2)}x, two-pass ${(before.median / c.medianMs).toFixed(2)}x)`);
  }
  lines.push("");
  json.kernel = { onePass: js, onePassIntoPlainBytes: copy, twoPass: before, c: typeof c === "string" ? { skipped: c } : c };
}

// ---------------------------------------------------------------------------------------------
// 2. Per model: bare session.run, each stage in isolation, the pipeline with max_in_flight 1 and 2.

const calibration: CameraCalibration = pinholeCalibration(WIDTH, HEIGHT, 525, 525, 319.5, 239.5);
const jpegs = Array.from({ length: DISTINCT_FRAMES }, (_, i) => encodeJpeg(drawScene(i * 2), 85));

function stampOf(index: number): Stamp {
  return { sec: 1_700_000_000 + Math.floor(index / 10), nanosec: (index % 10) * 100_000_000 };
}

function compressed(index: number): CompressedImage {
  return { header: header(stampOf(index), FRAME_ID), format: "jpeg", data: jpegs[index % jpegs.length]! };
}

function pendingImage(index: number): PendingImage {
  return {
    cameraTopic: TOPIC,
    stamp: stampOf(index),
    frameId: FRAME_ID,
    image: { encoding: "compressed", message: compressed(index) },
    receivedAt: performance.now(),
  };
}

function paramsWith(maxInFlight: number): DepthsegParams {
  return resolveParameters({ execution_providers: PROVIDERS, intra_op_threads: INTRA_OP_THREADS, max_in_flight: maxInFlight });
}

interface ModelRun {
  readonly name: string;
  /** Model input, WxH. */
  readonly input: string;
  readonly bare: Summary;
  /** Per frame, pipeline max_in_flight 1: mean latency minus the worker's mean session.run. */
  readonly overheadMs: number;
  readonly overheadOverBare: number;
  readonly gcMsPerFrame: number;
  /** The same after the run's first frames (PipelineRun.gcSteadyMsPerFrame). */
  readonly gcSteadyMsPerFrame: number;
  readonly gcSteadyFrom: number;
  /** The target's overlap: partitioned when it could be measured so, else with ORT on all cores. */
  readonly overlap: number;
  /** max_in_flight 2 fps over 1 / slowest stage with ORT on all cores (the stages share them). */
  readonly overlapAllCores: number;
  readonly partitioned: boolean;
  /** 1 / (sum of the stages) over 1 / slowest stage: what no overlap at all would score. */
  readonly serialOverBound: number;
}

/** `bareRepeat`: bare session.run is timed bareRepeat x runs times at the start and again at the end. */
async function benchModel(label: string, dir: string, modelInput: "bundle" | "camera", runs: number, warmup: number, frames: number, bareRepeat = 3): Promise<ModelRun> {
  const loaded = await loadModelBundle(dir);
  // "camera": the graph runs at the camera's 640x480, as a GPU deployment would feed it.
  const bundle: ModelBundle = modelInput === "camera" ? { ...loaded, input: { ...loaded.input, width: WIDTH, height: HEIGHT } } : loaded;
  const params = paramsWith(1);
  const inputSize = modelInputSize(WIDTH, HEIGHT, bundle.input);
  const outputNames = bundleOutputNames(bundle);
  const frame = decodeFrame(pendingImage(0), calibration).frame;
  const baseTensor = toInputTensor(frame.image, bundle.input);
  if (baseTensor.dims[2] !== inputSize.height || baseTensor.dims[3] !== inputSize.width) {
    throw new Error(`toInputTensor gave ${baseTensor.dims.join("x")}, modelInputSize ${inputSize.width}x${inputSize.height}`);
  }

  // Bare session.run: main thread, the worker's session options, one pre-built tensor.
  const bare = await createSessionWithFallback(bundle.onnxPath, PROVIDERS, {
    intraOpThreads: params.intraOpThreads,
    interOpThreads: params.interOpThreads,
  });
  const session: InferenceSession = bare.session;
  const feed = { [bundle.input.name]: new Tensor("float32", baseTensor.data.slice(), baseTensor.dims) };
  const bareRun = () => session.run(feed, outputNames);
  const bareBefore = await measure(bareRepeat * runs, bareRepeat * warmup, bareRun);

  const worker = await InferenceWorker.start({
    bundle,
    providers: params.executionProviders,
    intraOpThreads: params.intraOpThreads,
    interOpThreads: params.interOpThreads,
  });
  try {
    if (worker.provider !== bare.provider) {
      throw new Error(`the worker runs on ${worker.provider} but the bare session on ${bare.provider}: ratios would mean nothing`);
    }
    const decode = await measure(runs, warmup, () => decodeFrame(pendingImage(0), calibration));
    const preprocess = await measure(runs, warmup, () => toInputTensor(frame.image, bundle.input));
    const workerInner: number[] = [];
    const workerInference = await measure(
      runs,
      warmup,
      async (input: Float32Array) => {
        const result = await worker.run(input, baseTensor.dims);
        workerInner.push(result.inferenceMs);
      },
      () => baseTensor.data.slice(),
    );
    workerInner.splice(0, warmup);

    const processor = new FrameProcessor(bundle, worker, () => params);
    const processorTimings: StageTimings[] = [];
    let lastOutputs: FrameOutputs | undefined;
    const processStart = performance.now();
    const processTotal = await measure(runs, warmup, async () => {
      const timings: StageTimings = {};
      if (lastOutputs) processor.release(lastOutputs);
      lastOutputs = await processor.process(frame, SELECT, timings);
      processorTimings.push(timings);
    });
    processorTimings.splice(0, warmup);
    await gcEntriesDelivered();
    const processGc = gcBetween(processStart, performance.now());
    const outputs = lastOutputs!;

    // Encode as the replay sink does: into one frame's reused CDR buffers.
    const encoder = new OutputEncoder({ namespace: params.outputNamespace, bundle, provider: worker.provider });
    const cdr = new FrameCdrBuffers();
    const encode = await measure(runs, warmup, () => {
      encoder.encode(outputs).forEach((out, slot) => cdr.encode(slot, out.typeName, out.message));
    });
    const statsForStatus = new CameraStatsRegistry();
    const statusEncode = await measure(runs, warmup, () => {
      const status = encoder.status(outputs, statsForStatus.camera(TOPIC), 0);
      encodeMessage(status.typeName, status.message);
    });

    const serial = await runPipeline(bundle, worker, frames, 1);
    const overlapped = await runPipeline(bundle, worker, frames, 2);
    const partitioned = await partitionedOverlap(bundle, frames);
    const bareAfter = await measure(bareRepeat * runs, bareRepeat * warmup, bareRun);

    const pick = (stage: keyof StageTimings) => processorTimings.map((t) => t[stage] ?? NaN);
    const bareAll = summarize([...bareBefore, ...bareAfter]);
    const stages: StageRow[] = [
      { stage: "decode", note: "JPEG 640x480 -> rgb8 + validate", isolated: summarize(decode), inPipeline: serial.stage("decode") },
      { stage: "preprocess", note: `resize to ${inputSize.width}x${inputSize.height} + normalise`, isolated: summarize(preprocess), inPipeline: serial.stage("preprocess") },
      { stage: "inference", note: "InferenceWorker.run round trip", isolated: summarize(workerInference), inPipeline: serial.stage("inference") },
      { stage: "postprocess", note: "depth + resize + argmax + colourise", isolated: summarize(pick("postprocess")), inPipeline: serial.stage("postprocess") },
      { stage: "backproject", note: "backProjectCloud: points + PointCloud2 bytes", isolated: summarize(pick("backproject")), inPipeline: serial.stage("backproject") },
      { stage: "encode", note: "OutputEncoder.encode + CDR into reused buffers", isolated: summarize(encode), inPipeline: serial.stage("encode") },
      { stage: "status", note: "PerceptionStatus + CDR", isolated: summarize(statusEncode), inPipeline: undefined },
    ];
    const stageSum = stages.reduce((sum, row) => sum + row.isolated.median, 0);
    const stageSumMeans = stages.reduce((sum, row) => sum + row.isolated.mean, 0);
    const workerInnerSummary = summarize(workerInner);

    // Everything except session.run, per frame: the pipeline's mean latency (decode through the
    // status's CDR, GC pauses included) minus the mean session.run the worker timed for it.
    const overheadMs = serial.latency.mean - serial.sessionRun.mean;
    const overheadOverBare = overheadMs / bareAll.median;
    // The two stages that can overlap are the main thread's work and the worker's session.run.
    const slowestMs = Math.max(overheadMs, serial.sessionRun.mean);
    const boundFps = 1000 / slowestMs;
    // Stages one after the other: the rate max_in_flight 2 must beat.
    const serialBoundFps = 1000 / (overheadMs + serial.sessionRun.mean);
    const overlapAllCores = overlapped.fps / boundFps;
    // The target: with the stages on their own cores (as on a GPU machine), when ORT can be kept off one.
    const overlap = partitioned?.overlap ?? overlapAllCores;

    lines.push(`model ${label}: ${bundle.name} on ${worker.provider}, model input ${inputSize.width}x${inputSize.height} (${modelInput === "camera" ? "the camera's size, overriding model.yaml" : "model.yaml"}), outputs ${outputNames.join(", ")}`);
    lines.push(`isolated: ${runs} timed runs after ${warmup} warm-up each (bare session.run: ${bareRepeat}x, at start and end); pipeline: ${frames} frames at max_in_flight 1, then 2`);
    lines.push(
      `${"stage (ms)".padEnd(24)}${"median".padStart(8)}${"p95".padStart(8)}${"mean".padStart(8)}  ` +
        `${"pipe p50".padStart(9)}${"pipe p95".padStart(9)}${"pipe mean".padStart(10)}   what`,
    );
    const row = (name: string, s: Summary, p: Summary | undefined, note: string) =>
      lines.push(
        `${name.padEnd(24)}${ms(s.median)}${ms(s.p95)}${ms(s.mean)}  ` +
          `${ms(p?.median ?? NaN).padStart(9)}${ms(p?.p95 ?? NaN).padStart(9)}${ms(p?.mean ?? NaN).padStart(10)}   ${note}`,
      );
    row("bare session.run", bareAll, undefined, `main thread, pre-built tensor (start ${summarize(bareBefore).median.toFixed(2)}, end ${summarize(bareAfter).median.toFixed(2)})`);
    for (const s of stages) row(s.stage, s.isolated, s.inPipeline, s.note);
    row("  session.run in worker", workerInnerSummary, serial.sessionRun, "inferenceMs reported by the worker");
    row("FrameProcessor.process", summarize(processTotal), undefined, `preprocess..backproject in one call; GC ${(processGc.ms / (runs + warmup)).toFixed(2)} ms/call`);
    lines.push(`${"sum of stages".padEnd(24)}${ms(stageSum)}${"".padStart(8)}${ms(stageSumMeans)}   decode..status`);
    row("pipeline per frame", serial.latency, undefined, "max_in_flight 1: image handed to the pipeline -> status encoded");
    lines.push(`${"pipeline throughput".padEnd(24)}${serial.fps.toFixed(1).padStart(8)} frames/s at max_in_flight 1, ${overlapped.fps.toFixed(1)} at max_in_flight 2`);
    lines.push(`${"pipeline main-thread GC".padEnd(24)}${ms(serial.gcMsPerFrame)} ms/frame (${serial.gcCount} pauses), ${serial.gcInInferenceMsPerFrame.toFixed(2)} of it inside inference round trips; CDR ${(serial.bytesPerFrame / 2 ** 20).toFixed(1)} MiB/frame`);
    lines.push(`${"  after frame ".concat(String(serial.gcSteadyFrom)).padEnd(24)}${ms(serial.gcSteadyMsPerFrame)} ms/frame (${serial.gcSteadyCount} pauses in ${frames - serial.gcSteadyFrom} frames): the run's first frames fill a new FrameProcessor's buffer sets and CDR pool; ` +
      `${serial.runsBy.slot} frames ran in shared slots (${worker.slots.size} made, ${worker.slots.inUse} still held), ${serial.runsBy.transfer} by transfer`);
    lines.push(`${"all but session.run".padEnd(24)}${ms(overheadMs)} ms/frame = ${overheadOverBare.toFixed(2)}x bare session.run (${bareAll.median.toFixed(2)} ms)`);
    lines.push(`${"overlap bound".padEnd(24)}${boundFps.toFixed(1).padStart(8)} frames/s = 1 / max(main thread ${overheadMs.toFixed(1)} ms, session.run ${serial.sessionRun.mean.toFixed(1)} ms); measured ${overlapped.fps.toFixed(1)} at max_in_flight 2 (${(overlapped.fps / boundFps).toFixed(2)} of the bound; no overlap would give ${serialBoundFps.toFixed(1)} = ${(serialBoundFps / boundFps).toFixed(2)})`);
    if (partitioned) {
      lines.push(
        `${"  ORT on " + partitioned.ortThreads + " of " + availableParallelism() + " cores"}: ${partitioned.serialFps.toFixed(1)} frames/s at max_in_flight 1, ${partitioned.overlappedFps.toFixed(1)} at 2; ` +
          `bound 1 / max(main thread ${partitioned.mainMs.toFixed(1)} ms, session.run ${partitioned.sessionRunMs.toFixed(1)} ms) = ${partitioned.boundFps.toFixed(1)}: ` +
          `${partitioned.overlap.toFixed(2)} of it (no overlap would give ${partitioned.serialOverBound.toFixed(2)}; the target row)`,
      );
    }
    lines.push(`bare session.run end / start ${(summarize(bareAfter).median / summarize(bareBefore).median).toFixed(2)} (drift; far from 1 = noisy machine)`);
    lines.push("");

    json[label] = {
      model: bundle.name,
      modelInput: `${inputSize.width}x${inputSize.height}`,
      bareSessionRun: { all: bareAll, start: summarize(bareBefore), end: summarize(bareAfter) },
      stages: stages.map((s) => ({ stage: s.stage, what: s.note, isolated: s.isolated, inPipeline: s.inPipeline ?? null })),
      workerSessionRun: workerInnerSummary,
      frameProcessorProcess: summarize(processTotal),
      frameProcessorGcMsPerCall: processGc.ms / (runs + warmup),
      pipeline: { maxInFlight1: serial.report(), maxInFlight2: overlapped.report() },
      overheadMsPerFrame: overheadMs,
      overheadOverBareSessionRun: overheadOverBare,
      overlapBoundFps: boundFps,
      overlap,
      overlapAllCores,
      ...(partitioned ? { partitioned } : {}),
    };
    return {
      name: label, input: `${inputSize.width}x${inputSize.height}`, bare: bareAll, overheadMs, overheadOverBare,
      gcMsPerFrame: serial.gcMsPerFrame, gcSteadyMsPerFrame: serial.gcSteadyMsPerFrame, gcSteadyFrom: serial.gcSteadyFrom,
      overlap, overlapAllCores, partitioned: partitioned !== undefined,
      serialOverBound: partitioned?.serialOverBound ?? serialBoundFps / boundFps,
    };
  } finally {
    await worker.close();
    await session.release();
  }
}

/**
 * The per-frame path without the model over many frames: the tiny model's outputs for one real
 * frame are returned for every frame (a fixed tensor, no session.run, no transfer), so what is
 * left is depthseg's own work (decode .. CDR into reused buffers). RSS after each frame, and GC.
 */
async function rssRun(frames: number): Promise<void> {
  const bundle = await loadModelBundle(TINY_MODEL_DIR);
  const params = paramsWith(1);
  const worker = await InferenceWorker.start({
    bundle,
    providers: params.executionProviders,
    intraOpThreads: params.intraOpThreads,
    interOpThreads: params.interOpThreads,
  });
  let fixed;
  try {
    const input = toInputTensor(decodeFrame(pendingImage(0), calibration).frame.image, bundle.input);
    fixed = await worker.run(input.data, input.dims);
  } finally {
    await worker.close();
  }
  const { outputs } = fixed;
  // FrameProcessor only reads the outputs, so one set serves every frame. The result comes in a
  // later macrotask, as the worker's message does: a pipeline of microtasks only would starve the
  // event loop, and with it the PerformanceObserver, which then drops its gc entries.
  const fixedWorker = {
    provider: worker.provider,
    // No slots: every frame takes run(), which answers with the fixed outputs.
    slots: new SharedSlots(0),
    run: (input: Float32Array) => new Promise((resolve) => setImmediate(() => resolve({ outputs, inferenceMs: 0, input }))),
  } as unknown as InferenceWorker;
  const run = await runPipeline(bundle, fixedWorker, frames, 1, true);
  const rss = run.rssMiB;
  const early = summarize(rss.slice(Math.floor(frames * 0.1), Math.floor(frames * 0.2)));
  const late = summarize(rss.slice(Math.floor(frames * 0.8)));
  const growth = late.median / early.median;
  const slope = slopePer1000(rss.slice(Math.floor(frames * 0.1)));
  lines.push(`RSS over ${frames} frames, per-frame path without the model (fixed tensor, ${WIDTH}x${HEIGHT}, max_in_flight 1, ${run.fps.toFixed(0)} frames/s): ` +
    `${rss[0]!.toFixed(0)} MiB after frame 1, median ${early.median.toFixed(0)} MiB over frames ${Math.floor(frames * 0.1)}-${Math.floor(frames * 0.2)}, ` +
    `${late.median.toFixed(0)} MiB over the last fifth, ${rss[rss.length - 1]!.toFixed(0)} at the end (max ${Math.max(...rss).toFixed(0)}); ` +
    `slope after the first tenth ${slope.toFixed(2)} MiB per 1000 frames; GC ${run.gcMsPerFrame.toFixed(2)} ms/frame (${run.gcCount} pauses)`);
  lines.push("");
  target("RSS last fifth / second tenth (no model)", growth, TARGETS.rssGrowth, "max",
    `${early.median.toFixed(0)} -> ${late.median.toFixed(0)} MiB over ${frames} frames, slope ${slope.toFixed(2)} MiB/1000 frames`);
  target("main-thread GC ms/frame, long run (no model)", run.gcMsPerFrame, TARGETS.gcMsPerFrame, "max", `${run.gcCount} pauses in ${frames} frames`);
  json.rss = { frames, firstMiB: rss[0], earlyMiB: early, lateMiB: late, endMiB: rss[rss.length - 1], growth, slopeMiBPer1000Frames: slope, gcMsPerFrame: run.gcMsPerFrame, gcPauses: run.gcCount, fps: run.fps };
}

/** Least-squares slope of `samples` (one per frame), per 1000 frames. */
function slopePer1000(samples: readonly number[]): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const meanX = (n - 1) / 2;
  const meanY = samples.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - meanX) * (samples[i]! - meanY);
    den += (i - meanX) ** 2;
  }
  return (1000 * num) / den;
}

/** Output MCAP writing vs a raw write of the same bytes (bench/mcapWrite.ts). */
async function mcapWriteRun(frames: number, rounds: number): Promise<void> {
  const bundle = await loadModelBundle(TINY_MODEL_DIR);
  const params = paramsWith(1);
  const worker = await InferenceWorker.start({ bundle, providers: params.executionProviders, intraOpThreads: params.intraOpThreads, interOpThreads: params.interOpThreads });
  let messages;
  try {
    messages = await replayMessages(bundle, worker, DISTINCT_FRAMES, pendingImage, calibration, SELECT);
  } finally {
    await worker.close();
  }
  const result = await benchMcapWrite(messages, frames, rounds, async (from, to) => {
    await gcEntriesDelivered();
    return gcBetween(from, to).ms;
  });
  type Way = keyof typeof result.msPerFrame;
  const median = (way: Way) => summarize(result.msPerFrame[way]).median;
  const busy = (way: Way) => summarize(result.busyMsPerFrame[way]).median;
  // Main-thread CPU where /proc has it, else event-loop active time.
  const hasCpu = result.cpuMsPerFrame.raw.length > 0;
  const mainThread = hasCpu ? result.cpuMsPerFrame : result.busyMsPerFrame;
  const cpu = (way: Way) => summarize(mainThread[way]).median;
  // Per round, over that round's raw write (wall), then the median of the rounds.
  const ratio = (values: Record<Way, number[]>, way: Way) => summarize(values[way].map((v, i) => v / result.msPerFrame.raw[i]!)).median;
  const x = (values: Record<Way, number[]>, way: Way) => `${ratio(values, way).toFixed(2).padStart(6)}x`;
  const col = (v: number, width: number) => v.toFixed(2).padStart(width);
  const row = (label: string, way: Way, extra = "") =>
    `  ${label.padEnd(42)}${ms(median(way))}${way === "raw" ? "".padStart(7) : x(result.msPerFrame, way)}` +
    `  ${ms(cpu(way))}${x(mainThread, way)}${col(busy(way), 11)}${col(summarize(result.closeMs[way]).median, 10)}${col(result.gcMsPerFrame[way], 8)}${extra}`;
  lines.push(`output MCAP writing, ${frames} frames x ${rounds} rounds (after 1 warm-up), ${(result.bytesPerFrame / 2 ** 20).toFixed(2)} MiB of CDR per frame (tiny model's outputs + camera); medians of rounds, x = over that round's raw write (wall):`);
  lines.push(`  ${"".padEnd(42)}${"wall ms/frame".padStart(15)}${(hasCpu ? "main-thread CPU" : "main-thread busy").padStart(17)}${"loop busy".padStart(11)}${"close ms".padStart(10)}${"GC ms".padStart(8)}`);
  lines.push(row("raw FileHandle.write of the same bytes", "raw"));
  lines.push(row("before: @mcap/core McapWriter", "before"));
  lines.push(row("after: BagWriter (McapFileWriter), none", "after"));
  lines.push(row("zstd chunks, main thread (workers 0)", "zstd", `  ${(result.fileBytesPerFrame.zstd / 2 ** 20).toFixed(2)} MiB/frame on disk`));
  lines.push(row(`zstd chunks, ${defaultCompressionWorkers()} worker(s) (replay default)`, "zstdWorkers", `  ${(result.fileBytesPerFrame.zstdWorkers / 2 ** 20).toFixed(2)} MiB/frame on disk`));
  lines.push(`  (main-thread CPU: the main thread's own CPU time during the writes${hasCpu ? "" : " (no /proc schedstat here: event-loop busy instead)"}; loop busy: event-loop active time, which`);
  lines.push("   also counts waiting for a core; close: summary, fsync and, with workers, the chunks still compressing)");
  lines.push("");
  target("output MCAP write / raw write of the same bytes", ratio(result.msPerFrame, "after"), TARGETS.mcapOverRawWrite, "max",
    `${median("after").toFixed(2)} vs ${median("raw").toFixed(2)} ms/frame (before: McapWriter ${median("before").toFixed(2)} ms, ${ratio(result.msPerFrame, "before").toFixed(2)}x)`);
  target(`zstd writer main-thread ${hasCpu ? "CPU" : "busy"} time / raw write`, ratio(mainThread, "zstdWorkers"), TARGETS.zstdMainThreadOverRawWrite, "max",
    `${cpu("zstdWorkers").toFixed(2)} vs ${median("raw").toFixed(2)} ms/frame (zstd on the main thread ${cpu("zstd").toFixed(2)} ms, ${ratio(mainThread, "zstd").toFixed(2)}x; none writer ${cpu("after").toFixed(2)} ms)`);
  json.mcapWrite = { frames, rounds, ...result };
}

const modelRuns: ModelRun[] = [];
for (const m of MODELS) {
  if (m === "tiny") modelRuns.push(await benchModel("tiny", TINY_MODEL_DIR, "bundle", RUNS, WARMUP, FRAMES));
  else if (m === "demo") modelRuns.push(await benchModel("demo", DEFAULT_MODEL_DIR, "camera", DEMO_RUNS, Math.min(WARMUP, 2), DEMO_FRAMES));
  else {
    // ~1 s a session.run on a 2-core CPU: few runs, one warm-up, bare session.run once at each end.
    const graphs = vitsGraphs(BENCH_DIR);
    if (typeof graphs === "string") {
      lines.push(graphs, "");
      target("all but session.run / session.run (vits)", NaN, TARGETS.overheadOverSessionRun, "max", graphs);
    } else {
      for (const graph of graphs) modelRuns.push(await benchModel(graph.label, graph.dir, "bundle", VITS_RUNS, 1, VITS_FRAMES, 1));
    }
  }
}
if (RSS_FRAMES > 0) await rssRun(RSS_FRAMES);
if (MCAP_FRAMES > 0) await mcapWriteRun(MCAP_FRAMES, MCAP_ROUNDS);
gcObserver.disconnect();

if (modelRuns.length > 0) {
  lines.push("session.run and everything else per 640x480 frame, by model (ms; pipeline at max_in_flight 1, GC included):");
  lines.push(`  ${"model".padEnd(16)}${"in WxH".padStart(9)}${"session.run".padStart(13)}${"all else".padStart(10)}${"ratio".padStart(8)}`);
  for (const run of modelRuns) {
    lines.push(`  ${run.name.padEnd(16)}${run.input.padStart(9)}${ms(run.bare.median).padStart(13)}${ms(run.overheadMs).padStart(10)}${run.overheadOverBare.toFixed(3).padStart(8)}`);
  }
  lines.push("");
}
for (const run of modelRuns) {
  // Issue 13's overhead target is against the demo model's graph; the tiny and ViT-S ratios are
  // reported in the table above (the tiny graph's ~1 ms session.run is no model anyone deploys).
  if (run.name === "demo") {
    target(`all but session.run / session.run (${run.name})`, run.overheadOverBare, TARGETS.overheadOverSessionRun, "max",
      `${run.overheadMs.toFixed(2)} ms vs ${run.bare.median.toFixed(2)} ms`);
  }
  // Per frame in steady state: a run's first frames allocate what the rest reuse (buffer sets,
  // CDR buffers, the worker's shared slots on its first runs), a cost paid once per process.
  target(`main-thread GC ms/frame (${run.name})`, run.gcSteadyMsPerFrame, TARGETS.gcMsPerFrame, "max",
    `pipeline run, max_in_flight 1, after its first ${run.gcSteadyFrom} frames; ${run.gcMsPerFrame.toFixed(2)} over all frames`);
  target(`max_in_flight 2 fps / (1 / slowest stage) (${run.name})`, run.overlap, TARGETS.overlap, "min",
    `slowest of main thread and session.run${run.partitioned ? ", ORT on all cores but one" : ""}; no overlap would give ${run.serialOverBound.toFixed(2)}` +
      (run.partitioned ? `; ORT on all cores ${run.overlapAllCores.toFixed(2)}` : ""));
}

const environment = {
  node: process.version,
  onnxruntimeNode: ortEnv.versions.node ?? "unknown",
  cpu: cpus()[0]?.model ?? "unknown",
  cores: availableParallelism(),
  image: `${WIDTH}x${HEIGHT} JPEG (${Math.round(jpegs[0]!.length / 1024)} KiB)`,
  /** Share of the machine's CPU time used by other processes while the bench ran (noise). */
  otherProcessesCpu: otherProcessesCpuShare(),
};
const headerLines = [
  `depthseg bench: ${environment.image}, providers ${PROVIDERS.join(",")}, intra-op threads ${INTRA_OP_THREADS || "ORT default"}`,
  `node ${environment.node}, onnxruntime-node ${environment.onnxruntimeNode}, ${environment.cpu}, ${environment.cores} cores; process CPU ${(100 * selfCpuShare()).toFixed(0)}% of one core`,
  `other processes used ${(100 * environment.otherProcessesCpu).toFixed(0)}% of the machine's CPU time during the run (0% = quiet machine)`,
  "",
];
lines.unshift(...headerLines);
lines.push("targets (issue 13; ratios measured in this run):");
lines.push(...targetLines());
lines.push(`total bench time ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(lines.join("\n"));

if (args.json) {
  json.environment = environment;
  json.settings = { runs: RUNS, warmup: WARMUP, frames: FRAMES, demoFrames: DEMO_FRAMES, demoRuns: DEMO_RUNS, rssFrames: RSS_FRAMES, kernelRuns: KERNEL_RUNS, providers: PROVIDERS, intraOpThreads: INTRA_OP_THREADS };
  json.targets = targetRows;
  await writeFile(args.json, JSON.stringify(json, null, 2) + "\n");
  console.log(`wrote ${args.json}`);
}

// ---------------------------------------------------------------------------------------------

interface StageRow {
  readonly stage: string;
  readonly note: string;
  readonly isolated: Summary;
  readonly inPipeline: Summary | undefined;
}

interface PipelineRun {
  /** Per-frame latency: from the image entering the pipeline to its status being encoded. */
  readonly latency: Summary;
  /** session.run as the worker timed it, per frame of this run. */
  readonly sessionRun: Summary;
  readonly interval: Summary;
  readonly fps: number;
  readonly wallMs: number;
  readonly gcMsPerFrame: number;
  readonly gcCount: number;
  /** GC per frame from the status of frame gcSteadyFrom - 1 on (the run's start excluded). */
  readonly gcSteadyMsPerFrame: number;
  readonly gcSteadyCount: number;
  readonly gcSteadyFrom: number;
  /** Frames run in a shared slot / by transfer. */
  readonly runsBy: { readonly slot: number; readonly transfer: number };
  readonly gcInInferenceMsPerFrame: number;
  readonly bytesPerFrame: number;
  /** Process RSS (MiB) after each frame's status, when asked for. */
  readonly rssMiB: number[];
  stage(name: keyof StageTimings): Summary;
  report(): Record<string, unknown>;
}

interface PartitionedOverlap {
  readonly ortThreads: number;
  readonly serialFps: number;
  readonly overlappedFps: number;
  readonly mainMs: number;
  readonly sessionRunMs: number;
  readonly boundFps: number;
  readonly overlap: number;
  readonly serialOverBound: number;
}

/**
 * Overlap with the two stages on separate cores: a worker whose ORT uses all cores but one, so
 * the main thread's work has a core of its own, as it does where session.run runs on a GPU. With
 * ORT on every core (the rows above) max_in_flight 2 only makes the stages fight over the same
 * cores, and the overlap row cannot tell overlap from none. Skipped with --intra-op-threads set
 * (the user chose the threads) or on one core.
 */
async function partitionedOverlap(bundle: ModelBundle, frames: number): Promise<PartitionedOverlap | undefined> {
  const cores = availableParallelism();
  if (INTRA_OP_THREADS > 0 || cores < 2) return undefined;
  const ortThreads = cores - 1;
  const worker = await InferenceWorker.start({ bundle, providers: PROVIDERS, intraOpThreads: ortThreads, interOpThreads: 1 });
  try {
    const serial = await runPipeline(bundle, worker, frames, 1);
    const overlapped = await runPipeline(bundle, worker, frames, 2);
    const mainMs = serial.latency.mean - serial.sessionRun.mean;
    const sessionRunMs = serial.sessionRun.mean;
    const boundFps = 1000 / Math.max(mainMs, sessionRunMs);
    return {
      ortThreads, serialFps: serial.fps, overlappedFps: overlapped.fps, mainMs, sessionRunMs, boundFps,
      overlap: overlapped.fps / boundFps, serialOverBound: 1000 / (mainMs + sessionRunMs) / boundFps,
    };
  } finally {
    await worker.close();
  }
}

async function runPipeline(bundle: ModelBundle, worker: InferenceWorker, frames: number, maxInFlight: number, sampleRss = false): Promise<PipelineRun> {
  const params = paramsWith(maxInFlight);
  // The worker's round trips are recorded, to find the main-thread GC pauses that fall inside them.
  const inferenceWindows: [number, number][] = [];
  const sessionRuns: number[] = [];
  /** Frames run in a shared slot, and by transfer (none was free). */
  const runsBy = { slot: 0, transfer: 0 };
  const timedWorker = new Proxy(worker, {
    get(target, key) {
      // Both ways a frame runs: in a shared slot, or by transfer when none is free.
      if (key === "run" || key === "runInSlot") {
        return async (input: Float32Array | SharedSlot, dims: readonly number[]) => {
          const start = performance.now();
          runsBy[input instanceof SharedSlot ? "slot" : "transfer"]++;
          try {
            const result = await (input instanceof SharedSlot ? target.runInSlot(input, dims) : target.run(input, dims));
            sessionRuns.push(result.inferenceMs);
            return result;
          } finally {
            inferenceWindows.push([start, performance.now()]);
          }
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const processor = new FrameProcessor(bundle, timedWorker, () => params);
  const encoder = new OutputEncoder({ namespace: params.outputNamespace, bundle, provider: worker.provider });
  const stats = new CameraStatsRegistry();
  const state = new LatestWinsState();
  const timings: StageTimings[] = [];
  const latencies: number[] = [];
  const doneAt: number[] = [];
  const rssMiB: number[] = [];
  let bytes = 0;

  // As the replay sink: each frame's CDR goes into a reused set of buffers, given back once its
  // status is written; the bytes are counted and dropped instead of written to a bag.
  const cdrBuffers = new CdrBufferPool(2 * maxInFlight);
  const frameCdr = new WeakMap<FrameOutputs, FrameCdrBuffers>();
  const sink: FrameSink = {
    writeOutputs: async (outputs) => {
      const t0 = performance.now();
      const buffers = cdrBuffers.take();
      frameCdr.set(outputs, buffers);
      encoder.encode(outputs).forEach((out, slot) => {
        bytes += buffers.encode(slot, out.typeName, out.message).byteLength;
      });
      return performance.now() - t0;
    },
    writeStatus: async (outputs, cameraStats, totalMs) => {
      const status = encoder.status(outputs, cameraStats, totalMs);
      bytes += encodeMessage(status.typeName, status.message).byteLength;
      const buffers = frameCdr.get(outputs);
      if (buffers) cdrBuffers.give(buffers);
      timings.push(outputs.timings);
      latencies.push(totalMs);
      doneAt.push(performance.now());
      if (sampleRss) rssMiB.push(process.memoryUsage.rss() / 2 ** 20);
    },
  };

  // Offline producer, as replay's: the next image is offered only once the scheduler is ready.
  const source = new Observable<CameraInput>((subscriber) => {
    let cancelled = false;
    const produce = async () => {
      for (let i = 0; i < frames; i++) {
        await state.whenReady();
        if (cancelled) return;
        const calibrationInput: CameraInput = { kind: "info", cameraTopic: TOPIC, stamp: stampOf(i), calibration };
        subscriber.next(calibrationInput);
        subscriber.next({ kind: "image", pending: pendingImage(i) });
      }
      subscriber.complete();
    };
    produce().catch((error: unknown) => subscriber.error(error));
    return () => {
      cancelled = true;
    };
  });

  // Results are counted, not kept: holding every frame's outputs would measure memory growth.
  let ok = 0;
  const failures: string[] = [];
  const t0 = performance.now();
  await lastValueFrom(
    source.pipe(
      cameraPipeline({
        processor,
        sink,
        syncSlopSec: () => params.syncSlopSec,
        maxInFlight,
        select: () => SELECT,
        stats,
        schedulerState: state,
      }),
      tap((result) => {
        if (result.ok) ok++;
        else failures.push(result.error.message);
      }),
    ),
    { defaultValue: undefined },
  );
  const wallMs = performance.now() - t0;
  await gcEntriesDelivered();
  const gc = gcBetween(t0, t0 + wallMs);
  // The first frames of a run allocate its buffers; steady state starts once frame
  // gcSteadyFrom - 1 is done (half the run at most, for the few-frame ViT-S runs).
  const gcSteadyFrom = Math.min(STEADY_AFTER_FRAMES, Math.floor(frames / 2));
  const steady = gcSteadyFrom > 0 ? gcBetween(doneAt[gcSteadyFrom - 1]!, t0 + wallMs) : gc;
  const gcInInferenceMs = inferenceWindows.reduce((sum, [from, to]) => sum + gcBetween(from, to).ms, 0);

  if (failures.length > 0 || ok !== frames) {
    throw new Error(`pipeline produced ${ok}/${frames} frames (${failures.slice(0, 3).join("; ")})`);
  }
  if (bytes === 0) throw new Error("the sink encoded nothing");
  const intervals = doneAt.slice(1).map((t, i) => t - doneAt[i]!);
  const run: PipelineRun = {
    latency: summarize(latencies),
    sessionRun: summarize(sessionRuns),
    interval: summarize(intervals),
    fps: (frames * 1000) / wallMs,
    wallMs,
    gcMsPerFrame: gc.ms / frames,
    gcInInferenceMsPerFrame: gcInInferenceMs / frames,
    bytesPerFrame: bytes / frames,
    gcCount: gc.count,
    gcSteadyMsPerFrame: steady.ms / (frames - gcSteadyFrom),
    gcSteadyCount: steady.count,
    gcSteadyFrom,
    runsBy,
    rssMiB,
    stage: (name) => summarize(timings.map((t) => t[name] ?? NaN).filter((v) => Number.isFinite(v))),
    report: () => ({
      maxInFlight,
      frames,
      perFrame: run.latency,
      sessionRun: run.sessionRun,
      interval: run.interval,
      framesPerSecond: run.fps,
      wallMs,
      gcMsPerFrame: run.gcMsPerFrame,
      gcPauses: run.gcCount,
      gcSteadyMsPerFrame: run.gcSteadyMsPerFrame,
      gcSteadyPauses: run.gcSteadyCount,
      gcSteadyFromFrame: run.gcSteadyFrom,
      gcInInferenceMsPerFrame: run.gcInInferenceMsPerFrame,
      cdrBytesPerFrame: run.bytesPerFrame,
    }),
  };
  return run;
}

/** CPU time (ms) all cores spent busy since boot. */
function machineBusyMs(): number {
  return cpus().reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}

/** This process's CPU time (all threads) over its wall time since the start, in cores. */
function selfCpuShare(): number {
  const self = process.cpuUsage(selfBefore);
  return (self.user + self.system) / 1000 / (performance.now() - started);
}

/** (machine busy − this process, worker thread included) / (wall × cores), since the start. */
function otherProcessesCpuShare(): number {
  const wallMs = performance.now() - started;
  const self = process.cpuUsage(selfBefore);
  const selfMs = (self.user + self.system) / 1000;
  const other = machineBusyMs() - machineBefore - selfMs;
  return Math.max(0, other / (wallMs * cpus().length));
}

function positiveInt(name: string, value: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${name} must be an integer >= ${allowZero ? 0 : 1}, got "${value}"`);
  return n;
}
