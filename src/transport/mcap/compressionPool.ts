// Chunk compression in worker threads, so the main thread (decode, pre/post-processing, CDR,
// the writes themselves) does not spend ~75 ms a 640x480 frame in zstd (bench/README.md). A
// chunk's records are transferred to an idle worker, which compresses them and computes both
// CRCs (zlib.crc32 there too), then transfers the compressed bytes and the records' buffer back.
// McapFileWriter writes the results in chunk order. A worker that fails or dies rejects its
// chunk and every later one: the writer then fails, it never waits forever or skips a chunk.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import { workerEntry, type WorkerEntry } from "../../inference/workerEntry.js";
import { workerReply } from "../../workerReply.js";
import type { ChunkCompression, CompressedChunk, OffThreadChunkCompressor } from "./chunkCompression.js";

/** The codecs that run in workers ("none" has nothing to do). */
export type WorkerCompression = Exclude<ChunkCompression, "none">;

/**
 * At most this many workers: four zstd level-3 workers at ~90-120 MiB/s each (this VM) keep up with
 * ~40-50 frames/s of 640x480 outputs; more would take cores from ORT's CPU threads for nothing.
 */
export const MAX_COMPRESSION_WORKERS = 4;

/**
 * Workers for `cores` cores: one core is left to the main thread and one to the inference worker
 * (its session.run, or the thread feeding a GPU), the rest compress, at least one and at most
 * MAX_COMPRESSION_WORKERS. A 2-core machine gets 1, a 6-8 core Jetson 4.
 */
export function defaultCompressionWorkers(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(MAX_COMPRESSION_WORKERS, cores - 2));
}

/** What a compression worker gets as workerData. */
export interface CompressionWorkerData {
  readonly compression: WorkerCompression;
}

export interface CompressRequest {
  readonly id: number;
  /** Transferred; the chunk's records are its first `length` bytes. */
  readonly records: ArrayBuffer;
  readonly length: number;
  /** Transferred: where the compressed bytes go when they fit (OffThreadChunkCompressor.compress). */
  readonly output?: ArrayBuffer;
}

export type CompressionWorkerMessage =
  | { readonly type: "ready" }
  | {
      readonly type: "compressed";
      readonly id: number;
      readonly compressedData: Uint8Array;
      readonly uncompressedCrc: number;
      readonly compressedCrc: number;
      readonly records: ArrayBuffer;
    }
  | { readonly type: "failed"; readonly id: number; readonly message: string };

export interface ChunkCompressorPoolOptions {
  readonly compression: WorkerCompression;
  /** Worker threads (default defaultCompressionWorkers()). */
  readonly workers?: number;
  /**
   * The workers' code; defaults to compressionWorker.ts / .js beside this module. Tests pass a
   * stand-in that fails or dies, as InferenceWorkerOptions.entry does.
   */
  readonly entry?: WorkerEntry;
}

interface Job {
  readonly request: CompressRequest;
  readonly resolve: (chunk: CompressedChunk) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly exited: Promise<void>;
  job: Job | undefined;
}

export class ChunkCompressorPool implements OffThreadChunkCompressor {
  readonly capacity: number;
  readonly #compression: WorkerCompression;
  readonly #slots: Slot[];
  readonly #queue: Job[] = [];
  #nextId = 1;
  /** Set once the pool is closed or a worker failed: every pending and later chunk rejects with it. */
  #dead: Error | undefined;

