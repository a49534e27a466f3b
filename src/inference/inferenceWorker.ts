// Main-thread client of the inference worker: starts it, loads and checks the bundle's model,
// and turns run requests/replies into promises.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { FatalError, FrameError } from "../errors.js";
import { bundleOutputNames, bundleTensorShapes, checkBundleShapes, validateBundleAgainstGraph, type ModelBundle } from "./bundle.js";
import { checkShape, formatShape } from "./tensorShapes.js";
import { describeFallbacks, type ProviderFailure } from "./providers.js";
import {
  transferable,
  type LoadedResponse,
  type OutputTensor,
  type RunRequest,
  type SlotResultResponse,
  type WorkerRequest,
  type WorkerResponse,
} from "./protocol.js";
import { workerEntry, type WorkerEntry } from "./workerEntry.js";
import { workerReply } from "../workerReply.js";
import { FUSED_DEPTH_OUTPUT, FUSED_LABELS_OUTPUT, fusedIoUnsupported } from "./fusedIo.js";
import { DEFAULT_SHARED_SLOTS, SharedSlots, type SharedSlot } from "./sharedSlots.js";
import type { RgbImage } from "../frame.js";

export interface InferenceWorkerOptions {
  bundle: ModelBundle;
  /** In order of preference, e.g. ["tensorrt", "cuda", "cpu"]. */
  providers: readonly string[];
  /** 0 or absent lets ORT decide. */
  intraOpThreads?: number;
  interOpThreads?: number;
  /**
   * fused_io: the graph is wrapped with the bundle's pre- and post-processing (fusedIo.ts) and
   * runs go through runFused. A bundle wrapFusedIo cannot wrap is refused, naming why.
   */
  fusedIo?: boolean;
  /** Shared slots to make at most (sharedSlots.ts); 0: every run transfers its buffers. Default DEFAULT_SHARED_SLOTS. */
  sharedSlots?: number;
  /**
   * The worker's code; defaults to worker.ts / worker.js beside this module. Tests pass a
   * stand-in that speaks protocol.ts to check what happens when the thread dies.
   */
  entry?: WorkerEntry;
}

export interface InferenceResult {
  outputs: Record<string, OutputTensor>;
  inferenceMs: number;
  /**
   * The input tensor, handed back by the worker after the run (its buffer transferred back), for
   * the caller to reuse; the array passed to `run` stays detached. Absent when the worker could
   * not give it back, and for runInSlot (the input stays in the slot).
   */
  input?: Float32Array;
}

/** A fused_io run: camera-resolution results, and the model's own depth output. */
export interface FusedResult {
  /** Metres, NaN invalid (max_depth and the range applied), camera width x height. */
  depth: Float32Array;
  /** labels.yaml ids at camera resolution; absent without a segmentation output. */
  labels?: Uint16Array;
  /** outputs.depth as the model gave it, at its own resolution. */
  modelDepth: OutputTensor;
  inferenceMs: number;
}

interface Pending {
  resolve: (result: InferenceResult & { labels?: Uint16Array }) => void;
  reject: (error: Error) => void;
  /** A slot run's slot, whose memory holds the outputs. */
  slot?: SharedSlot;
}

