// `npm run bench`: per-stage times of one 640x480 camera frame through the bundled tiny model, and
// the pipeline's overhead as ratios to bare `session.run` measured in the same process.
//
//   npm run bench [-- --json out.json] [--frames 120] [--runs 100] [--warmup 10] [--providers cpu]
//                    [--intra-op-threads 0]
//
// Machines are noisy, so the project reports speed as ratios measured in one run, never as
// absolute thresholds in tests. See bench/README.md for what each number means.

import { writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Tensor, env as ortEnv, type InferenceSession } from "onnxruntime-node";
import { Observable, lastValueFrom, tap } from "rxjs";
import type { CameraCalibration, Stamp, StageTimings } from "../src/frame.js";
import { resolveParameters } from "../src/config/parameters.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { encodeJpeg } from "../src/imaging/decode.js";
import { bundleOutputNames, loadModelBundle } from "../src/inference/bundle.js";
import { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { modelInputSize, toInputTensor } from "../src/inference/preprocess.js";
import { createSessionWithFallback } from "../src/inference/providers.js";
import { encodeMessage } from "../src/messages/cdr.js";
import { decodeFrame, type PendingImage } from "../src/messages/ingest.js";
import { OutputEncoder } from "../src/messages/outputMessages.js";
import { header } from "../src/messages/outputs.js";
import type { CompressedImage } from "../src/messages/types.js";
import { CameraStatsRegistry, cameraPipeline, type CameraInput, type FrameSink } from "../src/pipeline/cameraPipeline.js";
import { FrameProcessor, type FrameOutputs, type OutputSelection } from "../src/pipeline/frameProcessor.js";
import { LatestWinsState } from "../src/pipeline/latestWins.js";
import { TINY_MODEL_DIR } from "../src/paths.js";
import { drawScene } from "../tools/make-sample-bag.js";

const WIDTH = 640;
const HEIGHT = 480;
const TOPIC = "/camera/color/image_raw/compressed";
const FRAME_ID = "camera_color_optical_frame";
/** Distinct JPEGs cycled through the pipeline run (the scene's boxes move between them). */
const DISTINCT_FRAMES = 8;
/** Everything on, as `depthseg replay` writes it. */
const SELECT: OutputSelection = { depthColorized: true, labelsColorized: true };

const { values: args } = parseArgs({
  options: {
    json: { type: "string" },
    frames: { type: "string", default: "120" },
    runs: { type: "string", default: "100" },
    warmup: { type: "string", default: "10" },
    providers: { type: "string", default: "cpu" },
    "intra-op-threads": { type: "string", default: "0" },
  },
});
const FRAMES = positiveInt("frames", args.frames);
const RUNS = positiveInt("runs", args.runs);
const WARMUP = positiveInt("warmup", args.warmup, true);
const PROVIDERS = args.providers.split(",").map((p) => p.trim()).filter(Boolean);
const INTRA_OP_THREADS = positiveInt("intra-op-threads", args["intra-op-threads"], true);

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

// ---------------------------------------------------------------------------------------------
// Inputs

const started = performance.now();
const machineBefore = machineBusyMs();
const selfBefore = process.cpuUsage();
const bundle = await loadModelBundle(TINY_MODEL_DIR);
const params = resolveParameters({ execution_providers: PROVIDERS, intra_op_threads: INTRA_OP_THREADS });
const calibration: CameraCalibration = pinholeCalibration(WIDTH, HEIGHT, 525, 525, 319.5, 239.5);
const jpegs = Array.from({ length: DISTINCT_FRAMES }, (_, i) => encodeJpeg(drawScene(i * 2), 85));
const inputSize = modelInputSize(WIDTH, HEIGHT, bundle.input);
const outputNames = bundleOutputNames(bundle);

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

// The frame every isolated stage works on, and the model input built from it.
const frame = decodeFrame(pendingImage(0), calibration).frame;
const baseTensor = toInputTensor(frame.image, bundle.input);
if (baseTensor.dims[2] !== inputSize.height || baseTensor.dims[3] !== inputSize.width) {
  throw new Error(`toInputTensor gave ${baseTensor.dims.join("x")}, modelInputSize ${inputSize.width}x${inputSize.height}`);
}

// ---------------------------------------------------------------------------------------------
// Bare session.run: main thread, the same session options as the worker (the project's own
// createSessionWithFallback, default threads), one pre-built tensor, only the bundle's outputs.

const bare = await createSessionWithFallback(bundle.onnxPath, PROVIDERS, {
  intraOpThreads: params.intraOpThreads,
  interOpThreads: params.interOpThreads,
});
const session: InferenceSession = bare.session;
const feed = { [bundle.input.name]: new Tensor("float32", baseTensor.data.slice(), baseTensor.dims) };
const bareRun = () => session.run(feed, outputNames);

// session.run is the denominator of every ratio and the cheapest thing here: sample it 3x as much.
const bareBefore = await measure(3 * RUNS, 3 * WARMUP, bareRun);

// ---------------------------------------------------------------------------------------------
// Each stage in isolation, on the same frame.

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
  const decode = await measure(RUNS, WARMUP, () => decodeFrame(pendingImage(0), calibration));
  const preprocess = await measure(RUNS, WARMUP, () => toInputTensor(frame.image, bundle.input));

  // The worker takes ownership of (detaches) the input buffer, so each run gets a fresh copy,
  // made outside the timing. `inferenceMs` is session.run's own time inside the worker.
  const workerInner: number[] = [];
  const workerInference = await measure(
    RUNS,
    WARMUP,
    async (input: Float32Array) => {
      const result = await worker.run(input, baseTensor.dims);
      workerInner.push(result.inferenceMs);
    },
    () => baseTensor.data.slice(),
  );
  workerInner.splice(0, WARMUP);

  // FrameProcessor.process times its own stages; postprocess = depth interpretation, resize to
  // 640x480, range filter, argmax, label resize, both colourisations; backproject = back-projection,
  // grid sampling and PointCloud2 packing. Each call releases the previous call's outputs first, as
  // the pipeline does once a frame's sink is done, so calls reuse the processor's buffers.
  const processor = new FrameProcessor(bundle, worker, () => params);
  const processorTimings: StageTimings[] = [];
  let lastOutputs: FrameOutputs | undefined;
  const processStart = performance.now();
  const processTotal = await measure(RUNS, WARMUP, async () => {
    const timings: StageTimings = {};
    if (lastOutputs) processor.release(lastOutputs);
    lastOutputs = await processor.process(frame, SELECT, timings);
    processorTimings.push(timings);
  });
  processorTimings.splice(0, WARMUP);
  await gcEntriesDelivered();
  const processGc = gcBetween(processStart, performance.now());
  const outputs = lastOutputs!;

  // Encode: every output message to CDR, as the replay sink does (status apart: the pipeline
  // writes it after the frame's latency is known).
  const encoder = new OutputEncoder({ namespace: params.outputNamespace, bundle, provider: worker.provider });
  const encode = await measure(RUNS, WARMUP, () => {
    for (const out of encoder.encode(outputs)) encodeMessage(out.typeName, out.message);
  });
  const statsForStatus = new CameraStatsRegistry();
  const statusEncode = await measure(RUNS, WARMUP, () => {
    const status = encoder.status(outputs, statsForStatus.camera(TOPIC), 0);
    encodeMessage(status.typeName, status.message);
  });

  // -------------------------------------------------------------------------------------------
  // The whole pipeline: the real cameraPipeline operator, offline mode (the producer awaits
  // whenReady, so nothing drops), a sink that encodes every message to CDR and discards it.

  const pipelineRun = await runPipeline(worker, FRAMES);

  const bareAfter = await measure(3 * RUNS, 3 * WARMUP, bareRun);

  // -------------------------------------------------------------------------------------------
  // Report

  const pick = (stage: keyof StageTimings) => processorTimings.map((t) => t[stage] ?? NaN);
  const bareAll = summarize([...bareBefore, ...bareAfter]);
  const stages: StageRow[] = [
    { stage: "decode", note: "JPEG 640x480 -> rgb8 + validate", isolated: summarize(decode), inPipeline: pipelineRun.stage("decode") },
    { stage: "preprocess", note: `resize to ${inputSize.width}x${inputSize.height} + normalise`, isolated: summarize(preprocess), inPipeline: pipelineRun.stage("preprocess") },
    { stage: "inference", note: "InferenceWorker.run round trip", isolated: summarize(workerInference), inPipeline: pipelineRun.stage("inference") },
    { stage: "postprocess", note: "depth + resize + argmax + colourise", isolated: summarize(pick("postprocess")), inPipeline: pipelineRun.stage("postprocess") },
    { stage: "backproject", note: "back-projection + PointCloud2 packing", isolated: summarize(pick("backproject")), inPipeline: pipelineRun.stage("backproject") },
    { stage: "encode", note: "OutputEncoder.encode + CDR, all outputs", isolated: summarize(encode), inPipeline: pipelineRun.stage("encode") },
    { stage: "status", note: "PerceptionStatus + CDR", isolated: summarize(statusEncode), inPipeline: undefined },
  ];
  const stageSum = stages.reduce((sum, row) => sum + row.isolated.median, 0);
  const pipelineStageSum = stages.reduce((sum, row) => sum + (row.inPipeline?.median ?? 0), 0);
  const stageSumMeans = stages.reduce((sum, row) => sum + row.isolated.mean, 0);
  const pipelineStageSumMeans = stages.reduce((sum, row) => sum + (row.inPipeline?.mean ?? 0), 0);
  const workerSummary = summarize(workerInference);
  const workerInnerSummary = summarize(workerInner);
  const perFrame = pipelineRun.latency;
  const ratios = {
    workerInferenceOverBare: workerSummary.median / bareAll.median,
    workerSessionRunOverBare: workerInnerSummary.median / bareAll.median,
    pipelinePerFrameOverBare: perFrame.median / bareAll.median,
    pipelinePerFrameOverStageSum: perFrame.median / stageSum,
    pipelinePerFrameOverStageSumMeans: perFrame.mean / stageSumMeans,
    bareDrift: summarize(bareAfter).median / summarize(bareBefore).median,
  };

  const environment = {
    node: process.version,
    onnxruntimeNode: ortEnv.versions.node ?? "unknown",
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    provider: worker.provider,
    model: bundle.name,
    image: `${WIDTH}x${HEIGHT} JPEG (${Math.round(jpegs[0]!.length / 1024)} KiB)`,
    modelInput: `${inputSize.width}x${inputSize.height}`,
    outputs: outputNames.join(", "),
    /** Share of the machine's CPU time used by other processes while the bench ran (noise). */
    otherProcessesCpu: otherProcessesCpuShare(),
  };

  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2).padStart(8) : "       -");
  const lines: string[] = [];
  lines.push(`depthseg bench: ${environment.model} on ${environment.provider}, ${environment.image} -> model input ${environment.modelInput}`);
  lines.push(`node ${environment.node}, onnxruntime-node ${environment.onnxruntimeNode}, ${environment.cpu}, ${environment.cores} cores`);
  lines.push(`other processes used ${(100 * environment.otherProcessesCpu).toFixed(0)}% of the machine's CPU time during the run (0% = quiet machine)`);
  lines.push(
    `isolated: ${RUNS} timed runs after ${WARMUP} warm-up each (bare session.run: 3x, at start and end); pipeline: ${FRAMES} frames; ` +
      `intra-op threads ${INTRA_OP_THREADS || "ORT default"}; process CPU ${(100 * selfCpuShare()).toFixed(0)}% of one core`,
  );
  lines.push("");
  lines.push("ms; left: each stage in isolation; right (pipe): the same stage's own timings inside the pipeline run");
  lines.push(
    `${"stage".padEnd(24)}${"median".padStart(8)}${"p95".padStart(8)}${"mean".padStart(8)}  ` +
      `${"pipe p50".padStart(9)}${"pipe p95".padStart(9)}${"pipe mean".padStart(10)}   what`,
  );
  const row = (name: string, s: Summary, p: Summary | undefined, note: string) =>
    lines.push(
      `${name.padEnd(24)}${ms(s.median)}${ms(s.p95)}${ms(s.mean)}  ` +
        `${ms(p?.median ?? NaN).padStart(9)}${ms(p?.p95 ?? NaN).padStart(9)}${ms(p?.mean ?? NaN).padStart(10)}   ${note}`,
    );
  row("bare session.run", bareAll, undefined, `main thread, pre-built tensor (start ${summarize(bareBefore).median.toFixed(2)}, end ${summarize(bareAfter).median.toFixed(2)})`);
  for (const s of stages) row(s.stage, s.isolated, s.inPipeline, s.note);
  row("  session.run in worker", workerInnerSummary, undefined, "inferenceMs reported by the worker");
  row("FrameProcessor.process", summarize(processTotal), undefined,
    `preprocess..backproject in one call; GC ${(processGc.ms / (RUNS + WARMUP)).toFixed(2)} ms/call`);
  lines.push(
    `${"sum of stages".padEnd(24)}${ms(stageSum)}${"".padStart(8)}${ms(stageSumMeans)}  ` +
      `${ms(pipelineStageSum).padStart(9)}${"".padStart(9)}${ms(pipelineStageSumMeans).padStart(10)}   decode..status`,
  );
  row("pipeline per frame", perFrame, undefined, "image handed to the pipeline -> status encoded");
  row("pipeline interval", pipelineRun.interval, undefined, "between consecutive results");
  lines.push(`${"pipeline throughput".padEnd(24)}${pipelineRun.fps.toFixed(1).padStart(8)} frames/s over ${FRAMES} frames (${pipelineRun.wallMs.toFixed(0)} ms)`);
  lines.push(`${"pipeline main-thread GC".padEnd(24)}${ms(pipelineRun.gcMsPerFrame)} ms/frame (${pipelineRun.gcCount} pauses), ${pipelineRun.gcInInferenceMsPerFrame.toFixed(2)} of it inside inference round trips; CDR written ${(pipelineRun.bytesPerFrame / 2 ** 20).toFixed(1)} MiB/frame`);
  lines.push("");
  lines.push("ratios (medians, this run):");
  lines.push(`  worker inference / bare session.run        ${ratios.workerInferenceOverBare.toFixed(2)}`);
  lines.push(`  session.run in worker / bare session.run   ${ratios.workerSessionRunOverBare.toFixed(2)}`);
  lines.push(`  pipeline per-frame / bare session.run      ${ratios.pipelinePerFrameOverBare.toFixed(2)}   (pipeline overhead ratio)`);
  lines.push(`  pipeline per-frame / sum of stages         ${ratios.pipelinePerFrameOverStageSum.toFixed(2)}   (means: ${ratios.pipelinePerFrameOverStageSumMeans.toFixed(2)})`);
  lines.push(`  bare session.run end / start               ${ratios.bareDrift.toFixed(2)}   (drift during the run; far from 1 = noisy machine)`);
  lines.push(`total bench time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(lines.join("\n"));

  if (args.json) {
    const json = {
      environment,
      settings: { runs: RUNS, warmup: WARMUP, frames: FRAMES, providers: PROVIDERS, intraOpThreads: INTRA_OP_THREADS },
      bareSessionRun: { all: bareAll, start: summarize(bareBefore), end: summarize(bareAfter) },
      stages: stages.map((s) => ({ stage: s.stage, what: s.note, isolated: s.isolated, inPipeline: s.inPipeline ?? null })),
      workerSessionRun: workerInnerSummary,
      frameProcessorProcess: summarize(processTotal),
      sumOfStageMedians: { isolated: stageSum, inPipeline: pipelineStageSum },
      sumOfStageMeans: { isolated: stageSumMeans, inPipeline: pipelineStageSumMeans },
      frameProcessorGcMsPerCall: processGc.ms / (RUNS + WARMUP),
      pipeline: {
        frames: FRAMES,
        perFrame,
        interval: pipelineRun.interval,
        framesPerSecond: pipelineRun.fps,
        wallMs: pipelineRun.wallMs,
        gcMsPerFrame: pipelineRun.gcMsPerFrame,
        gcPauses: pipelineRun.gcCount,
        gcInInferenceMsPerFrame: pipelineRun.gcInInferenceMsPerFrame,
        cdrBytesPerFrame: pipelineRun.bytesPerFrame,
      },
      ratios,
    };
    await writeFile(args.json, JSON.stringify(json, null, 2) + "\n");
    console.log(`wrote ${args.json}`);
  }
} finally {
  gcObserver.disconnect();
  await worker.close();
  await session.release();
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
  /** Time between consecutive results (the steady-state cost of a frame, producer included). */
  readonly interval: Summary;
  readonly fps: number;
  readonly wallMs: number;
  /** Main-thread GC pause time during the run, divided by the frames. */
  readonly gcMsPerFrame: number;
  readonly gcCount: number;
  /** The part of it that fell inside inference round trips (the main thread waiting for the worker). */
  readonly gcInInferenceMsPerFrame: number;
  /** CDR bytes the sink encoded per frame (all outputs and status). */
  readonly bytesPerFrame: number;
  stage(name: keyof StageTimings): Summary;
}

async function runPipeline(worker: InferenceWorker, frames: number): Promise<PipelineRun> {
  // The worker's round trips are recorded, to find the main-thread GC pauses that fall inside them.
  const inferenceWindows: [number, number][] = [];
  const timedWorker = new Proxy(worker, {
    get(target, key) {
      if (key === "run") {
        return async (input: Float32Array, dims: readonly number[]) => {
          const start = performance.now();
          try {
            return await target.run(input, dims);
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
  let bytes = 0;

  const sink: FrameSink = {
    writeOutputs: async (outputs) => {
      const t0 = performance.now();
      for (const out of encoder.encode(outputs)) bytes += encodeMessage(out.typeName, out.message).byteLength;
      return performance.now() - t0;
    },
    writeStatus: async (outputs, cameraStats, totalMs) => {
      const status = encoder.status(outputs, cameraStats, totalMs);
      bytes += encodeMessage(status.typeName, status.message).byteLength;
      timings.push(outputs.timings);
      latencies.push(totalMs);
      doneAt.push(performance.now());
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

  // Results are counted, not kept: holding every frame's outputs (~10 MB each) would make the
  // bench measure memory growth instead of the pipeline.
  let ok = 0;
  const failures: string[] = [];
  const t0 = performance.now();
  await lastValueFrom(
    source.pipe(
      cameraPipeline({
        processor,
        sink,
        syncSlopSec: () => params.syncSlopSec,
        maxInFlight: params.maxInFlight,
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
  const gcInInferenceMs = inferenceWindows.reduce((sum, [from, to]) => sum + gcBetween(from, to).ms, 0);

  if (failures.length > 0 || ok !== frames) {
    throw new Error(`pipeline produced ${ok}/${frames} frames (${failures.slice(0, 3).join("; ")})`);
  }
  if (bytes === 0) throw new Error("the sink encoded nothing");
  const intervals = doneAt.slice(1).map((t, i) => t - doneAt[i]!);
  return {
    latency: summarize(latencies),
    interval: summarize(intervals),
    fps: (frames * 1000) / wallMs,
    wallMs,
    gcMsPerFrame: gc.ms / frames,
    gcInInferenceMsPerFrame: gcInInferenceMs / frames,
    bytesPerFrame: bytes / frames,
    gcCount: gc.count,
    stage: (name) => summarize(timings.map((t) => t[name] ?? NaN).filter((v) => Number.isFinite(v))),
  };
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
