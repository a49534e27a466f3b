// Reads rosbag2 MCAP files. A complete file is read through its index (log-time order, only
// the chunks needed); a file without a usable footer/summary (recording cut off, crash) is
// streamed from the start and yields every complete message before the damage.

import { open, type FileHandle } from "node:fs/promises";

import { McapIndexedReader, McapStreamReader, MCAP_MAGIC, type McapTypes } from "@mcap/core";

import { decompressHandlers } from "./decompressHandlers.js";
import { FileReadable } from "./fileReadable.js";

export interface BagTopic {
  readonly topic: string;
  /** e.g. "sensor_msgs/msg/Image"; empty when the channel has no schema. */
  readonly schemaName: string;
  readonly schemaEncoding: string;
  readonly messageEncoding: string;
  /** From the summary statistics, or the complete messages counted in a truncated file. */
  readonly messageCount?: number;
}

export interface BagMessage {
  readonly topic: string;
  readonly schemaName: string;
  /** Nanoseconds since the epoch (rosbag2: receive time). */
  readonly logTime: bigint;
  readonly publishTime: bigint;
  /** CDR payload; owned by this message. */
  readonly data: Uint8Array;
}

export interface BagTruncation {
  /** Byte offset up to which the file was read as complete records. */
  readonly offset: number;
  readonly reason: string;
}

export interface BagReader {
  readonly path: string;
  readonly topics: readonly BagTopic[];
  /** Total messages when known (statistics, or counted while scanning a truncated file). */
  readonly messageCount: number | undefined;
  /** False when the file had no usable index and is read by streaming. */
  readonly indexed: boolean;
  /**
   * Set when the file is damaged or cut off: where readable data ends and why. Known after
   * openBag (a truncated file is scanned once on open) and refreshed when iteration ends.
   */
  readonly truncation: BagTruncation | undefined;
  /**
   * Messages of the given topics (all when omitted). Log-time order for indexed files; file
   * order (which rosbag2 writes in arrival order) for streamed ones. Throws naming the channel
   * when a selected channel is not ros2msg/cdr, and naming the topic when it is not in the bag.
   */
  messages(topics?: readonly string[]): AsyncIterable<BagMessage>;
  close(): Promise<void>;
}

interface ChannelInfo {
  readonly id: number;
  readonly topic: string;
  readonly schemaName: string;
  readonly schemaEncoding: string;
  readonly messageEncoding: string;
}

const STREAM_BLOCK_BYTES = 4 * 1024 * 1024;

export async function openBag(path: string): Promise<BagReader> {
  const file = await open(path, "r");
  try {
    const stat = await file.stat();
    if (stat.isDirectory()) throw new Error(`${path} is a directory; pass the .mcap file inside it`);
    const size = stat.size;
    await requireMagic(file, size, path);
    const indexed = await tryIndexedReader(new FileReadable(file, size));
    if (indexed !== undefined) return new IndexedBag(path, file, indexed);
    return await StreamedBag.scan(path, file, size);
  } catch (error) {
    await file.close();
    throw error;
  }
}

async function requireMagic(file: FileHandle, size: number, path: string): Promise<void> {
  const prefix = new Uint8Array(MCAP_MAGIC.length);
  const { bytesRead } = await file.read(prefix, 0, prefix.length, 0);
  const matches = bytesRead === prefix.length && MCAP_MAGIC.every((byte, i) => prefix[i] === byte);
  if (!matches) {
    const what = size === 0 ? "the file is empty" : "it does not start with the MCAP magic bytes";
    throw new Error(`${path} is not an MCAP file: ${what}`);
  }
}

/** The indexed reader, or undefined when the file has no usable footer, summary or chunk index. */
async function tryIndexedReader(readable: FileReadable): Promise<McapIndexedReader | undefined> {
  let reader: McapIndexedReader;
  try {
    reader = await McapIndexedReader.Initialize({ readable, decompressHandlers: decompressHandlers() });
  } catch {
    return undefined; // cut off, crashed or unindexed: the stream reader copes with all three
  }
  // Messages written outside chunks are invisible to readMessages(); stream those files.
  const empty = reader.statistics?.messageCount === 0n;
  return reader.chunkIndexes.length > 0 || empty ? reader : undefined;
}

abstract class BagBase implements BagReader {
  truncation: BagTruncation | undefined = undefined;
  #closed = false;

  protected constructor(
    readonly path: string,
    protected readonly file: FileHandle,
    protected readonly channels: ReadonlyMap<number, ChannelInfo>,
    protected readonly counts: ReadonlyMap<number, number> | undefined,
  ) {}

