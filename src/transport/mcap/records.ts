// MCAP record layouts (https://mcap.dev/spec), parsed with a bounds check on every field so a
// damaged byte becomes a RecordError instead of a wrong value or a RangeError deep in a DataView.
// @mcap/core's parser is not used for the data the bag reader salvages: it throws on the first
// bad record of a stream, and its chunk reader trusts the message index, which has no CRC.

import { Opcode, type McapTypes } from "@mcap/core";

/** opcode (1) + content length (8). */
export const RECORD_HEADER_BYTES = 9;
/** Footer record (header + 8 + 8 + 4) and the closing magic. */
export const FOOTER_AND_MAGIC_BYTES = RECORD_HEADER_BYTES + 20 + 8;
/** DataEnd record: header + data_section_crc. */
export const DATA_END_BYTES = RECORD_HEADER_BYTES + 4;
/** Compressions a chunk may name (the reader supports "", zstd and lz4; others are reported). */
const CHUNK_COMPRESSION_MAX_LENGTH = 16;

export class RecordError extends Error {
  override readonly name = "RecordError";
}

/** Little-endian reads over one record's content; every read checks it stays inside. */
export class FieldReader {
  readonly #view: DataView;
  offset = 0;

  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  #need(count: number, what: string): void {
    if (count > this.remaining) {
      throw new RecordError(`${what} needs ${count} bytes at byte ${this.offset} of a ${this.bytes.byteLength}-byte record`);
    }
  }

  u8(what = "u8"): number {
    this.#need(1, what);
    return this.#view.getUint8(this.offset++);
  }

  u16(what = "u16"): number {
    this.#need(2, what);
    const value = this.#view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(what = "u32"): number {
    this.#need(4, what);
    const value = this.#view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(what = "u64"): bigint {
    this.#need(8, what);
    const value = this.#view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** A length (u32 or u64) that must fit in what is left of the record. */
  length(bits: 32 | 64, what: string): number {
    const value = bits === 32 ? BigInt(this.u32(what)) : this.u64(what);
    if (value > BigInt(this.remaining)) {
      throw new RecordError(`${what} of ${value} bytes exceeds the ${this.remaining} bytes left in the record`);
    }
    return Number(value);
  }

  string(what: string): string {
    const length = this.length(32, `${what} length`);
    const text = new TextDecoder("utf-8", { fatal: true });
    try {
      return text.decode(this.view(length));
    } catch {
      throw new RecordError(`${what} is not valid UTF-8`);
    }
  }

  /** A view into the record (not a copy). */
  view(length: number): Uint8Array {
    this.#need(length, "bytes");
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** A map or array prefixed by its byte length: runs `entry` until those bytes are used. */
  sized(what: string, entry: () => void): void {
    const length = this.length(32, `${what} length`);
    const end = this.offset + length;
    while (this.offset < end) entry();
    if (this.offset !== end) throw new RecordError(`${what} entries overrun their ${length}-byte length`);
  }

  done(what: string): void {
    if (this.remaining !== 0) throw new RecordError(`${this.remaining} unexpected bytes at the end of ${what}`);
  }
}

/** One record in a byte range: its opcode, content and where it starts in that range. */
export interface RawRecord {
  readonly opcode: number;
  readonly offset: number;
  readonly content: Uint8Array;
}

/**
 * The records of a chunk's (decompressed, CRC-checked) data or of a summary section, in order.
 * Throws RecordError when a record runs past the end.
 */
export function* splitRecords(bytes: Uint8Array): Generator<RawRecord> {
  const reader = new FieldReader(bytes);
  while (reader.remaining > 0) {
    const offset = reader.offset;
    const opcode = reader.u8("record opcode");
    const length = reader.length(64, `record (opcode 0x${opcode.toString(16)}) at byte ${offset}`);
    yield { opcode, offset, content: reader.view(length) };
  }
}

/** Opcodes that may appear in a well-formed file (0x80-0xff are private records, also allowed). */
export function isValidOpcode(opcode: number): boolean {
  return (opcode >= Opcode.MIN && opcode <= Opcode.MAX) || opcode >= 0x80;
}

export function parseHeader(content: Uint8Array): McapTypes.Header {
  const r = new FieldReader(content);
  const header: McapTypes.Header = { profile: r.string("header profile"), library: r.string("header library") };
  r.done("the header");
  return header;
}

export function parseFooter(content: Uint8Array): McapTypes.Footer {
  const r = new FieldReader(content);
  const footer = { summaryStart: r.u64(), summaryOffsetStart: r.u64(), summaryCrc: r.u32() };
  r.done("the footer");
  return footer;
}

export function parseSchema(content: Uint8Array): McapTypes.Schema {
  const r = new FieldReader(content);
  const id = r.u16("schema id");
  const name = r.string("schema name");
  const encoding = r.string("schema encoding");
  const data = r.view(r.length(32, "schema data")).slice();
  r.done("a schema");
  if (id === 0) throw new RecordError("schema id 0 is reserved");
  return { id, name, encoding, data };
}

export function parseChannel(content: Uint8Array): McapTypes.Channel {
  const r = new FieldReader(content);
  const id = r.u16("channel id");
  const schemaId = r.u16("channel schema id");
  const topic = r.string("channel topic");
  const messageEncoding = r.string("channel message encoding");
  const metadata = new Map<string, string>();
  r.sized("channel metadata", () => metadata.set(r.string("metadata key"), r.string("metadata value")));
  r.done("a channel");
  return { id, schemaId, topic, messageEncoding, metadata };
}

/** Channel id and times of a message, without copying its data. */
export interface MessageHead {
  readonly channelId: number;
  readonly sequence: number;
  readonly logTime: bigint;
  readonly publishTime: bigint;
  /** View of the payload inside the record. */
  readonly data: Uint8Array;
}

export function parseMessage(content: Uint8Array): MessageHead {
  const r = new FieldReader(content);
  return {
    channelId: r.u16("message channel id"),
    sequence: r.u32("message sequence"),
    logTime: r.u64("message log time"),
    publishTime: r.u64("message publish time"),
    data: r.view(r.remaining),
  };
}

/** The fields before a chunk's records (none of them covered by its CRC). */
export interface ChunkPrefix {
  readonly messageStartTime: bigint;
  readonly messageEndTime: bigint;
  readonly uncompressedSize: bigint;
  readonly uncompressedCrc: number;
  readonly compression: string;
  /** Where the records start in the record content. */
  readonly recordsStart: number;
  /** The records' length as the chunk states it. */
  readonly recordsLength: bigint;
}

/** Upper bound of a chunk prefix: times, size, CRC, compression (length + name), records length. */
export const CHUNK_PREFIX_MAX_BYTES = 8 + 8 + 8 + 4 + 4 + CHUNK_COMPRESSION_MAX_LENGTH + 8;

/** A chunk's prefix, from the start of its content (which may be cut after the prefix). */
export function parseChunkPrefix(content: Uint8Array): ChunkPrefix {
  const r = new FieldReader(content);
  const messageStartTime = r.u64("chunk start time");
  const messageEndTime = r.u64("chunk end time");
  const uncompressedSize = r.u64("chunk uncompressed size");
  const uncompressedCrc = r.u32("chunk CRC");
  const compressionLength = r.u32("chunk compression length");
  if (compressionLength > CHUNK_COMPRESSION_MAX_LENGTH) {
    throw new RecordError(`chunk compression name of ${compressionLength} bytes`);
  }
  r.offset -= 4;
  const compression = r.string("chunk compression");
  const recordsLength = r.u64("chunk records length");
  return { messageStartTime, messageEndTime, uncompressedSize, uncompressedCrc, compression, recordsStart: r.offset, recordsLength };
}

/** Entries of a message index, after checking its layout (it has no CRC). */
export function parseMessageIndex(content: Uint8Array): { channelId: number; entries: number } {
  const r = new FieldReader(content);
  const channelId = r.u16("message index channel id");
  const length = r.length(32, "message index entries");
  if (length % 16 !== 0) throw new RecordError(`message index entries of ${length} bytes, not a multiple of 16`);
  r.offset += length;
  r.done("a message index");
  return { channelId, entries: length / 16 };
}

export function parseChunkIndex(content: Uint8Array): McapTypes.ChunkIndex {
  const r = new FieldReader(content);
  const messageStartTime = r.u64();
  const messageEndTime = r.u64();
  const chunkStartOffset = r.u64();
  const chunkLength = r.u64();
  const messageIndexOffsets = new Map<number, bigint>();
  r.sized("chunk index message index offsets", () => messageIndexOffsets.set(r.u16(), r.u64()));
  const messageIndexLength = r.u64();
  const compression = r.string("chunk index compression");
  const compressedSize = r.u64();
  const uncompressedSize = r.u64();
  r.done("a chunk index");
  return {
    messageStartTime,
    messageEndTime,
    chunkStartOffset,
    chunkLength,
    messageIndexOffsets,
    messageIndexLength,
    compression,
    compressedSize,
    uncompressedSize,
  };
}

export function parseStatistics(content: Uint8Array): McapTypes.Statistics {
  const r = new FieldReader(content);
  const messageCount = r.u64();
  const schemaCount = r.u16();
  const channelCount = r.u32();
  const attachmentCount = r.u32();
  const metadataCount = r.u32();
  const chunkCount = r.u32();
  const messageStartTime = r.u64();
  const messageEndTime = r.u64();
  const channelMessageCounts = new Map<number, bigint>();
  r.sized("statistics channel message counts", () => channelMessageCounts.set(r.u16(), r.u64()));
  r.done("the statistics");
  return {
    messageCount,
    schemaCount,
    channelCount,
    attachmentCount,
    metadataCount,
    chunkCount,
    messageStartTime,
    messageEndTime,
    channelMessageCounts,
  };
}