export class InferenceWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the worker is gone; later runs reject with it. */
  private dead: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    /** Resolves once the thread has exited, for whatever reason. */
    private readonly exited: Promise<void>,
    readonly provider: string,
    readonly fallbacks: readonly ProviderFailure[],
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    /** Runs go through runFused (InferenceWorkerOptions.fusedIo). */
    readonly fused: boolean,
    /**
     * Shared memory for runs: acquire a slot, write the input into it, run in it (runInSlot,
     * runFused), read the outputs, release it. When none is free, run() and runFused() without a
     * slot transfer buffers instead.
     */
    readonly slots: SharedSlots,
  ) {
    worker.on("message", (msg: WorkerResponse) => this.onMessage(msg));
    worker.on("error", (err: Error) => this.die(new FatalError(`inference worker crashed: ${err.message}`)));
    worker.on("exit", (code: number) => this.die(new FatalError(`inference worker exited unexpectedly (code ${code})`)));
  }

  /** Starts a worker, loads the bundle's model and checks its names against model.yaml. */
  static async start(options: InferenceWorkerOptions): Promise<InferenceWorker> {
    const { bundle } = options;
    const fused = options.fusedIo === true;
    const unsupported = fused ? fusedIoUnsupported(bundle) : undefined;
    if (unsupported !== undefined) throw new FatalError(`fused_io cannot be used with ${bundle.yamlPath}: ${unsupported}`);
    const entry = options.entry ?? workerEntry(import.meta.url);
    const worker = new Worker(entry.script, { eval: entry.eval });
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    let loaded: LoadedResponse;
    try {
      loaded = await load(worker, {
        type: "load",
        modelPath: bundle.onnxPath,
        inputName: bundle.input.name,
        outputNames: bundleOutputNames(bundle),
        providers: [...options.providers],
        threads: { intraOpThreads: options.intraOpThreads, interOpThreads: options.interOpThreads },
        ...(fused ? { fusedIo: { input: bundle.input, outputs: bundle.outputs, heads: bundle.heads } } : {}),
      });
      validateBundleAgainstGraph(bundle, loaded.inputNames, loaded.outputNames);
    } catch (err) {
      await closeWorker(worker, exited);
      throw err;
    }
    const slots = new SharedSlots(options.sharedSlots ?? DEFAULT_SHARED_SLOTS);
    const started = new InferenceWorker(worker, exited, loaded.provider, loaded.fallbacks, loaded.inputNames, loaded.outputNames, fused, slots);
    try {
      // A bundle that does not fit would load and then fail every frame: refuse it now.
      const { undecided } = checkBundleShapes(bundle, loaded.inputShapes, loaded.outputShapes);
      if (undecided.length > 0) await (fused ? started.dryRunFused(bundle, undecided) : started.dryRun(bundle, undecided));
    } catch (err) {
      await started.close();
      throw err;
    }
    return started;
  }

  /**
   * One run on a zero image of model.yaml's input.size, for shapes the graph leaves symbolic:
   * checks what the outputs really are, with the rules checkBundleShapes applies to declared ones.
   */
  private async dryRun(bundle: ModelBundle, undecided: readonly string[]): Promise<void> {
    const dims = [1, 3, bundle.input.height, bundle.input.width];
    const what = `${bundle.onnxPath} does not fit ${bundle.yamlPath}`;
    let result: InferenceResult;
    try {
      result = await this.run(new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    } catch (err) {
      if (err instanceof FatalError) throw err;
      const message = err instanceof FrameError ? err.detail : (err as Error).message;
      throw new FatalError(`${what}: a dry run on input ${formatShape(dims)} (its shapes [${undecided.join(", ")}] are symbolic) failed: ${message}`);
    }
    const problems: string[] = [];
    for (const { field, name, shapes, note } of bundleTensorShapes(bundle)) {
      const output = result.outputs[name];
      const check = output ? checkShape(output.dims, shapes) : { fits: false as const, problem: "is missing from the result" };
      if (check.fits === false) problems.push(`${field} "${name}" ${check.problem}${note}`);
    }
    if (problems.length > 0) {
      throw new FatalError(`${what}: on a dry run with input ${formatShape(dims)}, ${problems.join("; ")}`);
    }
  }

  /**
   * fused_io: one run on a black camera image of model.yaml's input.size, for shapes the graph
   * leaves symbolic; the wrapped graph's own shape checks (Resize sizes, Gather of the class ids)
   * and the result's size stand for dryRun's output checks.
   */
  private async dryRunFused(bundle: ModelBundle, undecided: readonly string[]): Promise<void> {
    const { width, height } = bundle.input;
    const what = `${bundle.onnxPath} does not fit ${bundle.yamlPath}`;
    let result: FusedResult;
    try {
      result = await this.runFused({ width, height, data: new Uint8Array(width * height * 3) }, [0, Infinity]);
    } catch (err) {
      if (err instanceof FatalError) throw err;
      const message = err instanceof FrameError ? err.detail : (err as Error).message;
      throw new FatalError(`${what}: a fused_io dry run on a ${width}x${height} image (shapes [${undecided.join(", ")}] are symbolic) failed: ${message}`);
    }
    if (result.depth.length !== width * height || (bundle.outputs.segmentation && result.labels?.length !== width * height)) {
      throw new FatalError(`${what}: a fused_io dry run on a ${width}x${height} image gave depth of ${result.depth.length} and labels of ${result.labels?.length ?? 0} values`);
    }
  }

  /**
   * fused_io: runs the wrapped graph on the camera's rgb8 image (copied to the worker, or into
   * `slot`; `image` stays usable) with the depth range [min, max]. With a slot, the result's
   * arrays are views of its memory, valid until the slot is released. A failed run rejects with a
   * FrameError.
   */
  async runFused(image: RgbImage, range: readonly [number, number], slot?: SharedSlot): Promise<FusedResult> {
    if (!this.fused) throw new FatalError("runFused: this worker was started without fusedIo");
    if (this.dead) throw this.dead;
    const id = this.nextId++;
    const dims = [image.height, image.width, 3];
    let request: RunRequest;
    if (slot) {
      slot.byteInput(image.data.length).set(image.data);
      request = { type: "run", id, dims, range: [range[0], range[1]], slot: this.slotRunOf(slot) };
    } else {
      request = { type: "run", id, input: image.data, dims, range: [range[0], range[1]] };
    }
    const result = await new Promise<InferenceResult & { labels?: Uint16Array }>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(slot ? { slot } : {}) });
      this.worker.postMessage(request satisfies WorkerRequest);
    });
    const depth = result.outputs[FUSED_DEPTH_OUTPUT];
    const modelDepth = Object.entries(result.outputs).find(([name]) => name !== FUSED_DEPTH_OUTPUT)?.[1];
    if (!depth || !modelDepth) throw new FrameError("inference_failed", "the fused graph returned no depth");
    return { depth: depth.data, modelDepth, inferenceMs: result.inferenceMs, ...(result.labels ? { labels: result.labels } : {}) };
  }

  /**
   * Runs the model on a float32 NCHW tensor. `input`'s buffer is transferred to the worker
   * (detached here) when `input` spans all of it; views into larger buffers are copied.
   * A failed run rejects with a FrameError; the worker stays usable.
   */
  run(input: Float32Array, dims: readonly number[]): Promise<InferenceResult> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const { data, buffer } = transferable(input);
    const request: RunRequest = { type: "run", id, input: data, dims: [...dims] };
    return new Promise<InferenceResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(request satisfies WorkerRequest, [buffer]);
    });
  }

  /**
   * Runs the model on the float32 NCHW tensor of `dims` already written into
   * `slot.floatInput(...)`. The result's outputs are views of the slot's memory: they stay as
   * they are until the caller releases the slot (`slots.release`), and may be overwritten by a
   * later run after that. A failed run rejects with a FrameError; the slot is still the caller's.
   */
  runInSlot(slot: SharedSlot, dims: readonly number[]): Promise<InferenceResult> {
    if (this.fused) return Promise.reject(new FatalError("runInSlot: this worker runs fused_io graphs (runFused)"));
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const request: RunRequest = { type: "run", id, dims: [...dims], slot: this.slotRunOf(slot) };
    return new Promise<InferenceResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      this.worker.postMessage(request satisfies WorkerRequest);
    });
  }

  /** The slot part of a run request: the input memory goes along only when it is new. */
  private slotRunOf(slot: SharedSlot): NonNullable<RunRequest["slot"]> {
    const input = slot.takeUnsentInput();
    return { index: slot.index, ...(input ? { input } : {}) };
  }

  /** A slot run's reply as an InferenceResult over the slot's memory (fused_io labels apart). */
  private slotResult(msg: SlotResultResponse, slot: SharedSlot): InferenceResult & { labels?: Uint16Array } {
    const outputs: Record<string, OutputTensor> = {};
    let labels: Uint16Array | undefined;
    for (const [name, view] of Object.entries(slot.outputViews(msg.outputs, msg.grown))) {
      if (view.type === "float32") outputs[name] = { data: view.data, dims: view.dims };
      else if (name === FUSED_LABELS_OUTPUT) labels = view.data;
    }
    return { outputs, inferenceMs: msg.inferenceMs, ...(labels ? { labels } : {}) };
  }

  /**
   * Rejects runs still waiting for a reply, then lets the worker finish what it has started and
   * exit (never Worker.terminate(): see CloseRequest). Resolves once the thread is gone, which
   * takes as long as the run in progress, if any.
   */
  async close(): Promise<void> {
    if (!this.dead) {
      this.dead = new FatalError("inference worker is closed");
      this.rejectAll(this.dead);
    }
    await closeWorker(this.worker, this.exited);
  }

  private onMessage(msg: WorkerResponse): void {
    if (msg.type === "loaded" || msg.id === undefined) return;
    const pending = this.pending.get(msg.id);
    if (!pending) return;
    this.pending.delete(msg.id);
    if (msg.type === "slotResult") {
      try {
        if (!pending.slot) throw new Error(`a slot reply to run ${msg.id}, which has no slot`);
        pending.resolve(this.slotResult(msg, pending.slot));
      } catch (err) {
        pending.reject(new FrameError("inference_failed", (err as Error).message));
      }
    } else if (msg.type === "result") {
      pending.resolve({
        outputs: msg.outputs,
        inferenceMs: msg.inferenceMs,
        ...(msg.input ? { input: msg.input } : {}),
        ...(msg.labels ? { labels: msg.labels } : {}),
      });
    }
    else pending.reject(new FrameError("inference_failed", msg.message));
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    this.rejectAll(error);
  }

  private rejectAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

