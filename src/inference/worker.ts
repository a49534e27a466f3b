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
  type SlotOutput,
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

/** A shared slot's memory as this thread sees it (sharedSlots.ts): the input the main thread sent, outputs made here. */
interface WorkerSlot {
  input: SharedArrayBuffer | undefined;
  /**
   * This thread's copy of the input, reused run after run: onnxruntime-node refuses tensors over
   * a SharedArrayBuffer ("Invalid argument", inputs and pre-allocated outputs alike; 1.30.0).
   */
  feed: Float32Array | Uint8Array | undefined;
  readonly outputs: Map<string, SharedArrayBuffer>;
}
const slots = new Map<number, WorkerSlot>();
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
    slots.clear();
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
  const slot = request.slot ? slotOf(request.slot.index, request.slot.input) : undefined;
  const input = slot ? slotInput(slot, request.dims, fused) : request.input;
  const feeds: Record<string, Tensor> = {};
  if (fused) {
    if (!(input instanceof Uint8Array) || !request.range) throw new Error("a fused_io run needs the camera's uint8 image and the depth range");
    feeds[inputName] = new Tensor("uint8", input, request.dims);
    feeds[FUSED_RANGE_INPUT] = new Tensor("float32", Float32Array.from(request.range), [2]);
  } else {
    if (!(input instanceof Float32Array)) throw new Error("the model's input is float32");
    feeds[inputName] = new Tensor("float32", input, request.dims);
  }
  const start = performance.now();
  const results = await session.run(feeds, outputNames);
  const inferenceMs = performance.now() - start;
  if (slot) {
    postSlotResult(request.id, slot, results, inferenceMs);
    return;
  }

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
  const inputBuffer = input?.buffer;
  const returnInput = !fused && input instanceof Float32Array && inputBuffer instanceof ArrayBuffer && !transfer.includes(inputBuffer);
  if (returnInput) transfer.push(inputBuffer);
  post({ type: "result", id: request.id, outputs, inferenceMs, ...(returnInput ? { input } : {}), ...(labels ? { labels } : {}) }, transfer);
}

/** The slot `index`, made on its first run; `input` (sent when the main thread made or grew it) replaces its input memory. */
function slotOf(index: number, input: SharedArrayBuffer | undefined): WorkerSlot {
  let slot = slots.get(index);
  if (!slot) slots.set(index, (slot = { input: undefined, feed: undefined, outputs: new Map() }));
  if (input) slot.input = input;
  return slot;
}

/** The run's input (the first dims-product values of the slot's, rgb8 bytes for fused_io), copied into the slot's feed. */
function slotInput(slot: WorkerSlot, dims: readonly number[], fused: boolean): Float32Array | Uint8Array {
  const length = dims.reduce((a, b) => a * b, 1);
  const bytes = fused ? length : length * Float32Array.BYTES_PER_ELEMENT;
  if (!slot.input || slot.input.byteLength < bytes) {
    throw new Error(`shared slot input holds ${slot.input?.byteLength ?? 0} bytes, dims ${JSON.stringify(dims)} need ${bytes}`);
  }
  if (fused) {
    if (!(slot.feed instanceof Uint8Array) || slot.feed.length !== length) slot.feed = new Uint8Array(length);
    slot.feed.set(new Uint8Array(slot.input, 0, length));
  } else {
    if (!(slot.feed instanceof Float32Array) || slot.feed.length !== length) slot.feed = new Float32Array(length);
    slot.feed.set(new Float32Array(slot.input, 0, length));
  }
  return slot.feed;
}

/**
 * Copies the run's outputs into the slot (a buffer too small, or missing, is replaced by a larger
 * one, sent back under `grown`) and replies with their dims only: nothing in the reply is an
 * ArrayBuffer the main thread would have to account for.
 */
function postSlotResult(id: number, slot: WorkerSlot, results: InferenceSession.ReturnType, inferenceMs: number): void {
  const outputs: Record<string, SlotOutput> = {};
  const grown: Record<string, SharedArrayBuffer> = {};
  const write = (name: string, data: Float32Array | Uint16Array, dims: readonly number[]): void => {
    let buffer = slot.outputs.get(name);
    if (!buffer || buffer.byteLength < data.byteLength) {
      buffer = new SharedArrayBuffer(data.byteLength);
      slot.outputs.set(name, buffer);
      grown[name] = buffer;
    }
    if (data instanceof Float32Array) new Float32Array(buffer, 0, data.length).set(data);
    else new Uint16Array(buffer, 0, data.length).set(data);
    outputs[name] = { dims: [...dims], type: data instanceof Float32Array ? "float32" : "uint16" };
  };
  for (const name of loaded!.outputNames) {
    const tensor = results[name];
    if (!tensor) throw new Error(`the model did not return output "${name}"`);
    write(name, toFloat32(name, tensor), tensor.dims);
  }
  if (loaded!.fusedLabels) {
    const labels = results[FUSED_LABELS_OUTPUT];
    if (!(labels?.data instanceof Uint16Array)) throw new Error(`the fused graph did not return uint16 "${FUSED_LABELS_OUTPUT}"`);
    write(FUSED_LABELS_OUTPUT, labels.data, labels.dims);
  }
  post({ type: "slotResult", id, outputs, inferenceMs, ...(Object.keys(grown).length > 0 ? { grown } : {}) });
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
