// An MCAP writer (https://mcap.dev/spec) that writes depthseg's multi-megabyte messages at disk
// speed. @mcap/core's McapWriter (2.2.2) copies every message into its chunk buffer, copies the
// chunk twice more (BufferBuilder.buffer slices, then the Chunk record) and runs @foxglove/crc's
// JS CRC over it twice (chunk CRC, data-section CRC): 5-20x the cost of writing the bytes here
// (bench/README.md). Here a chunk's records are handed to one positional writev as they are
// (small records copied into a reused buffer, a large message's payload written from the
// caller's own buffer); while the file system writes them (libuv's thread pool), the main thread
// computes the chunk CRC with node:zlib's native crc32, then writes the Chunk record's header in
// front of them. The data-section CRC is combined from the chunk's (crc32Combine) instead of read
// again. Small records and the summary are serialised by @mcap/core's McapRecordBuilder; for
// messages under LARGE_MESSAGE_BYTES the file is byte for byte what McapWriter writes with the
// same options (mcapFileWriter.test.ts checks it).

import { McapRecordBuilder, Opcode, type McapTypes } from "@mcap/core";

import type { ChunkCompressor } from "./chunkCompression.js";
import { crc32, crc32Combine } from "./crc32.js";
import { RECORD_HEADER_BYTES } from "./records.js";

/** A file written at explicit offsets (a chunk's header is written after its records). */
export interface PositionalWritable {
  /** Writes `parts` one after the other from byte `position`; resolves once all are written (their memory is free again). */
  writeAt(parts: readonly Uint8Array[], position: bigint): Promise<void>;
}

export interface McapFileWriterOptions {
  readonly writable: PositionalWritable;
  /** A chunk is closed once its records exceed this many bytes (default 1 MiB, as McapWriter). */
  readonly chunkSize?: number;
  /** Chunk compression; none when absent. */
  readonly compressChunk?: ChunkCompressor;
}

/**
 * Payloads of at least this many bytes in uncompressed chunks are not copied: such a message
 * ends its chunk, which is written from the caller's buffer before addMessage resolves. Below
 * it, copying costs less than the extra chunk (and keeps small messages batched).
 */
export const LARGE_MESSAGE_BYTES = 64 * 1024;
const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** Message record: header + channel_id u16 + sequence u32 + log_time u64 + publish_time u64. */
const MESSAGE_HEADER_BYTES = RECORD_HEADER_BYTES + 2 + 4 + 8 + 8;
/** Chunk record fields before the compression string and after it, up to the records. */
const CHUNK_FIELDS_BEFORE_COMPRESSION = 8 + 8 + 8 + 4;
const CHUNK_FIELDS_AFTER_COMPRESSION = 8;
const utf8 = new TextEncoder();

/** A growable byte buffer for one chunk's copied records, reused chunk after chunk. */
class ChunkBuffer {
  #bytes = new Uint8Array(64 * 1024);
  #view = new DataView(this.#bytes.buffer);
  length = 0;

  get view(): DataView {
    return this.#view;
  }

  /** The records so far (a view; valid until the next append or reset). */
  contents(): Uint8Array {
    return this.#bytes.subarray(0, this.length);
  }

