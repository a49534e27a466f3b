// CDR codec registry: one MessageWriter/MessageReader per ROS type, built on first use.

import type { MessageDefinition } from "@foxglove/message-definition";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";

import { FrameError } from "../errors.js";
import { lookupDefinition, rosTypeSchema } from "./definitions.js";
import type { RosMessageMap, RosTypeName } from "./types.js";

interface Codec {
  readonly root: MessageDefinition;
  readonly writer: MessageWriter;
  readonly reader: MessageReader;
}

const codecs = new Map<string, Codec>();

function codecFor(typeName: string): Codec {
  let codec = codecs.get(typeName);
  if (codec === undefined) {
    // rosTypeSchema throws for unknown types, naming the known ones.
    const definitions = [...rosTypeSchema(typeName).definitions];
    const root = definitions[0];
    if (root === undefined) throw new Error(`no root definition for ${typeName}`);
    codec = { root, writer: new MessageWriter(definitions), reader: new MessageReader(definitions) };
    codecs.set(typeName, codec);
  }
  return codec;
}

/** Serialises a message to CDR (little-endian, with the 4-byte encapsulation header). */
export function encodeMessage<K extends RosTypeName>(typeName: K, message: RosMessageMap[K]): Uint8Array;
export function encodeMessage(typeName: string, message: object): Uint8Array;
export function encodeMessage(typeName: string, message: object): Uint8Array {
  const codec = codecFor(typeName);
  // @foxglove/cdr 3.5 sizes strings by UTF-16 length and silently truncates multi-byte
  // UTF-8 (fixed upstream in foxglove/cdr#35, ros-typescript#137); refuse instead.
  const bad = findNonAsciiString(codec.root, message, "");
  if (bad !== undefined) {
    throw new Error(
      `cannot encode ${typeName}: string field ${bad} has non-ASCII characters, which the installed CDR writer corrupts`,
    );
  }
  return codec.writer.writeMessage(message);
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

/** Path of the first string (or string[] element) containing non-ASCII, else undefined. */
function findNonAsciiString(def: MessageDefinition, value: unknown, path: string): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Readonly<Record<string, unknown>>;
  for (const field of def.definitions) {
    if (field.isConstant === true) continue;
    const fieldValue = record[field.name];
    const fieldPath = path === "" ? field.name : `${path}.${field.name}`;
    if (field.type === "string") {
      const items: readonly unknown[] = field.isArray === true && Array.isArray(fieldValue) ? fieldValue : [fieldValue];
      for (const [i, item] of items.entries()) {
        if (typeof item === "string" && !isAscii(item)) {
          return field.isArray === true ? `${fieldPath}[${i}]` : fieldPath;
        }
      }
    } else if (field.isComplex === true) {
      const nested = lookupDefinition(field.type);
      if (nested === undefined) continue;
      const items: readonly unknown[] = field.isArray === true && Array.isArray(fieldValue) ? fieldValue : [fieldValue];
      for (const [i, item] of items.entries()) {
        const found = findNonAsciiString(nested, item, field.isArray === true ? `${fieldPath}[${i}]` : fieldPath);
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}