  private constructor(compression: WorkerCompression, slots: Slot[]) {
    this.#compression = compression;
    this.#slots = slots;
    // Two per worker: one compressing, one waiting, so a worker never idles between chunks.
    this.capacity = 2 * slots.length;
    for (const slot of slots) {
      slot.worker.on("message", (message: CompressionWorkerMessage) => this.#onMessage(slot, message));
      slot.worker.on("error", (error: Error) => this.#fail(new Error(`${compression} compression worker crashed: ${error.message}`)));
      slot.worker.on("exit", (code: number) => this.#fail(new Error(`${compression} compression worker exited unexpectedly (code ${code})`)));
      // Idle workers do not keep the process alive; one with a chunk does (#dispatch).
      slot.worker.unref();
    }
  }

  /** Starts the workers and waits until each has loaded its codec. */
  static async start(options: ChunkCompressorPoolOptions): Promise<ChunkCompressorPool> {
    const count = options.workers ?? defaultCompressionWorkers();
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`compression workers must be a whole number >= 1, got ${count}`);
    const entry = options.entry ?? workerEntry(import.meta.url, "compressionWorker");
    const workerData: CompressionWorkerData = { compression: options.compression };
    const slots = Array.from({ length: count }, (): Slot => {
      const worker = new Worker(entry.script, { eval: entry.eval, workerData });
      return { worker, exited: new Promise<void>((resolve) => worker.once("exit", () => resolve())), job: undefined };
    });
    try {
      await Promise.all(slots.map((slot) => ready(slot.worker, options.compression)));
    } catch (error) {
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
      throw error;
    }
    return new ChunkCompressorPool(options.compression, slots);
  }

  compress(records: ArrayBuffer, length: number, output?: ArrayBuffer): Promise<CompressedChunk> {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise<CompressedChunk>((resolve, reject) => {
      const request: CompressRequest = { id: this.#nextId++, records, length, ...(output === undefined ? {} : { output }) };
      this.#queue.push({ request, resolve, reject });
      this.#dispatch();
    });
  }

  /**
   * Stops every worker (a chunk still being compressed is rejected: the caller is giving up on
   * it) and resolves once their threads are gone. Safe to call twice.
   */
  async close(): Promise<void> {
    this.#fail(new Error(`${this.#compression} chunk compression was stopped (the writer was closed)`));
    await Promise.all(this.#slots.map((slot) => slot.exited));
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.job !== undefined) continue;
      const job = this.#queue.shift();
      if (job === undefined) return;
      slot.job = job;
      slot.worker.ref();
      try {
        const { records, output } = job.request;
        slot.worker.postMessage(job.request, output === undefined ? [records] : [records, output]);
      } catch (error) {
        // A buffer that cannot be transferred (already detached): this chunk's problem only.
        slot.job = undefined;
        slot.worker.unref();
        job.reject(new Error(`${this.#compression} chunk compression: cannot hand the chunk to a worker: ${(error as Error).message}`));
      }
    }
  }

  #onMessage(slot: Slot, message: CompressionWorkerMessage): void {
    const job = slot.job;
    if (message.type === "ready" || job === undefined || message.id !== job.request.id) return;
    slot.job = undefined;
    slot.worker.unref();
    if (message.type === "compressed") {
      const { compressedData, uncompressedCrc, compressedCrc, records } = message;
      job.resolve({ compression: this.#compression, compressedData, uncompressedCrc, compressedCrc, records });
    } else {
      this.#fail(new Error(`${this.#compression} chunk compression failed: ${message.message}`), job);
    }
    this.#dispatch();
  }

  /** Rejects `job` (if given), every chunk in a worker or queued, and all later ones; stops the workers. */
  #fail(error: Error, job?: Job): void {
    if (this.#dead) {
      job?.reject(this.#dead);
      return;
    }
    this.#dead = error;
    job?.reject(error);
    for (const slot of this.#slots) {
      slot.job?.reject(error);
      slot.job = undefined;
      void slot.worker.terminate();
    }
    for (const queued of this.#queue.splice(0)) queued.reject(error);
  }
}

/** Resolves on the worker's "ready", rejects if it fails or exits first. */
function ready(worker: Worker, compression: WorkerCompression): Promise<void> {
  return workerReply<CompressionWorkerMessage, void>(worker, {
    settle: (message) => (message.type === "ready" ? { value: undefined } : undefined),
    failed: (error) => new Error(`${compression} compression worker failed to start: ${error.message}`),
    exited: (code) => new Error(`${compression} compression worker exited while starting (code ${code})`),
  });
}
