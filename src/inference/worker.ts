// Worker-thread side: owns the ONNX Runtime session so session.run never blocks the main
// thread's event loop. Started by InferenceWorker; speaks protocol.ts.

import { parentPort } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import { Tensor, type InferenceSession } from "onnxruntime-node";
import { readFile } from "node:fs/promises";
import { float16ToFloat32 } from "./float16.js";
import { createSessionWithFallback } from "./providers.js";
import { FUSED_DEPTH_OUTPUT, FUSED_IMAGE_INPUT, FUSED_LABELS_OUTPUT, FUSED_RANGE_INPUT, wrapFusedIo } from "./fusedIo.js";
import { decodeModel, encodeModel, graphInputNames, graphOutputNames, type OnnxModel } from "../onnx/graph.js";
import type { Dim } from "./tensorShapes.js";
import {
  transferable,
  type ErrorResponse,
  type LoadRequest,
  type OutputTensor,
  type RunRequest,
  type WorkerRequest,
  type WorkerResponse,
} from "./protocol.js";

interface Loaded {
  session: InferenceSession;
  inputName: string;
  outputNames: string[];
  /** fused_io: the wrapped graph's labels output is fetched too, and comes back as uint16. */
  fusedLabels?: boolean;
}

const port = parentPort;
if (!port) throw new Error("inference worker must run in a worker_thread");

let loaded: Loaded | undefined;
/** Loads and runs started and not yet settled; close waits for them. */
const busy = new Set<Promise<void>>();
let closing = false;

port.on("message", (request: WorkerRequest) => {
  if (request.type === "close") {
    void close();
    return;
  }
  if (closing) return;
  const handled = (request.type === "load" ? load(request) : run(request)).catch((err: unknown) => {
    const reply: ErrorResponse = { type: "error", message: errorMessage(err) };
    if (request.type === "run") reply.id = request.id;
    post(reply);
  });
  busy.add(handled);
  void handled.finally(() => busy.delete(handled));
});

/**
 * Ends the thread without Worker.terminate(), which aborts the process when it lands inside
 * session.run (see CloseRequest): let started work finish, release the session, then close the
 * port so the event loop empties and the thread exits by itself.
 */
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  await Promise.allSettled([...busy]);
  try {
    await loaded?.session.release();
  } finally {
    loaded = undefined;
    port!.close();
  }
}

async function load(request: LoadRequest): Promise<void> {
  if (request.fusedIo) {
    await loadFused(request, request.fusedIo);
    return;
  }
  const { session, provider, fallbacks } = await createSessionWithFallback(
    request.modelPath,
    request.providers,
    request.threads,
  );
  loaded = { session, inputName: request.inputName, outputNames: request.outputNames };
  post({
    type: "loaded",
    provider,
    fallbacks,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    inputShapes: shapesOf(session.inputMetadata),
    outputShapes: shapesOf(session.outputMetadata),
  });
}

/** fused_io: names and declared shapes of the model's own graph, then a session of the wrapped one. */
async function loadFused(request: LoadRequest, bundle: NonNullable<LoadRequest["fusedIo"]>): Promise<void> {
  const model = decodeModel(await readFile(request.modelPath));
  const own = {
    inputNames: graphInputNames(model),
    outputNames: graphOutputNames(model),
    inputShapes: protoShapes(model, "input"),
    outputShapes: protoShapes(model, "output"),
  };
  wrapFusedIo(model, bundle);
  const { session, provider, fallbacks } = await createSessionWithFallback(encodeModel(model), request.providers, request.threads);
  const fusedLabels = bundle.outputs.segmentation !== undefined;
  loaded = { session, inputName: FUSED_IMAGE_INPUT, outputNames: [FUSED_DEPTH_OUTPUT, bundle.outputs.depth.name], fusedLabels };
  post({ type: "loaded", provider, fallbacks, ...own });
}

/** Declared shapes of a ModelProto's inputs or outputs, as shapesOf gives them from a session. */
function protoShapes(model: OnnxModel, which: "input" | "output"): Record<string, Dim[]> {
  return Object.fromEntries(
    (model.graph?.[which] ?? []).map((v) => [
      v.name ?? "",
      (v.type?.tensorType?.shape?.dim ?? []).map((d): Dim => (d.dimParam ? d.dimParam : d.dimValue != null ? Number(d.dimValue) : "?")),
    ]),
  );
}