  /** Makes room for `count` more bytes and returns where they start. */
  reserve(count: number): number {
    const start = this.length;
    const needed = start + count;
    if (needed > this.#bytes.byteLength) {
      const grown = new Uint8Array(Math.max(needed, Math.ceil(this.#bytes.byteLength * 1.5)));
      grown.set(this.#bytes.subarray(0, start));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.length = needed;
    return start;
  }

  append(data: Uint8Array): void {
    const at = this.reserve(data.byteLength);
    this.#bytes.set(data, at);
  }
}

/**
 * Writes one MCAP file: header, chunked messages (with Schema and Channel records in the chunk
 * before a channel's first message), a MessageIndex per channel after each chunk, and a summary
 * with schemas, channels, statistics, chunk indexes and summary offsets, as rosbag2 and
 * Foxglove expect. Calls must not overlap (each awaited before the next), as McapWriter's.
 */
export class McapFileWriter {
  readonly #writable: PositionalWritable;
  /** Where the next record goes: the file's length once the last call has resolved. */
  #position = 0n;
  readonly #chunkSize: number;
  readonly #compressChunk: ChunkCompressor | undefined;
  readonly #schemas = new Map<number, McapTypes.Schema>();
  readonly #channels = new Map<number, McapTypes.Channel>();
  readonly #writtenSchemas = new Set<number>();
  readonly #writtenChannels = new Set<number>();
  readonly #chunkIndexes: McapTypes.ChunkIndex[] = [];
  readonly #statistics: McapTypes.Statistics = {
    messageCount: 0n,
    schemaCount: 0,
    channelCount: 0,
    attachmentCount: 0,
    metadataCount: 0,
    chunkCount: 0,
    messageStartTime: 0n,
    messageEndTime: 0n,
    channelMessageCounts: new Map(),
  };
  readonly #records = new McapRecordBuilder();
  // The open chunk: copied records, the payload written from the caller's buffer (large
  // messages, last in the chunk), and each channel's [log_time, offset in the records].
  readonly #chunk = new ChunkBuffer();
  #chunkPayload: Uint8Array | undefined;
  #chunkMessages = 0;
  #chunkStart = 0n;
  #chunkEnd = 0n;
  readonly #chunkIndex = new Map<number, [bigint, bigint][]>();
  #nextSchemaId = 1;
  #nextChannelId = 0;
  /** CRC of every byte written so far: the DataEnd record's data_section_crc once complete. */
  #dataCrc = 0;

  constructor(options: McapFileWriterOptions) {
    this.#writable = options.writable;
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.#compressChunk = options.compressChunk;
  }

  /** Bytes written (the whole file once end() resolved). */
  get position(): bigint {
    return this.#position;
  }

  async start(header: McapTypes.Header): Promise<void> {
    this.#records.writeMagic();
    this.#records.writeHeader(header);
    await this.#writeRecords();
  }

  registerSchema(info: Omit<McapTypes.Schema, "id">): number {
    const id = this.#nextSchemaId++;
    this.#schemas.set(id, { ...info, id });
    this.#statistics.schemaCount++;
    return id;
  }

  registerChannel(info: Omit<McapTypes.Channel, "id">): number {
    if (info.schemaId !== 0 && !this.#schemas.has(info.schemaId)) throw new Error(`McapFileWriter: channel ${info.topic} names unknown schema ${info.schemaId}`);
    const id = this.#nextChannelId++;
    this.#channels.set(id, { ...info, id });
    this.#statistics.channelCount++;
    return id;
  }

  /** Resolves once `message.data` is copied or written: the caller may then reuse its buffer. */
  async addMessage(message: McapTypes.Message): Promise<void> {
    const channel = this.#channels.get(message.channelId);
    if (channel === undefined) throw new Error(`McapFileWriter: no channel ${message.channelId}`);
    this.#count(message);
    if (!this.#writtenChannels.has(channel.id)) {
      const schema = this.#schemas.get(channel.schemaId);
      if (schema !== undefined && !this.#writtenSchemas.has(schema.id)) {
        this.#records.writeSchema(schema);
        this.#writtenSchemas.add(schema.id);
      }
      this.#records.writeChannel(channel);
      this.#writtenChannels.add(channel.id);
      this.#chunk.append(this.#records.buffer);
      this.#records.reset();
    }

    if (this.#chunkMessages === 0 || message.logTime < this.#chunkStart) this.#chunkStart = message.logTime;
    if (this.#chunkMessages === 0 || message.logTime > this.#chunkEnd) this.#chunkEnd = message.logTime;
    this.#chunkMessages++;
    let index = this.#chunkIndex.get(channel.id);
    if (index === undefined) {
      index = [];
      this.#chunkIndex.set(channel.id, index);
    }
    index.push([message.logTime, BigInt(this.#chunk.length)]);

    const { data } = message;
    const at = this.#chunk.reserve(MESSAGE_HEADER_BYTES);
    const view = this.#chunk.view;
    view.setUint8(at, Opcode.MESSAGE);
    view.setBigUint64(at + 1, BigInt(MESSAGE_HEADER_BYTES - RECORD_HEADER_BYTES + data.byteLength), true);
    view.setUint16(at + 9, channel.id, true);
    view.setUint32(at + 11, message.sequence, true);
    view.setBigUint64(at + 15, message.logTime, true);
    view.setBigUint64(at + 23, message.publishTime, true);
    if (this.#compressChunk === undefined && data.byteLength >= LARGE_MESSAGE_BYTES) {
      this.#chunkPayload = data;
      await this.#finishChunk();
      return;
    }
    this.#chunk.append(data);
    if (this.#chunk.length > this.#chunkSize) await this.#finishChunk();
  }

  /** Writes the open chunk, DataEnd, the summary and the footer. */
  async end(): Promise<void> {
    await this.#finishChunk();
    const records = this.#records;
    records.writeDataEnd({ dataSectionCrc: this.#dataCrc });
    const dataEndBytes = records.length;
    const summaryStart = this.#position + BigInt(dataEndBytes);
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (groupOpcode: Opcode, write: () => bigint): void => {
      const groupStart = summaryStart + BigInt(records.length - dataEndBytes);
      const groupLength = write();
      if (groupLength !== 0n) offsets.push({ groupOpcode, groupStart, groupLength });
    };
    const each = <T>(items: Iterable<T>, write: (item: T) => bigint) => () => {
      let length = 0n;
      for (const item of items) length += write(item);
      return length;
    };
    group(Opcode.SCHEMA, each(this.#schemas.values(), (s) => records.writeSchema(s)));
    group(Opcode.CHANNEL, each(this.#channels.values(), (c) => records.writeChannel(c)));
    group(Opcode.STATISTICS, () => records.writeStatistics(this.#statistics));
    group(Opcode.CHUNK_INDEX, each(this.#chunkIndexes, (c) => records.writeChunkIndex(c)));
    const summaryOffsetStart = summaryStart + BigInt(records.length - dataEndBytes);
    for (const offset of offsets) records.writeSummaryOffset(offset);
    // summary_crc covers the summary section and the footer's fields before it.
    const footerPrefix = new Uint8Array(RECORD_HEADER_BYTES + 16);
    const prefix = new DataView(footerPrefix.buffer);
    prefix.setUint8(0, Opcode.FOOTER);
    prefix.setBigUint64(1, 20n, true);
    prefix.setBigUint64(9, summaryStart, true);
    prefix.setBigUint64(17, summaryOffsetStart, true);
    const summaryCrc = crc32(footerPrefix, crc32(records.buffer.subarray(dataEndBytes)));
    records.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc });
    records.writeMagic();
    await this.#writeRecords();
  }

  #count(message: McapTypes.Message): void {
    const stats = this.#statistics;
    if (stats.messageCount === 0n || message.logTime < stats.messageStartTime) stats.messageStartTime = message.logTime;
    if (stats.messageCount === 0n || message.logTime > stats.messageEndTime) stats.messageEndTime = message.logTime;
    stats.channelMessageCounts.set(message.channelId, (stats.channelMessageCounts.get(message.channelId) ?? 0n) + 1n);
    stats.messageCount++;
  }

  /** Writes what #records holds (whole records, outside chunks) and clears it. */
  async #writeRecords(): Promise<void> {
    const bytes = this.#records.buffer;
    this.#records.reset();
    this.#dataCrc = crc32(bytes, this.#dataCrc);
    const at = this.#position;
    this.#position += BigInt(bytes.byteLength);
    await this.#writable.writeAt([bytes], at);
  }

  async #finishChunk(): Promise<void> {
    if (this.#chunkMessages === 0) return;
    const copied = this.#chunk.contents();
    const payload = this.#chunkPayload;
    const uncompressedSize = copied.byteLength + (payload?.byteLength ?? 0);
    const compressed = this.#compressChunk?.(copied);
    const compression = compressed?.compression ?? "";
    const records = compressed === undefined ? (payload === undefined ? [copied] : [copied, payload]) : [compressed.compressedData];
    const recordsSize = compressed?.compressedData.byteLength ?? uncompressedSize;

    const compressionBytes = utf8.encode(compression);
    const header = new Uint8Array(RECORD_HEADER_BYTES + CHUNK_FIELDS_BEFORE_COMPRESSION + 4 + compressionBytes.byteLength + CHUNK_FIELDS_AFTER_COMPRESSION);
    const chunkStartOffset = this.#position;
    const chunkLength = BigInt(header.byteLength + recordsSize);
    const messageIndexStart = chunkStartOffset + chunkLength;
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const [channelId, entries] of this.#chunkIndex) {
      messageIndexOffsets.set(channelId, messageIndexStart + messageIndexLength);
      messageIndexLength += this.#records.writeMessageIndex({ channelId, records: entries });
    }
    const messageIndexes = this.#records.buffer;
    this.#records.reset();
    this.#position = messageIndexStart + messageIndexLength;

    // The records and message indexes go to the file while the CRCs are computed here.
    const written = this.#writable.writeAt([...records, messageIndexes], chunkStartOffset + BigInt(header.byteLength));
    let uncompressedCrc: number;
    let recordsCrc: number;
    try {
      uncompressedCrc = payload === undefined ? crc32(copied) : crc32(payload, crc32(copied));
      recordsCrc = compressed === undefined ? uncompressedCrc : crc32(compressed.compressedData);
    } finally {
      await written;
    }
    const view = new DataView(header.buffer);
    view.setUint8(0, Opcode.CHUNK);
    view.setBigUint64(1, chunkLength - BigInt(RECORD_HEADER_BYTES), true);
    view.setBigUint64(9, this.#chunkStart, true);
    view.setBigUint64(17, this.#chunkEnd, true);
    view.setBigUint64(25, BigInt(uncompressedSize), true);
    view.setUint32(33, uncompressedCrc, true);
    view.setUint32(37, compressionBytes.byteLength, true);
    header.set(compressionBytes, 41);
    view.setBigUint64(41 + compressionBytes.byteLength, BigInt(recordsSize), true);
    // Until this lands the chunk's first bytes are a hole: a reader of the unfinished file sees
    // the chunks before it, as with a chunk cut off by a crash.
    await this.#writable.writeAt([header], chunkStartOffset);

    this.#dataCrc = crc32(messageIndexes, crc32Combine(crc32(header, this.#dataCrc), recordsCrc, recordsSize));
    this.#chunkIndexes.push({
      messageStartTime: this.#chunkStart,
      messageEndTime: this.#chunkEnd,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression,
      compressedSize: BigInt(recordsSize),
      uncompressedSize: BigInt(uncompressedSize),
    });
    this.#statistics.chunkCount++;
    this.#chunk.length = 0;
    this.#chunkPayload = undefined;
    this.#chunkMessages = 0;
    this.#chunkIndex.clear();
  }
}
