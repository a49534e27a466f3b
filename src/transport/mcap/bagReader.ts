// Reads rosbag2 MCAP files, losing no message that is intact. A complete file is read through
// its chunk index, anything else (cut off, damaged, no summary) by walking its records; every
// chunk is checked against its CRC, and damaged ones are skipped and reported (bagLayout.ts).
// Messages come in log-time order, merging chunks that overlap in time.

import { open, type FileHandle } from "node:fs/promises";

import { MCAP_MAGIC, Opcode, type McapTypes } from "@mcap/core";

import {
  BagBytes,
  ChunkCopies,
  checkChunk,
  countIndexedMessages,
  readLayout,
  type BagDamage,
  type BagDuplicate,
  type BagLayout,
  type ChunkSlot,
  type LooseRange,
} from "./bagLayout.js";
import { decompressHandlers } from "./decompressHandlers.js";
import { RECORD_HEADER_BYTES, parseMessage, type MessageHead } from "./records.js";

export { formatDamage, type BagDamage, type BagDuplicate } from "./bagLayout.js";

export interface BagTopic {
  readonly topic: string;
  /** e.g. "sensor_msgs/msg/Image"; empty when the channel has no schema. */
  readonly schemaName: string;
  readonly schemaEncoding: string;
  readonly messageEncoding: string;
  /** From the summary statistics, or the messages counted in the intact chunks of a damaged file. */
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

export interface BagReader {
  readonly path: string;
  readonly topics: readonly BagTopic[];
  /** Total messages when known (statistics, or counted in the intact chunks of a damaged file). */
  readonly messageCount: number | undefined;
  /** True when the file's summary passed its CRC and its chunk index is used. */
  readonly indexed: boolean;
  /**
   * Byte ranges whose messages could not be read (damaged chunks, a cut-off end), in file order.
   * A file without a usable summary is checked whole on open; an indexed one chunk by chunk as
   * messages() reads them, so this is complete once an iteration over every topic has ended.
   */
  readonly damage: readonly BagDamage[];
  /** Chunks that are exact copies of earlier ones; their messages are yielded once. */
  readonly duplicates: readonly BagDuplicate[];
  /** Damaged parts that cost no message (summary, message index, header), for the report. */
  readonly notes: readonly string[];
  /**
   * Messages of the given topics (all when omitted), in log-time order (file order for a file
   * written without chunks). Throws naming the channel when a selected channel is not
   * ros2msg/cdr, and naming the topic when it is not in the bag.
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

export async function openBag(path: string): Promise<BagReader> {
  const file = await open(path, "r");
  try {
    const stat = await file.stat();
    if (stat.isDirectory()) throw new Error(`${path} is a directory; pass the .mcap file inside it`);
    const bytes = new BagBytes(file, stat.size);
    const notes = await requireMagic(bytes, path);
    const layout = await readLayout(bytes, decompressHandlers());
    layout.notes.unshift(...notes);
    return new Bag(path, file, bytes, layout);
  } catch (error) {
    await file.close();
    throw error;
  }
}

/**
 * Refuses a file that is not MCAP. A damaged magic is only a note when a Header record follows
 * it or the file ends with the magic: one flipped byte there should not cost the whole bag.
 */
async function requireMagic(bytes: BagBytes, path: string): Promise<string[]> {
  const prefix = await bytes.read(0, MCAP_MAGIC.length);
  if (prefix.byteLength === MCAP_MAGIC.length && MCAP_MAGIC.every((byte, i) => prefix[i] === byte)) return [];
  if (bytes.size === 0) throw new Error(`${path} is not an MCAP file: the file is empty`);
  const header = await bytes.recordHeader(MCAP_MAGIC.length);
  const suffix = await bytes.read(bytes.size - MCAP_MAGIC.length, MCAP_MAGIC.length);
  const endsWithMagic = bytes.size >= 2 * MCAP_MAGIC.length && MCAP_MAGIC.every((byte, i) => suffix[i] === byte);
  const headerFollows = header?.opcode === Opcode.HEADER && header.length < 1n << 20n;
  if (!endsWithMagic && !headerFollows) {
    throw new Error(`${path} is not an MCAP file: it does not start with the MCAP magic bytes`);
  }
  return [`the MCAP magic at bytes 0-${MCAP_MAGIC.length} is damaged; the records after it were read`];
}

/** A chunk's messages, sorted by log time, being merged with those of overlapping chunks. */
interface ChunkCursor {
  readonly order: number;
  readonly messages: readonly MessageHead[];
  next: number;
}

class Bag implements BagReader {
  readonly indexed: boolean;
  readonly #channels: Map<number, ChannelInfo>;
  readonly #damage = new Map<number, BagDamage>();
  readonly #duplicates = new Map<number, BagDuplicate>();
  /** Exact copies among the chunks of an indexed file (a walked file's layout has none left). */
  readonly #copies = new ChunkCopies();
  readonly #decompressors = decompressHandlers();
  #closed = false;

  constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly bytes: BagBytes,
    private readonly layout: BagLayout,
  ) {
    this.indexed = layout.indexed;
    this.#channels = channelInfos(layout.channels, layout.schemas);
    for (const damage of layout.damage) this.#damage.set(damage.start, damage);
    for (const duplicate of layout.duplicates) this.#duplicates.set(duplicate.start, duplicate);
  }

  get messageCount(): number | undefined {
    const { counts } = this.layout;
    if (counts === undefined) return undefined;
    let total = 0;
    for (const n of counts.values()) total += n;
    return total;
  }

  get damage(): readonly BagDamage[] {
    return [...this.#damage.values()].sort((a, b) => a.start - b.start);
  }

  get duplicates(): readonly BagDuplicate[] {
    return [...this.#duplicates.values()].sort((a, b) => a.start - b.start);
  }

  get notes(): readonly string[] {
    return this.layout.notes;
  }

  get topics(): readonly BagTopic[] {
    const byKey = new Map<string, BagTopic>();
    for (const ch of this.#channels.values()) {
      const key = `${ch.topic}\u0000${ch.schemaName}`;
      const count = this.layout.counts?.get(ch.id);
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

  async *messages(topics?: readonly string[]): AsyncGenerator<BagMessage> {
    const ids = this.#select(topics);
    if (ids.size === 0) return;
    if (this.layout.loose.length > 0) yield* this.#inFileOrder(ids);
    else yield* this.#merged(ids);
  }

  /** Chunks in order of their first message, merged by log time where they overlap. */
  async *#merged(ids: ReadonlySet<number>): AsyncGenerator<BagMessage> {
    const slots = this.layout.chunks
      .filter((slot) => slot.channels === undefined || [...ids].some((id) => slot.channels?.has(id)))
      .sort((a, b) => (a.startTime < b.startTime ? -1 : a.startTime > b.startTime ? 1 : a.start - b.start));
    const active: ChunkCursor[] = [];
    let nextSlot = 0;
    for (;;) {
      // Load every chunk that may hold a message earlier than the earliest one waiting.
      while (nextSlot < slots.length) {
        const slot = slots[nextSlot]!;
        const earliest = earliestCursor(active);
        if (earliest !== undefined && slot.startTime > earliest.messages[earliest.next]!.logTime) break;
        nextSlot++;
        const messages = await this.#loadChunk(slot, ids);
        if (messages.length > 0) active.push({ order: nextSlot, messages, next: 0 });
      }
      const cursor = earliestCursor(active);
      if (cursor === undefined) return;
      const message = cursor.messages[cursor.next++]!;
      if (cursor.next === cursor.messages.length) active.splice(active.indexOf(cursor), 1);
      yield this.#toBagMessage(message);
    }
  }

  /** Files with messages outside chunks: every record in file order (chunks sorted inside). */
  async *#inFileOrder(ids: ReadonlySet<number>): AsyncGenerator<BagMessage> {
    const parts: (ChunkSlot | LooseRange)[] = [...this.layout.chunks, ...this.layout.loose].sort((a, b) => a.start - b.start);
    for (const part of parts) {
      const messages = "number" in part ? await this.#loadChunk(part, ids) : this.#looseMessages(part, ids);
      for await (const message of messages) yield this.#toBagMessage(message);
    }
  }

  async *#looseMessages(range: LooseRange, ids: ReadonlySet<number>): AsyncGenerator<MessageHead> {
    for (let pos = range.start; pos < range.end; ) {
      const header = await this.bytes.recordHeader(pos);
      if (header === undefined) return;
      const length = Number(header.length);
      if (header.opcode === Opcode.MESSAGE) {
        const message = parseMessage(await this.bytes.read(pos + RECORD_HEADER_BYTES, length));
        if (ids.has(message.channelId)) yield message;
      }
      pos += RECORD_HEADER_BYTES + length;
    }
  }

  /**
   * The selected messages of one chunk, sorted by log time. A chunk that fails its check is
   * recorded in `damage` and yields nothing; an exact copy of a chunk already read, too.
   */
  async #loadChunk(slot: ChunkSlot, ids: ReadonlySet<number>): Promise<MessageHead[]> {
    const check = await checkChunk(this.bytes, slot.start, this.#decompressors, {
      knownLength: slot.length,
      ...(slot.index === undefined ? {} : { index: slot.index }),
    });
    if (!check.ok) {
      const messages = await countIndexedMessages(this.bytes, slot.messageIndexOffsets);
      this.#damage.set(slot.start, {
        start: slot.start,
        end: slot.start + slot.length,
        chunk: slot.number,
        ...(messages === undefined ? {} : { messages }),
        reason: check.reason,
      });
      return [];
    }
    const { chunk } = check;
    const duplicate = this.#copies.check(slot.number, slot.start, chunk);
    if (duplicate !== undefined) {
      this.#duplicates.set(slot.start, duplicate);
      return [];
    }
    const selected = chunk.messages.filter((m) => ids.has(m.channelId));
    // A stable sort: messages with the same log time keep their order in the file.
    return selected.sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
  }

  /** Channel ids to read, after checking each selected channel is ros2msg + cdr. */
  #select(topics: readonly string[] | undefined): Set<number> {
    const wanted = topics === undefined ? undefined : new Set(topics);
    if (wanted !== undefined) {
      const present = new Set([...this.#channels.values()].map((ch) => ch.topic));
      const missing = [...wanted].filter((t) => !present.has(t));
      if (missing.length > 0) {
        throw new Error(`${this.path}: no topic ${missing.join(", ")} in the bag; topics: ${[...present].join(", ")}`);
      }
    }
    const ids = new Set<number>();
    for (const ch of this.#channels.values()) {
      if (wanted !== undefined && !wanted.has(ch.topic)) continue;
      requireRos2Cdr(ch, this.path);
      ids.add(ch.id);
    }
    return ids;
  }

  #toBagMessage(message: MessageHead): BagMessage {
    const ch = this.#channels.get(message.channelId)!;
    return {
      topic: ch.topic,
      schemaName: ch.schemaName,
      logTime: message.logTime,
      publishTime: message.publishTime,
      data: message.data.slice(),
    };
  }
}

function earliestCursor(active: readonly ChunkCursor[]): ChunkCursor | undefined {
  let best: ChunkCursor | undefined;
  for (const cursor of active) {
    if (best === undefined) {
      best = cursor;
      continue;
    }
    const a = cursor.messages[cursor.next]!.logTime;
    const b = best.messages[best.next]!.logTime;
    if (a < b || (a === b && cursor.order < best.order)) best = cursor;
  }
  return best;
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
