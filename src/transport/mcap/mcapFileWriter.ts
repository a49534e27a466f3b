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
// same options (mcapFileWriter.test.ts checks it). With an OffThreadChunkCompressor (worker
// threads, compressionPool.ts) a full chunk's buffer is handed over and the next chunk fills
// another; compressed chunks are written strictly in the order they were filled, each with its
// message indexes, as they come back, and end() waits for all of them.

import { McapRecordBuilder, Opcode, type McapTypes } from "@mcap/core";

import type { ChunkCompressor, CompressedChunk, OffThreadChunkCompressor } from "./chunkCompression.js";
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
  /** Chunk compression, on this thread (a function) or off it; none when absent. */
  readonly compressChunk?: ChunkCompressor | OffThreadChunkCompressor;
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
  #bytes = new Uint8Array(new ArrayBuffer(64 * 1024));
  #view = new DataView(this.#bytes.buffer);
  length = 0;

  /**
   * Hands over the records' whole buffer (to be transferred) and starts empty in `next`, or in a
   * new buffer of the same size (the next chunk is likely as large).
   */
  take(next: ArrayBuffer | undefined): { readonly buffer: ArrayBuffer; readonly length: number } {
    const taken = { buffer: this.#bytes.buffer, length: this.length };
    this.#bytes = new Uint8Array(next ?? new ArrayBuffer(this.#bytes.byteLength));
    this.#view = new DataView(this.#bytes.buffer);
    this.length = 0;
    return taken;
  }

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
      const grown = new Uint8Array(new ArrayBuffer(Math.max(needed, Math.ceil(this.#bytes.byteLength * 1.5))));
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
  readonly #offThread: OffThreadChunkCompressor | undefined;
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
  #chunkIndex = new Map<number, [bigint, bigint][]>();
  #nextSchemaId = 1;
  #nextChannelId = 0;
  /** CRC of every byte written so far: the DataEnd record's data_section_crc once complete. */
  #dataCrc = 0;
  // Off-thread compression: the chain of chunk writes in fill order, its links not yet waited
  // for, record and compressed-output buffers back from the compressor for reuse, the first
  // failure, and the MessageIndex builder the chain uses.
  #writes: Promise<void> = Promise.resolve();
  readonly #inFlight: Promise<void>[] = [];
  readonly #spareBuffers: ArrayBuffer[] = [];
  readonly #spareOutputs: ArrayBuffer[] = [];
  #failure: Error | undefined;
  readonly #indexRecords = new McapRecordBuilder();

  constructor(options: McapFileWriterOptions) {
    this.#writable = options.writable;
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const compress = options.compressChunk;
    this.#compressChunk = typeof compress === "function" ? compress : undefined;
    this.#offThread = typeof compress === "object" ? compress : undefined;
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

  /**
   * Resolves once `message.data` is copied or written: the caller may then reuse its buffer.
   * Off-thread compression: rejects with the failure of any chunk handed off before.
   */
  async addMessage(message: McapTypes.Message): Promise<void> {
    this.#throwIfFailed();
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
    if (this.#compressChunk === undefined && this.#offThread === undefined && data.byteLength >= LARGE_MESSAGE_BYTES) {
      this.#chunkPayload = data;
      await this.#finishChunk();
      return;
    }
    this.#chunk.append(data);
    if (this.#chunk.length > this.#chunkSize) await this.#finishChunk();
  }

  /** Writes the open chunk, waits for every chunk handed off, then writes DataEnd, the summary and the footer. */
  async end(): Promise<void> {
    this.#throwIfFailed();
    await this.#finishChunk();
    await this.#drain();
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
    if (this.#offThread !== undefined) return this.#handOffChunk(this.#offThread);
    const copied = this.#chunk.contents();
    const payload = this.#chunkPayload;
    const uncompressedSize = copied.byteLength + (payload?.byteLength ?? 0);
    const compressed = this.#compressChunk?.(copied);
    const compression = compressed?.compression ?? "";
    const records = compressed === undefined ? (payload === undefined ? [copied] : [copied, payload]) : [compressed.compressedData];
    const recordsSize = compressed?.compressedData.byteLength ?? uncompressedSize;
    const sealed = this.#seal();

    const compressionBytes = utf8.encode(compression);
    const chunkStartOffset = this.#position;
    const chunkLength = BigInt(chunkHeaderBytes(compressionBytes) + recordsSize);
    const indexes = this.#messageIndexes(this.#records, sealed, chunkStartOffset + chunkLength);
    this.#position = chunkStartOffset + chunkLength + indexes.length;

    // The records and message indexes go to the file while the CRCs are computed here.
    const written = this.#writable.writeAt([...records, indexes.bytes], chunkStartOffset + BigInt(chunkHeaderBytes(compressionBytes)));
    let uncompressedCrc: number;
    let recordsCrc: number;
    try {
      uncompressedCrc = payload === undefined ? crc32(copied) : crc32(payload, crc32(copied));
      recordsCrc = compressed === undefined ? uncompressedCrc : crc32(compressed.compressedData);
    } finally {
      await written;
    }
    const header = chunkHeader(sealed, compressionBytes, chunkLength, uncompressedSize, uncompressedCrc, recordsSize);
    // Until this lands the chunk's first bytes are a hole: a reader of the unfinished file sees
    // the chunks before it, as with a chunk cut off by a crash.
    await this.#writable.writeAt([header], chunkStartOffset);
    this.#chunkWritten(sealed, header, indexes, { chunkStartOffset, chunkLength, compression, recordsCrc, recordsSize, uncompressedSize });
    this.#chunk.length = 0;
    this.#chunkPayload = undefined;
  }

  /** The open chunk's times and message index, taken out; the next chunk starts empty. */
  #seal(): SealedChunk {
    const sealed: SealedChunk = { messageStartTime: this.#chunkStart, messageEndTime: this.#chunkEnd, index: this.#chunkIndex };
    this.#chunkIndex = new Map();
    this.#chunkMessages = 0;
    return sealed;
  }

  /**
   * Hands the full chunk's buffer to the off-thread compressor and queues its write behind the
   * chunks before it; waits only while `capacity` chunks are already in flight.
   */
  async #handOffChunk(compressor: OffThreadChunkCompressor): Promise<void> {
    const sealed = this.#seal();
    const { buffer, length } = this.#chunk.take(this.#spareBuffers.pop());
    const compressing = compressor.compress(buffer, length, this.#spareOutputs.pop());
    // Handled here so that a chunk whose write is skipped (an earlier one failed) is no unhandled rejection.
    compressing.catch(() => undefined);
    const written = this.#writes.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        const chunk = await compressing;
        await this.#writeCompressedChunk(sealed, length, chunk);
        // No cap needed: at most capacity + 2 of each exist (in flight, waiting, filling).
        this.#spareBuffers.push(chunk.records);
        this.#spareOutputs.push(chunk.compressedData.buffer as ArrayBuffer);
      } catch (error) {
        this.#failure = error instanceof Error ? error : new Error(String(error));
      }
    });
    this.#writes = written;
    this.#inFlight.push(written);
    while (this.#inFlight.length > compressor.capacity) await this.#inFlight.shift();
    this.#throwIfFailed();
  }

  /** One chunk back from the compressor: Chunk record and message indexes in one write. */
  async #writeCompressedChunk(sealed: SealedChunk, uncompressedSize: number, chunk: CompressedChunk): Promise<void> {
    const compressionBytes = utf8.encode(chunk.compression);
    const recordsSize = chunk.compressedData.byteLength;
    const chunkStartOffset = this.#position;
    const chunkLength = BigInt(chunkHeaderBytes(compressionBytes) + recordsSize);
    // Its own record builder: addMessage may be serialising a Schema or Channel into #records meanwhile.
    const indexes = this.#messageIndexes(this.#indexRecords, sealed, chunkStartOffset + chunkLength);
    const header = chunkHeader(sealed, compressionBytes, chunkLength, uncompressedSize, chunk.uncompressedCrc, recordsSize);
    this.#position = chunkStartOffset + chunkLength + indexes.length;
    await this.#writable.writeAt([header, chunk.compressedData, indexes.bytes], chunkStartOffset);
    const { compression, compressedCrc: recordsCrc } = chunk;
    this.#chunkWritten(sealed, header, indexes, { chunkStartOffset, chunkLength, compression, recordsCrc, recordsSize, uncompressedSize });
  }

  /** Waits for every chunk handed off; throws the first failure. */
  async #drain(): Promise<void> {
    await this.#writes;
    this.#inFlight.length = 0;
    this.#throwIfFailed();
  }

  /** Resolves once no chunk is being compressed or written (whatever became of them); never rejects. */
  async settled(): Promise<void> {
    await this.#writes;
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The MessageIndex records of `sealed`, serialised by `records` (the bytes are valid until its next use). */
  #messageIndexes(records: McapRecordBuilder, sealed: SealedChunk, messageIndexStart: bigint): MessageIndexes {
    const offsets = new Map<number, bigint>();
    let length = 0n;
    for (const [channelId, entries] of sealed.index) {
      offsets.set(channelId, messageIndexStart + length);
      length += records.writeMessageIndex({ channelId, records: entries });
    }
    const bytes = records.buffer;
    records.reset();
    return { bytes, offsets, length };
  }

  /** Bookkeeping once a chunk is in the file: data-section CRC, chunk index, statistics. */
  #chunkWritten(sealed: SealedChunk, header: Uint8Array, indexes: MessageIndexes, chunk: WrittenChunk): void {
    this.#dataCrc = crc32(indexes.bytes, crc32Combine(crc32(header, this.#dataCrc), chunk.recordsCrc, chunk.recordsSize));
    this.#chunkIndexes.push({
      messageStartTime: sealed.messageStartTime,
      messageEndTime: sealed.messageEndTime,
      chunkStartOffset: chunk.chunkStartOffset,
      chunkLength: chunk.chunkLength,
      messageIndexOffsets: indexes.offsets,
      messageIndexLength: indexes.length,
      compression: chunk.compression,
      compressedSize: BigInt(chunk.recordsSize),
      uncompressedSize: BigInt(chunk.uncompressedSize),
    });
    this.#statistics.chunkCount++;
  }
}