  abstract readonly indexed: boolean;
  abstract readonly messageCount: number | undefined;
  abstract messages(topics?: readonly string[]): AsyncIterable<BagMessage>;

  get topics(): readonly BagTopic[] {
    const byKey = new Map<string, BagTopic>();
    for (const ch of this.channels.values()) {
      const key = `${ch.topic}\u0000${ch.schemaName}`;
      const count = this.counts?.get(ch.id);
      const previous = byKey.get(key);
      const total = count === undefined ? previous?.messageCount : (previous?.messageCount ?? 0) + count;
      byKey.set(key, {
        topic: ch.topic,
        schemaName: ch.schemaName,
        schemaEncoding: ch.schemaEncoding,
        messageEncoding: ch.messageEncoding,
        ...(total === undefined ? {} : { messageCount: total }),
      });
    }
    return [...byKey.values()];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.file.close();
  }

  /** Channel ids to read, after checking each selected channel is ros2msg + cdr. */
  protected select(topics: readonly string[] | undefined): Set<number> {
    const wanted = topics === undefined ? undefined : new Set(topics);
    if (wanted !== undefined) {
      const present = new Set([...this.channels.values()].map((ch) => ch.topic));
      const missing = [...wanted].filter((t) => !present.has(t));
      if (missing.length > 0) {
        throw new Error(`${this.path}: no topic ${missing.join(", ")} in the bag; topics: ${[...present].join(", ")}`);
      }
    }
    const ids = new Set<number>();
    for (const ch of this.channels.values()) {
      if (wanted !== undefined && !wanted.has(ch.topic)) continue;
      requireRos2Cdr(ch, this.path);
      ids.add(ch.id);
    }
    return ids;
  }

  protected toBagMessage(message: McapTypes.Message): BagMessage | undefined {
    const ch = this.channels.get(message.channelId);
    if (ch === undefined) return undefined;
    return {
      topic: ch.topic,
      schemaName: ch.schemaName,
      logTime: message.logTime,
      publishTime: message.publishTime,
      data: message.data,
    };
  }
}

class IndexedBag extends BagBase {
  readonly indexed = true;
  readonly messageCount: number | undefined;

  constructor(
    path: string,
    file: FileHandle,
    private readonly reader: McapIndexedReader,
  ) {
    const stats = reader.statistics;
    const counts =
      stats === undefined
        ? undefined
        : new Map([...stats.channelMessageCounts].map(([id, n]): [number, number] => [id, Number(n)]));
    super(path, file, channelInfos(reader.channelsById, reader.schemasById), counts);
    this.messageCount = stats === undefined ? undefined : Number(stats.messageCount);
  }

  async *messages(topics?: readonly string[]): AsyncGenerator<BagMessage> {
    const ids = this.select(topics);
    if (ids.size === 0) return; // an empty topic list would mean "all topics" to readMessages
    const names = [...new Set([...ids].map((id) => this.channels.get(id)?.topic ?? ""))];
    let lastLogTime = -1n;
    try {
      for await (const message of this.reader.readMessages({ topics: names, validateCrcs: true })) {
        if (!ids.has(message.channelId)) continue;
        lastLogTime = message.logTime;
        const out = this.toBagMessage(message);
        if (out !== undefined) yield out;
      }
    } catch (error) {
      // A damaged chunk in an otherwise complete file: like a truncated one, everything before
      // it has been yielded, and the caller is told where reading stopped.
      const offset = this.#chunkAfter(lastLogTime);
      this.truncation = { offset, reason: `unreadable chunk at byte ${offset}: ${errorText(error)}` };
    }
  }

  /**
   * File offset of the chunk that failed: the reader loads chunks in log-time order, so it is the
   * earliest one starting after the last message yielded (an estimate when chunks overlap).
   */
  #chunkAfter(logTime: bigint): number {
    let best: { start: bigint; offset: bigint } | undefined;
    for (const chunk of this.reader.chunkIndexes) {
      if (chunk.messageStartTime <= logTime) continue;
      if (!best || chunk.messageStartTime < best.start) {
        best = { start: chunk.messageStartTime, offset: chunk.chunkStartOffset };
      }
    }
    return Number(best?.offset ?? 0n);
  }
}

interface StreamEnd {
  truncation: BagTruncation | undefined;
}

class StreamedBag extends BagBase {
  readonly indexed = false;