/** Asks the worker to close (a no-op once it has exited) and waits until its thread is gone. */
async function closeWorker(worker: Worker, exited: Promise<void>): Promise<void> {
  worker.postMessage({ type: "close" } satisfies WorkerRequest);
  await exited;
}

/** Sends `load` and waits for `loaded`, a load error, or the worker dying first. */
function load(worker: Worker, request: WorkerRequest): Promise<LoadedResponse> {
  const loaded = workerReply<WorkerResponse, LoadedResponse>(worker, {
    settle: (msg) =>
      msg.type === "loaded"
        ? { value: msg }
        : msg.type === "error" && msg.id === undefined
          ? { error: new FatalError(`cannot load model: ${msg.message}`) }
          : undefined,
    failed: (err) => new FatalError(`inference worker crashed while loading the model: ${err.message}`),
    exited: (code) => new FatalError(`inference worker exited while loading the model (code ${code})`),
  });
  worker.postMessage(request);
  return loaded;
}

/** The run settings a worker needs; DepthsegParams has them under these names. */
export interface WorkerSettings {
  readonly executionProviders: readonly string[];
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  /** Absent: false. */
  readonly fusedIo?: boolean;
}

/** Provider lines already logged: a process that starts several workers (demo: replay, then eval) says it once. */
const loggedProviderLines = new Set<string>();