/** A filled chunk's times and per-channel [log_time, offset in the records], once taken out of the writer. */
interface SealedChunk {
  readonly messageStartTime: bigint;
  readonly messageEndTime: bigint;
  readonly index: ReadonlyMap<number, [bigint, bigint][]>;
}

interface MessageIndexes {
  readonly bytes: Uint8Array;
  readonly offsets: Map<number, bigint>;
  readonly length: bigint;
}

interface WrittenChunk {
  readonly chunkStartOffset: bigint;
  readonly chunkLength: bigint;
  readonly compression: string;
  readonly recordsCrc: number;
  readonly recordsSize: number;
  readonly uncompressedSize: number;
}

function chunkHeaderBytes(compressionBytes: Uint8Array): number {
  return RECORD_HEADER_BYTES + CHUNK_FIELDS_BEFORE_COMPRESSION + 4 + compressionBytes.byteLength + CHUNK_FIELDS_AFTER_COMPRESSION;
}

/** The Chunk record up to its records. */
function chunkHeader(sealed: SealedChunk, compressionBytes: Uint8Array, chunkLength: bigint, uncompressedSize: number, uncompressedCrc: number, recordsSize: number): Uint8Array {
  const header = new Uint8Array(chunkHeaderBytes(compressionBytes));
  const view = new DataView(header.buffer);
  view.setUint8(0, Opcode.CHUNK);
  view.setBigUint64(1, chunkLength - BigInt(RECORD_HEADER_BYTES), true);
  view.setBigUint64(9, sealed.messageStartTime, true);
  view.setBigUint64(17, sealed.messageEndTime, true);
  view.setBigUint64(25, BigInt(uncompressedSize), true);
  view.setUint32(33, uncompressedCrc, true);
  view.setUint32(37, compressionBytes.byteLength, true);
  header.set(compressionBytes, 41);
  view.setBigUint64(41 + compressionBytes.byteLength, BigInt(recordsSize), true);
  return header;
}