function shapesOf(metadata: readonly InferenceSession.ValueMetadata[]): Record<string, Dim[]> {
  return Object.fromEntries(metadata.map((m) => [m.name, m.isTensor ? [...m.shape] : []]));
}

async function run(request: RunRequest): Promise<void> {
  if (!loaded) throw new Error("no model loaded");
  const { session, inputName, fusedLabels } = loaded;
  const fused = fusedLabels !== undefined;
  const outputNames = fusedLabels ? [...loaded.outputNames, FUSED_LABELS_OUTPUT] : loaded.outputNames;
  const feeds: Record<string, Tensor> = {};
  if (fused) {
    if (!(request.input instanceof Uint8Array) || !request.range) throw new Error("a fused_io run needs the camera's uint8 image and the depth range");
    feeds[inputName] = new Tensor("uint8", request.input, request.dims);
    feeds[FUSED_RANGE_INPUT] = new Tensor("float32", Float32Array.from(request.range), [2]);
  } else {
    if (!(request.input instanceof Float32Array)) throw new Error("the model's input is float32");
    feeds[inputName] = new Tensor("float32", request.input, request.dims);
  }
  const start = performance.now();
  const results = await session.run(feeds, outputNames);
  const inferenceMs = performance.now() - start;

  const outputs: Record<string, OutputTensor> = {};
  const transfer: ArrayBuffer[] = [];
  for (const name of loaded.outputNames) {
    const tensor = results[name];
    if (!tensor) throw new Error(`the model did not return output "${name}"`);
    const { data, buffer } = transferable(toFloat32(name, tensor));
    outputs[name] = { data, dims: [...tensor.dims] };
    // Two outputs can alias one buffer only if ORT shares it; transfer each buffer once.
    if (!transfer.includes(buffer)) transfer.push(buffer);
  }
  let labels: Uint16Array | undefined;
  if (fusedLabels) {
    labels = results[FUSED_LABELS_OUTPUT]?.data as Uint16Array | undefined;
    if (!(labels instanceof Uint16Array)) throw new Error(`the fused graph did not return uint16 "${FUSED_LABELS_OUTPUT}"`);
    if (labels.buffer instanceof ArrayBuffer && !transfer.includes(labels.buffer)) {
      if (labels.byteOffset !== 0 || labels.byteLength !== labels.buffer.byteLength) labels = labels.slice();
      transfer.push(labels.buffer as ArrayBuffer);
    }
  }
  // The input goes back with the result (ORT is done with it once run resolves), so the main
  // thread can fill it again for the next frame instead of allocating a new tensor. Never when an
  // output shares its buffer: the caller would then overwrite that output. (A fused run's camera
  // image was copied into this thread: nothing to give back.)
  const input = request.input;
  const inputBuffer = input.buffer;
  const returnInput = !fused && input instanceof Float32Array && inputBuffer instanceof ArrayBuffer && !transfer.includes(inputBuffer);
  if (returnInput) transfer.push(inputBuffer);
  post({ type: "result", id: request.id, outputs, inferenceMs, ...(returnInput ? { input } : {}), ...(labels ? { labels } : {}) }, transfer);
}

/**
 * Float outputs pass through; float16 outputs (raw bits in a Uint16Array) are decoded, NaN and
 * ±Inf kept so an overflowed frame reaches the depth check; integer outputs (e.g. argmax labels)
 * are widened to float32.
 */
function toFloat32(name: string, tensor: Tensor): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  if (tensor.type === "float16") {
    if (data instanceof Uint16Array) return float16ToFloat32(data);
    return Float32Array.from(data as ArrayLike<number>); // a runtime with Float16Array
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    return Float32Array.from(data, (v) => Number(v));
  }
  // Go by the declared type, not the array class (uint16 and float16 share Uint16Array).
  if (NUMERIC_TYPES.has(tensor.type)) return Float32Array.from(data as ArrayLike<number>);
  throw new Error(`output "${name}" has unsupported element type ${tensor.type}`);
}

const NUMERIC_TYPES: ReadonlySet<string> = new Set([
  "float64", "int32", "uint32", "int16", "uint16", "int8", "uint8", "bool",
]);

function post(message: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