/**
 * Starts a worker for a run and logs, once per process and in one line, any provider it had to
 * skip (to `info`: informational, muted by --quiet); thread-count warnings go to `log`.
 */
export async function startInferenceWorker(
  bundle: ModelBundle,
  settings: WorkerSettings,
  log: (line: string) => void,
  info: (line: string) => void = log,
): Promise<InferenceWorker> {
  const worker = await InferenceWorker.start({
    bundle,
    providers: settings.executionProviders,
    intraOpThreads: settings.intraOpThreads,
    interOpThreads: settings.interOpThreads,
    fusedIo: settings.fusedIo ?? false,
  });
  const providerLine = `execution providers: ${describeFallbacks(worker)}`;
  if (worker.fallbacks.length > 0 && !loggedProviderLines.has(providerLine)) {
    loggedProviderLines.add(providerLine);
    info(providerLine);
  }
  for (const warning of threadCountWarnings(settings, availableParallelism())) log(warning);
  return worker;
}

/**
 * A thread count above the cores makes ONNX Runtime's spinning threads fight over them (256
 * intra-op threads on 2 cores ran 90× slower): say so, once, at start.
 */
export function threadCountWarnings(settings: Pick<WorkerSettings, "intraOpThreads" | "interOpThreads">, cores: number): string[] {
  const counts = [["intra_op_threads", settings.intraOpThreads], ["inter_op_threads", settings.interOpThreads]] as const;
  return counts
    .filter(([, threads]) => threads > cores)
    .map(
      ([name, threads]) =>
        `warning: ${name} is ${threads} but this machine has ${cores} CPU cores: ONNX Runtime's threads will compete ` +
        `for them and inference slows down; use at most ${cores}, or 0 to let ONNX Runtime choose`,
    );
}
