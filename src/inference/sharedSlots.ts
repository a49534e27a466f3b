// Fixed shared memory for the worker's runs. Every ArrayBuffer that arrives on the main thread
// (a transferred output tensor, the input handed back) is a new JSArrayBuffer whose bytes V8
// counts as external memory until a GC; with real models (~2-15 MiB of outputs a frame) that
// alone forced a mark-compact every few frames that freed almost nothing. A slot's
// SharedArrayBuffers cross to the worker once, when they are made or grown; a run then names only
// the slot and dims, so a steady stream of frames creates no new ArrayBuffers on the main thread.

import type { OutputTensor, SlotOutput } from "./protocol.js";

/** Slots an InferenceWorker makes at most: max_in_flight 2, plus one for a second camera's frame. */
export const DEFAULT_SHARED_SLOTS = 3;

/**
 * One run's shared memory: the input and one buffer per output. Owned by the caller between
 * `SharedSlots.acquire` and `release`; the views its run returns stay valid (the worker writes
 * into the slot only for a run in it) until then.
 */
export class SharedSlot {
  /** Input memory; replaced (not resized) when a run needs more. */
  #input: SharedArrayBuffer | undefined;
  /** Set when #input is new: the next run request carries it to the worker. */
  #inputUnsent = false;
  /** Output memory by output name, as the worker made or grew it. */
  readonly #outputs = new Map<string, SharedArrayBuffer>();

  constructor(readonly index: number) {}

  /** `length` float32 values of input memory (NCHW tensor), grown when the slot's is smaller. */
  floatInput(length: number): Float32Array {
    return new Float32Array(this.#inputOf(length * Float32Array.BYTES_PER_ELEMENT), 0, length);
  }

  /** `length` bytes of input memory (fused_io: the camera's rgb8 image). */
  byteInput(length: number): Uint8Array {
    return new Uint8Array(this.#inputOf(length), 0, length);
  }

  /** The input memory to send with the next run when it is new since the last one, else undefined. */
  takeUnsentInput(): SharedArrayBuffer | undefined {
    if (!this.#inputUnsent) return undefined;
    this.#inputUnsent = false;
    return this.#input;
  }

  /**
   * The outputs of a run in this slot, as views of its memory; `grown` replaces the buffers the
   * worker had to make larger (or make at all) for that run.
   */
  outputViews(outputs: Record<string, SlotOutput>, grown: Record<string, SharedArrayBuffer> | undefined): Record<string, SlotView> {
    if (grown) for (const [name, buffer] of Object.entries(grown)) this.#outputs.set(name, buffer);
    const views: Record<string, SlotView> = {};
    for (const [name, { dims, type }] of Object.entries(outputs)) {
      const buffer = this.#outputs.get(name);
      const length = dims.reduce((a, b) => a * b, 1);
      const bytes = length * (type === "uint16" ? 2 : 4);
      if (!buffer || buffer.byteLength < bytes) {
        throw new Error(`shared slot ${this.index}: output "${name}" needs ${bytes} bytes, the slot has ${buffer?.byteLength ?? 0}`);
      }
      views[name] = type === "uint16" ? { type, data: new Uint16Array(buffer, 0, length), dims } : { type, data: new Float32Array(buffer, 0, length), dims };
    }
    return views;
  }

  #inputOf(bytes: number): SharedArrayBuffer {
    if (!this.#input || this.#input.byteLength < bytes) {
      this.#input = new SharedArrayBuffer(bytes);
      this.#inputUnsent = true;
    }
    return this.#input;
  }
}

/** A slot output as the main thread sees it: float32 model outputs, or fused_io's uint16 labels. */
export type SlotView = (OutputTensor & { type: "float32" }) | { type: "uint16"; data: Uint16Array; dims: number[] };

/** Up to `capacity` slots, made on first need and reused; `acquire` gives undefined when all are busy. */
export class SharedSlots {
  readonly #slots: SharedSlot[] = [];
  readonly #busy = new Set<SharedSlot>();

  constructor(readonly capacity: number = DEFAULT_SHARED_SLOTS) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`shared slots: capacity must be an integer >= 0, got ${capacity}`);
  }

  /** A free slot (the lowest-numbered: its memory is most likely warm), a new one, or undefined. */
  acquire(): SharedSlot | undefined {
    let slot = this.#slots.find((s) => !this.#busy.has(s));
    if (!slot) {
      if (this.#slots.length >= this.capacity) return undefined;
      slot = new SharedSlot(this.#slots.length);
      this.#slots.push(slot);
    }
    this.#busy.add(slot);
    return slot;
  }

  /** Frees `slot` for a later run; its views may be overwritten from then on. Releasing twice is a no-op. */
  release(slot: SharedSlot): void {
    if (this.#slots[slot.index] !== slot) throw new Error(`shared slot ${slot.index} is not from this pool`);
    this.#busy.delete(slot);
  }

  /** Slots made so far, and how many are acquired. */
  get size(): number {
    return this.#slots.length;
  }

  get inUse(): number {
    return this.#busy.size;
  }
}
