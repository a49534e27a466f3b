// CDR (XCDR1, little-endian) serialisation driven by ROS 2 message definitions.
//
// It replaces @foxglove/rosmsg2-serialization's MessageWriter, which (3.1.0, with @foxglove/cdr
// 3.5.0, the latest releases) sizes and writes strings by their UTF-16 length: a multi-byte UTF-8
// string such as "caméra_optical" gets a length prefix one byte short and loses its last byte.
// ROS 2 strings are UTF-8 on the wire (rosidl: `string` is a UTF-8 sequence of char). Upstream
// fixed this after those releases (foxglove/cdr#35, foxglove/ros-typescript#136). Apart from
// strings the bytes are the same as MessageWriter's, which cdrWriter.test.ts checks on every
// type we write; reading stays with MessageReader, which decodes UTF-8 correctly.

import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";

/** Bytes per element and alignment of each primitive; `time`/`duration` are int32 + uint32. */
const PRIMITIVES: ReadonlyMap<string, { readonly size: number; readonly align: number }> = new Map([
  ["bool", { size: 1, align: 1 }],
  ["int8", { size: 1, align: 1 }],
  ["uint8", { size: 1, align: 1 }],
  ["int16", { size: 2, align: 2 }],
  ["uint16", { size: 2, align: 2 }],
  ["int32", { size: 4, align: 4 }],
  ["uint32", { size: 4, align: 4 }],
  ["int64", { size: 8, align: 8 }],
  ["uint64", { size: 8, align: 8 }],
  ["float32", { size: 4, align: 4 }],
  ["float64", { size: 8, align: 8 }],
  ["time", { size: 8, align: 4 }],
  ["duration", { size: 8, align: 4 }],
]);

/** Encapsulation header: representation CDR_LE (0x0001), options 0. */
const HEADER = [0, 1, 0, 0] as const;
const HEADER_SIZE = 4;

const utf8 = new TextEncoder();

type Fields = readonly MessageDefinitionField[];
/** A message object as given (fields may be missing: they are written as their default or 0). */
type MessageValue = Readonly<Record<string, unknown>> | undefined;

/** Serialises messages of one root type (definitions: root first, then its dependencies). */
export class CdrMessageWriter {
  readonly #root: Fields;
  readonly #byName: ReadonlyMap<string, Fields>;

  constructor(definitions: readonly MessageDefinition[]) {
    const root = definitions.find((d) => !(d.definitions.length > 0 && d.definitions.every((f) => f.isConstant === true)));
    if (root === undefined) throw new Error("CdrMessageWriter needs a root message definition");
    this.#root = root.definitions;
    this.#byName = new Map(definitions.map((d) => [d.name ?? "", d.definitions]));
  }

  /**
   * The message's CDR bytes. With `into` at least as long as the message, they are written into
   * its start (every byte, padding included) and a view of that part is returned: the caller
   * reuses one buffer across frames instead of allocating megabytes per message.
   */
  writeMessage(message: object, into?: Uint8Array): Uint8Array {
    // Strings are encoded once, in the sizing pass, and written from this list in the same order.
    const strings: Uint8Array[] = [];
    const size = this.#size(this.#root, message as MessageValue, HEADER_SIZE, strings);
    const bytes = into !== undefined && into.length >= size ? into.subarray(0, size) : new Uint8Array(size);
    const out = new Cursor(bytes, strings);
    out.bytes.set(HEADER, 0);
    this.#write(this.#root, message as MessageValue, out);
    if (out.offset !== size) throw new Error(`internal: CDR size ${size} but ${out.offset} bytes written`);
    return out.bytes;
  }

  #fields(type: string): Fields {
    const fields = this.#byName.get(type);
    if (fields === undefined) throw new Error(`unknown complex type ${type}`);
    return fields;
  }

  #size(fields: Fields, message: MessageValue, start: number, strings: Uint8Array[]): number {
    let offset = start;
    if (!hasDataFields(fields)) return offset + 1; // rosidl's structure_needs_at_least_one_member
    for (const field of fields) {
      if (field.isConstant === true) continue;
      const value = message?.[field.name];
      if (field.isArray === true) {
        const items = arrayItems(field, value);
        if (field.arrayLength === undefined) offset = align(offset, 4) + 4;
        if (field.isComplex === true) {
          const nested = this.#fields(field.type);
          for (let i = 0; i < items.length; i++) offset = this.#size(nested, items[i] as MessageValue, offset, strings);
        } else if (field.type === "string") {
          for (let i = 0; i < items.length; i++) offset = stringSize(offset, items[i], strings);
        } else {
          const { size, align: a } = primitive(field.type);
          if (items.length > 0) offset = align(offset, a) + size * items.length;
        }
      } else if (field.isComplex === true) {
        offset = this.#size(this.#fields(field.type), value as MessageValue, offset, strings);
      } else if (field.type === "string") {
        offset = stringSize(offset, value ?? field.defaultValue, strings);
      } else {
        const { size, align: a } = primitive(field.type);
        offset = align(offset, a) + size;
      }
    }
    return offset;
  }

  #write(fields: Fields, message: MessageValue, out: Cursor): void {
    if (!hasDataFields(fields)) {
      out.primitive("uint8", 0);
      return;
    }
    for (const field of fields) {
      if (field.isConstant === true) continue;
      const value = message?.[field.name];
      if (field.isArray === true) {
        const items = arrayItems(field, value);
        if (field.arrayLength === undefined) out.primitive("uint32", items.length);
        if (field.isComplex === true) {
          const nested = this.#fields(field.type);
          for (let i = 0; i < items.length; i++) this.#write(nested, items[i] as MessageValue, out);
        } else if (field.type === "string") {
          for (let i = 0; i < items.length; i++) out.string();
        } else if (field.type === "uint8" && value instanceof Uint8Array) {
          out.raw(value);
        } else {
          for (let i = 0; i < items.length; i++) out.primitive(field.type, items[i]);
        }
      } else if (field.isComplex === true) {
        this.#write(this.#fields(field.type), value as MessageValue, out);
      } else if (field.type === "string") {
        out.string();
      } else {
        out.primitive(field.type, value ?? field.defaultValue);
      }
    }
  }
}

