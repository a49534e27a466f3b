// CDR codec registry: one writer/reader per ROS type, built on first use. Writing is ours
// (cdrWriter.ts: UTF-8 strings); reading is @foxglove/rosmsg2-serialization's MessageReader.

import { MessageReader } from "@foxglove/rosmsg2-serialization";

import { FrameError } from "../errors.js";
import { CdrMessageWriter } from "./cdrWriter.js";
import { rosTypeSchema } from "./definitions.js";
import type { RosMessageMap, RosTypeName } from "./types.js";

interface Codec {
  readonly writer: CdrMessageWriter;
  readonly reader: MessageReader;
}

const codecs = new Map<string, Codec>();

function codecFor(typeName: string): Codec {
  let codec = codecs.get(typeName);
  if (codec === undefined) {
    // rosTypeSchema throws for unknown types, naming the known ones.
    const definitions = [...rosTypeSchema(typeName).definitions];
    codec = { writer: new CdrMessageWriter(definitions), reader: new MessageReader(definitions) };
    codecs.set(typeName, codec);
  }
  return codec;
}

/**
 * Serialises a message to CDR (little-endian, with the 4-byte encapsulation header). With `into`
 * long enough the bytes are a view of its start (see CdrMessageWriter.writeMessage), else new.
 */
export function encodeMessage<K extends RosTypeName>(typeName: K, message: RosMessageMap[K], into?: Uint8Array): Uint8Array;
export function encodeMessage(typeName: string, message: object, into?: Uint8Array): Uint8Array;
export function encodeMessage(typeName: string, message: object, into?: Uint8Array): Uint8Array {
  return codecFor(typeName).writer.writeMessage(message, into);
}

/**
 * One frame's CDR output buffers, one per message slot (the n-th message a sink encodes for the
 * frame), each grown to the largest message it has held. A frame's messages have the same sizes
 * frame after frame, so a steady stream encodes its ~9 MiB a frame without allocating.
 */
export class FrameCdrBuffers {
  readonly #slots: Uint8Array[] = [];

  /** CDR bytes of `message` in slot `slot`'s buffer: valid until this slot encodes again. */
  encode<K extends RosTypeName>(slot: number, typeName: K, message: RosMessageMap[K]): Uint8Array;
  encode(slot: number, typeName: string, message: object): Uint8Array;
  encode(slot: number, typeName: string, message: object): Uint8Array {
    const bytes = encodeMessage(typeName, message, this.#slots[slot]);
    if (bytes.buffer !== this.#slots[slot]?.buffer) this.#slots[slot] = bytes;
    return bytes;
  }
}

/**
 * FrameCdrBuffers for frames in flight. Lifetime rule, as FrameProcessor.release's: a sink takes
 * a set when it starts encoding a frame and gives it back once nothing holds that frame's bytes
 * (its writes have resolved); with max_in_flight n at most n sets are out at once.
 */
export class CdrBufferPool {
  readonly #free: FrameCdrBuffers[] = [];

  constructor(readonly maxFree: number) {}

  take(): FrameCdrBuffers {
    return this.#free.pop() ?? new FrameCdrBuffers();
  }

  give(buffers: FrameCdrBuffers): void {
    if (this.#free.length < this.maxFree && !this.#free.includes(buffers)) this.#free.push(buffers);
  }
}

/**
 * Deserialises CDR bytes. uint8[] fields of the result are views into `bytes`.
 * Throws FrameError("bad_message") naming the type when the payload is truncated or invalid.
 */
export function decodeMessage<K extends RosTypeName>(typeName: K, bytes: Uint8Array): RosMessageMap[K];
export function decodeMessage<T>(typeName: string, bytes: Uint8Array): T;
export function decodeMessage(typeName: string, bytes: Uint8Array): unknown {
  const codec = codecFor(typeName);
  try {
    return codec.reader.readMessage(bytes);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new FrameError("bad_message", `cannot decode ${typeName} from ${bytes.byteLength} bytes: ${why}`);
  }
}
