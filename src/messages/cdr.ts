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

/** Serialises a message to CDR (little-endian, with the 4-byte encapsulation header). */
export function encodeMessage<K extends RosTypeName>(typeName: K, message: RosMessageMap[K]): Uint8Array;
export function encodeMessage(typeName: string, message: object): Uint8Array;
export function encodeMessage(typeName: string, message: object): Uint8Array {
  return codecFor(typeName).writer.writeMessage(message);
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