/** Write position over a buffer sized by the sizing pass; strings come pre-encoded, in order. */
class Cursor {
  offset = HEADER_SIZE;
  readonly #view: DataView;
  #nextString = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly strings: readonly Uint8Array[],
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  raw(data: Uint8Array): void {
    this.bytes.set(data, this.offset);
    this.offset += data.length;
  }

  string(): void {
    const encoded = this.strings[this.#nextString++]!;
    this.primitive("uint32", encoded.length + 1);
    this.raw(encoded);
    this.bytes[this.offset++] = 0;
  }

  primitive(type: string, value: unknown): void {
    const { align: a, size } = primitive(type);
    const aligned = align(this.offset, a);
    // Padding is zero on the wire; a reused buffer still holds the previous message there.
    for (let i = this.offset; i < aligned; i++) this.bytes[i] = 0;
    this.offset = aligned;
    const v = this.#view;
    const o = this.offset;
    switch (type) {
      case "bool":
        v.setUint8(o, value === true ? 1 : 0);
        break;
      case "int8":
        v.setInt8(o, numberOf(value));
        break;
      case "uint8":
        v.setUint8(o, numberOf(value));
        break;
      case "int16":
        v.setInt16(o, numberOf(value), true);
        break;
      case "uint16":
        v.setUint16(o, numberOf(value), true);
        break;
      case "int32":
        v.setInt32(o, numberOf(value), true);
        break;
      case "uint32":
        v.setUint32(o, numberOf(value), true);
        break;
      case "int64":
        v.setBigInt64(o, bigintOf(value), true);
        break;
      case "uint64":
        v.setBigUint64(o, bigintOf(value), true);
        break;
      case "float32":
        v.setFloat32(o, numberOf(value), true);
        break;
      case "float64":
        v.setFloat64(o, numberOf(value), true);
        break;
      case "time":
      case "duration": {
        const t = (value ?? {}) as { sec?: number; nanosec?: number; nsec?: number };
        v.setInt32(o, t.sec ?? 0, true);
        v.setUint32(o + 4, t.nanosec ?? t.nsec ?? 0, true);
        break;
      }
    }
    this.offset = o + size;
  }
}

function primitive(type: string): { readonly size: number; readonly align: number } {
  const p = PRIMITIVES.get(type);
  if (p === undefined) throw new Error(`unsupported primitive type ${type}`);
  return p;
}

/** Alignment counts from the end of the encapsulation header, as in CDR. */
function align(offset: number, alignment: number): number {
  const misalignment = (offset - HEADER_SIZE) % alignment;
  return misalignment === 0 ? offset : offset + alignment - misalignment;
}

function stringSize(offset: number, value: unknown, strings: Uint8Array[]): number {
  const encoded = utf8.encode(typeof value === "string" ? value : "");
  strings.push(encoded);
  return align(offset, 4) + 4 + encoded.length + 1;
}

function arrayItems(field: MessageDefinitionField, value: unknown): ArrayLike<unknown> {
  const items: ArrayLike<unknown> =
    Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))
      ? (value as ArrayLike<unknown>)
      : Array.isArray(field.defaultValue)
        ? (field.defaultValue as unknown[])
        : new Array<unknown>(field.arrayLength ?? 0).fill(undefined);
  if (field.arrayLength !== undefined && items.length !== field.arrayLength) {
    throw new Error(`Expected ${field.arrayLength} items for fixed-length array field ${field.name} but received ${items.length}`);
  }
  return items;
}

function hasDataFields(fields: Fields): boolean {
  return fields.some((f) => f.isConstant !== true);
}

function numberOf(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return 0;
}

function bigintOf(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return BigInt(value);
  return 0n;
}