  private constructor(
    path: string,
    file: FileHandle,
    private readonly size: number,
    channels: ReadonlyMap<number, ChannelInfo>,
    counts: ReadonlyMap<number, number>,
  ) {
    super(path, file, channels, counts);
  }

  get messageCount(): number {
    let total = 0;
    for (const n of this.counts?.values() ?? []) total += n;
    return total;
  }

  /** One pass over the file to learn channels, counts and where it breaks. */
  static async scan(path: string, file: FileHandle, size: number): Promise<StreamedBag> {
    const schemas = new Map<number, McapTypes.Schema>();
    const rawChannels = new Map<number, McapTypes.Channel>();
    const counts = new Map<number, number>();
    const end: StreamEnd = { truncation: undefined };
    for await (const record of streamRecords(file, size, end)) {
      if (record.type === "Schema") schemas.set(record.id, record);
      else if (record.type === "Channel") rawChannels.set(record.id, record);
      else if (record.type === "Message") counts.set(record.channelId, (counts.get(record.channelId) ?? 0) + 1);
    }
    const bag = new StreamedBag(path, file, size, channelInfos(rawChannels, schemas), counts);
    bag.truncation = end.truncation;
    return bag;
  }

  async *messages(topics?: readonly string[]): AsyncGenerator<BagMessage> {
    const ids = this.select(topics);
    const end: StreamEnd = { truncation: undefined };
    for await (const record of streamRecords(this.file, this.size, end)) {
      if (record.type !== "Message" || !ids.has(record.channelId)) continue;
      const out = this.toBagMessage(record);
      if (out !== undefined) yield out;
    }
    this.truncation = end.truncation;
  }
}

/**
 * Every complete record from the start of the file. Never throws for damaged data: it stops
 * and records in `end` the offset after the last complete top-level record and the reason.
 */
async function* streamRecords(
  file: FileHandle,
  size: number,
  end: StreamEnd,
): AsyncGenerator<McapTypes.TypedMcapRecord> {
  const reader = new McapStreamReader({ decompressHandlers: decompressHandlers(), validateCrcs: true });
  const block = new Uint8Array(Math.max(1, Math.min(STREAM_BLOCK_BYTES, size)));
  let appended = 0;
  let parsed = 0;
  for (;;) {
    for (;;) {
      let record: McapTypes.TypedMcapRecord | undefined;
      try {
        record = reader.nextRecord();
      } catch (error) {
        end.truncation = { offset: parsed, reason: `unreadable data after byte ${parsed}: ${errorText(error)}` };
        return;
      }
      if (record === undefined) break;
      parsed = appended - reader.bytesRemaining();
      yield record;
    }
    if (reader.done()) return;
    if (appended >= size) {
      const reason =
        parsed === size
          ? `file ends at byte ${size} without a footer or summary (recording cut off?)`
          : `file ends at byte ${size} inside a record that starts at byte ${parsed} (recording cut off?)`;
      end.truncation = { offset: parsed, reason };
      return;
    }
    const { bytesRead } = await file.read(block, 0, Math.min(block.length, size - appended), appended);
    if (bytesRead === 0) {
      end.truncation = { offset: parsed, reason: `file shrank to ${appended} bytes while reading` };
      return;
    }
    // append() copies into the reader's own buffer, so `block` can be reused.
    reader.append(block.subarray(0, bytesRead));
    appended += bytesRead;
  }
}

function channelInfos(
  channels: ReadonlyMap<number, McapTypes.Channel>,
  schemas: ReadonlyMap<number, McapTypes.Schema>,
): Map<number, ChannelInfo> {
  const out = new Map<number, ChannelInfo>();
  for (const ch of channels.values()) {
    const schema = schemas.get(ch.schemaId);
    out.set(ch.id, {
      id: ch.id,
      topic: ch.topic,
      schemaName: schema?.name ?? "",
      schemaEncoding: schema?.encoding ?? "",
      messageEncoding: ch.messageEncoding,
    });
  }
  return out;
}

function requireRos2Cdr(ch: ChannelInfo, path: string): void {
  const where = `${path}: channel ${ch.id} (topic ${ch.topic}, type "${ch.schemaName}")`;
  if (ch.schemaEncoding !== "ros2msg") {
    throw new Error(`${where} has schema encoding "${ch.schemaEncoding}"; only ros2msg is supported`);
  }
  if (ch.messageEncoding !== "cdr") {
    throw new Error(`${where} has message encoding "${ch.messageEncoding}"; only cdr is supported`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
