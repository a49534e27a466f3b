// Messages between InferenceWorker (main thread) and worker.ts. Tensor data travels in shared
// slots (sharedSlots.ts: the message names the slot and dims) or, when no slot is free, as
// transferred ArrayBuffers, so a Float32Array sent is detached on the sending side.

import type { FusedBundle } from "./fusedIo.js";
import type { ProviderFailure, SessionThreads } from "./providers.js";
import type { Dim } from "./tensorShapes.js";

export interface OutputTensor {
  data: Float32Array;
  dims: number[];
}

export interface LoadRequest {
  type: "load";
  modelPath: string;
  inputName: string;
  /** Outputs fetched on every run (ORT skips computing the rest when it can). */
  outputNames: string[];
  providers: string[];
  threads: SessionThreads;
  /**
   * fused_io: the worker wraps the graph (fusedIo.ts) and runs take the camera's rgb8 image; the
   * loaded reply still names and shapes the model's own graph, for checking against model.yaml.
   */
  fusedIo?: FusedBundle;
}

export interface RunRequest {
  type: "run";
  id: number;
  /**
   * Float32 NCHW model input; with fused_io, the camera's rgb8 bytes, dims [H, W, 3]. Absent in a
   * slot run, whose input is the first dims-product values of the slot's input memory.
   */
  input?: Float32Array | Uint8Array;
  /** A run in a shared slot: the reply is a SlotResultResponse, its outputs written into the slot. */
  slot?: SlotRun;
  dims: number[];
  /** fused_io: [range.min, range.max] (max Infinity for none). */
  range?: [number, number];
}

/**
 * Asks the worker to finish the runs it has started, release the session and end its thread.
 * Worker.terminate() is not safe while session.run is executing: when the native call returns
 * into a terminating isolate, onnxruntime-node's binding throws a C++ Napi::Error that nothing
 * catches, and std::terminate aborts the whole process.
 */
export interface CloseRequest {
  type: "close";
}

export interface SlotRun {
  index: number;
  /** The slot's input memory, sent with the first run after the main thread made or grew it. */
  input?: SharedArrayBuffer;
}

/** An output of a slot run: the first dims-product values of the slot's buffer for its name. */
export interface SlotOutput {
  dims: number[];
  /** float32 for model outputs (converted as for the transfer path); uint16 for fused_io's labels. */
  type: "float32" | "uint16";
}

export type WorkerRequest = LoadRequest | RunRequest | CloseRequest;

export interface LoadedResponse {
  type: "loaded";
  provider: string;
  fallbacks: ProviderFailure[];
  /** The graph's own names, for checking against model.yaml. */
  inputNames: string[];
  outputNames: string[];
  /** Declared shapes by name (symbolic dimensions as strings; [] when not declared). */
  inputShapes: Record<string, Dim[]>;
  outputShapes: Record<string, Dim[]>;
}

export interface ResultResponse {
  type: "result";
  id: number;
  outputs: Record<string, OutputTensor>;
  inferenceMs: number;
  /** The request's input, transferred back once session.run is done, so the caller can reuse it. */
  input?: Float32Array;
  /** fused_io with a segmentation output: class ids at camera resolution. */
  labels?: Uint16Array;
}

export interface SlotResultResponse {
  type: "slotResult";
  id: number;
  /** By output name; fused_io's labels under FUSED_LABELS_OUTPUT. */
  outputs: Record<string, SlotOutput>;
  /** Output buffers the worker made for this slot because it had none or too small ones. */
  grown?: Record<string, SharedArrayBuffer>;
  inferenceMs: number;
}

/** `id` is set when a run failed and absent when loading failed. */
export interface ErrorResponse {
  type: "error";
  id?: number;
  message: string;
}

export type WorkerResponse = LoadedResponse | ResultResponse | SlotResultResponse | ErrorResponse;

/** The buffer to transfer with `array`, or undefined when it is a view that must be copied. */
export function ownBuffer(array: Float32Array): ArrayBuffer | undefined {
  const buffer = array.buffer;
  if (!(buffer instanceof ArrayBuffer)) return undefined;
  return array.byteOffset === 0 && array.byteLength === buffer.byteLength ? buffer : undefined;
}

/** `array` itself when it owns its whole buffer, else a compact copy that does. */
export function transferable(array: Float32Array): { data: Float32Array; buffer: ArrayBuffer } {
  const own = ownBuffer(array);
  if (own) return { data: array, buffer: own };
  const copy = new Float32Array(array);
  return { data: copy, buffer: copy.buffer as ArrayBuffer };
}
