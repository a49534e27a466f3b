// Where a bag's data is, and which parts of it are damaged. A file whose summary passes its CRC
// is read through its chunk index; any other file (cut off, damaged summary, no summary) is
// walked record by record from the start. Either way every chunk is checked against its own CRC
// when it is read, a damaged chunk is skipped and reported with its byte range, and reading goes
// on with the next intact chunk: through the chunk index, by the damaged chunk's own length when
// the record after it checks out, else by searching forward for the next chunk that parses and
// passes its CRC (what `mcap recover` does). Message indexes have no CRC and are only used to
// say how many messages a damaged chunk held; messages are read from the chunks themselves.

import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

import { crc32, crc32Final, crc32Init, crc32Update } from "@foxglove/crc";
import { MCAP_MAGIC, Opcode, type McapTypes } from "@mcap/core";

import {
  CHUNK_PREFIX_MAX_BYTES,
  DATA_END_BYTES,
  FOOTER_AND_MAGIC_BYTES,
  RECORD_HEADER_BYTES,
  RecordError,
  isValidOpcode,
  parseChannel,
  parseChunkIndex,
  parseChunkPrefix,
  parseFooter,
  parseHeader,
  parseMessage,
  parseMessageIndex,
  parseSchema,
  parseStatistics,
  splitRecords,
  type ChunkPrefix,
  type MessageHead,
} from "./records.js";

/** A byte range of the file whose messages could not be read. */
export interface BagDamage {
  /** First byte of the range (file offset). */
  readonly start: number;
  /** First byte after the range. */
  readonly end: number;
  /** 1-based position among the file's chunks, when the range is (or starts with) a chunk. */
  readonly chunk?: number;
  /** Messages the range held, when its message index or the summary says. */
  readonly messages?: number;
  readonly reason: string;
}

/** "bytes 1200-5000 (chunk 2, 6 messages): chunk CRC mismatch: ..." */
export function formatDamage(damage: BagDamage): string {
  const what = [
    damage.chunk === undefined ? undefined : `chunk ${damage.chunk}`,
    damage.messages === undefined ? undefined : `${damage.messages} messages`,
  ].filter(Boolean);
  return `bytes ${damage.start}-${damage.end}${what.length > 0 ? ` (${what.join(", ")})` : ""}: ${damage.reason}`;
}

/** A chunk that is a byte-for-byte copy of an earlier one: skipped, so no message comes twice. */
export interface BagDuplicate {
  readonly start: number;
  readonly end: number;
  readonly chunk: number;
  /** The chunk number of the first copy. */
  readonly sameAs: number;
  readonly messages: number;
}

/** Finds chunks that repeat an earlier chunk byte for byte (by content hash). */
export class ChunkCopies {
  /** Chunk number of the first chunk with each content. */
  readonly #first = new Map<string, number>();

  /** The duplicate entry when `chunk` repeats an earlier chunk, else undefined (and it is remembered). */
  check(number: number, start: number, chunk: LoadedChunk): BagDuplicate | undefined {
    const first = this.#first.get(chunk.hash);
    if (first === undefined || first === number) {
      this.#first.set(chunk.hash, number);
      return undefined;
    }
    return { start, end: chunk.end, chunk: number, sameAs: first, messages: chunk.messages.length };
  }
}

/** A chunk to read: where it is and, for ordering, when its messages start. */
export interface ChunkSlot {
  readonly number: number;
  readonly start: number;
  /** Record length as the chunk index or the walk found it (header included). */
  readonly length: number;
  readonly startTime: bigint;
  /** Channels with messages in it (from a trusted chunk index); undefined when not known. */
  readonly channels: ReadonlySet<number> | undefined;
  /** File offsets of its message index records (from a trusted chunk index), to count a damaged one. */
  readonly messageIndexOffsets: readonly bigint[];
  /** What the trusted chunk index says of it, to check a chunk that has no CRC. */
  readonly index?: { readonly compression: string; readonly uncompressedSize: bigint };
}

/** Top-level records outside chunks (files written without chunks), already walked. */
export interface LooseRange {
  readonly start: number;
  readonly end: number;
}

export interface BagLayout {
  /** True when the summary passed its CRC and its chunk index is used. */
  readonly indexed: boolean;
  readonly chunks: readonly ChunkSlot[];
  readonly loose: readonly LooseRange[];
  readonly schemas: ReadonlyMap<number, McapTypes.Schema>;
  readonly channels: ReadonlyMap<number, McapTypes.Channel>;
  /** Messages per channel: the statistics, or what the walk counted in intact chunks. */
  readonly counts: ReadonlyMap<number, number> | undefined;
  readonly damage: BagDamage[];
  readonly duplicates: BagDuplicate[];
  /** Damaged redundant parts that cost no message (summary, message index, header). */
  readonly notes: string[];
}

/** A chunk that passed its CRC, decoded. */
export interface LoadedChunk {
  readonly end: number;
  readonly hash: string;
  readonly schemas: readonly McapTypes.Schema[];
  readonly channels: readonly McapTypes.Channel[];
  /** In chunk order; `data` views into the decompressed chunk. */
  readonly messages: readonly MessageHead[];
  readonly messageStartTime: bigint;
}

type ChunkCheck = { readonly ok: true; readonly chunk: LoadedChunk } | { readonly ok: false; readonly reason: string; readonly cutOff: boolean };

export type Decompressors = McapTypes.DecompressHandlers;

/** Compressions a chunk found by searching may use: a name outside these is not a chunk. */
const SEARCHABLE_COMPRESSIONS = new Set(["", "zstd", "lz4"]);
/** When a chunk's two lengths disagree, the larger is only tried up to this size. */
const MAX_DOUBTFUL_CHUNK_BYTES = 1 << 30;
/** The search for the next intact chunk reads the file in blocks of this size. */
const SEARCH_BLOCK_BYTES = 4 * 1024 * 1024;
/** The largest top-level record other than a chunk that the walk reads whole (schemas, messages). */
const MAX_RECORD_BYTES = 1 << 30;
const DATA_END_PATTERN = [Opcode.DATA_END, 4, 0, 0, 0, 0, 0, 0, 0];

/** Random-access reads of the bag file; reads past the end return what is there. */
export class BagBytes {
  constructor(
    readonly file: FileHandle,
    readonly size: number,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    const count = Math.max(0, Math.min(length, this.size - offset));
    const buffer = new Uint8Array(count);
    let done = 0;
    while (done < count) {
      const { bytesRead } = await this.file.read(buffer, done, count - done, offset + done);
      if (bytesRead === 0) return buffer.subarray(0, done);
      done += bytesRead;
    }
    return buffer;
  }

  /** Opcode and content length of the record at `offset`, or undefined when the file ends first. */
  async recordHeader(offset: number): Promise<{ opcode: number; length: bigint } | undefined> {
    const bytes = await this.read(offset, RECORD_HEADER_BYTES);
    if (bytes.byteLength < RECORD_HEADER_BYTES) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { opcode: view.getUint8(0), length: view.getBigUint64(1, true) };
  }
}

/** Where the chunks and damaged parts of the bag are; messages are read later from the chunks. */
export async function readLayout(bytes: BagBytes, decompressors: Decompressors): Promise<BagLayout> {
  const notes: string[] = [];
  const summary = await readSummary(bytes);
  if (summary.trusted) {
    const layout = indexedLayout(summary);
    if (layout !== undefined) return layout;
  }
  if (summary.problem !== undefined) notes.push(summary.problem);
  return new Walk(bytes, decompressors, summary, notes).run();
}

/**
 * Checks the chunk at `start`: framing from its own prefix (or `knownLength`, when the record
 * length disagrees), decompression, CRC, and the records inside. Never throws.
 */
export async function checkChunk(
  bytes: BagBytes,
  start: number,
  decompressors: Decompressors,
  options: { limit?: number; knownLength?: number; requireCrc?: boolean; index?: ChunkSlot["index"] } = {},
): Promise<ChunkCheck> {
  const limit = options.limit ?? bytes.size;
  const head = await bytes.read(start, RECORD_HEADER_BYTES + CHUNK_PREFIX_MAX_BYTES);
  let prefix: ChunkPrefix;
  try {
    prefix = parseChunkPrefix(head.subarray(RECORD_HEADER_BYTES));
  } catch (error) {
    const cutOff = start + head.byteLength >= bytes.size;
    const reason = cutOff
      ? `the file ends at byte ${bytes.size}, inside this chunk's header (recording cut off?)`
      : `unreadable chunk header: ${errorText(error)}`;
    return { ok: false, cutOff, reason };
  }
  if (options.requireCrc === true && prefix.uncompressedCrc === 0) return { ok: false, cutOff: false, reason: "no CRC" };
  // Without a CRC (or with a zeroed one) only the chunk index can vouch for the header.
  const index = options.index;
  if (prefix.uncompressedCrc === 0 && index !== undefined) {
    if (index.compression !== prefix.compression || index.uncompressedSize !== prefix.uncompressedSize) {
      const says = (c: string, n: bigint) => `${c || "uncompressed"}, ${n} bytes`;
      const header = says(prefix.compression, prefix.uncompressedSize);
      const reason = `its header (${header}, no CRC) disagrees with the chunk index (${says(index.compression, index.uncompressedSize)})`;
      return { ok: false, cutOff: false, reason };
    }
  }
  const recordLength = new DataView(head.buffer, head.byteOffset).getBigUint64(1, true);
  const recordsStart = start + RECORD_HEADER_BYTES + prefix.recordsStart;
  // The chunk's records length, the record length and the chunk index can each be damaged (none
  // has a CRC): every length they give is tried, and the CRC says which one is right.
  const lengths = new Set<bigint>([prefix.recordsLength, recordLength - BigInt(prefix.recordsStart)]);
  if (options.knownLength !== undefined) lengths.add(BigInt(options.knownLength - RECORD_HEADER_BYTES - prefix.recordsStart));
  if (prefix.compression === "") lengths.add(prefix.uncompressedSize);
  // Its own records length first, so a chunk that fails is reported for what it says of itself.
  const candidates = [...lengths]
    .filter((n) => n >= 0n && n <= BigInt(limit - recordsStart))
    .filter((n) => n === prefix.recordsLength || n <= BigInt(MAX_DOUBTFUL_CHUNK_BYTES))
    .sort((a, b) => (a === prefix.recordsLength ? -1 : b === prefix.recordsLength ? 1 : a < b ? -1 : a > b ? 1 : 0));
  if (candidates.length === 0) {
    const end = BigInt(recordsStart) + prefix.recordsLength;
    const cutOff = end > BigInt(bytes.size);
    return {
      ok: false,
      cutOff,
      reason: cutOff
        ? `the file ends at byte ${bytes.size}, inside this chunk, whose records run to byte ${end} (recording cut off?)`
        : `its records length (${prefix.recordsLength} bytes) runs past byte ${limit}`,
    };
  }
  let firstReason = candidates.includes(prefix.recordsLength) ? "" : `its records length (${prefix.recordsLength} bytes) runs past byte ${limit}`;
  for (const length of candidates) {
    const records = await bytes.read(recordsStart, Number(length));
    try {
      const data = chunkData(prefix, records, decompressors);
      const decoded = decodeChunk(data);
      const prefixBytes = head.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + prefix.recordsStart);
      const hash = createHash("sha1").update(prefixBytes).update(records).digest("hex");
      const end = recordsStart + Number(length);
      return { ok: true, chunk: { ...decoded, end, hash, messageStartTime: minLogTime(decoded.messages) ?? prefix.messageStartTime } };
    } catch (error) {
      firstReason ||= errorText(error);
    }
  }
  return { ok: false, cutOff: false, reason: firstReason };
}

/** Messages in a damaged chunk, from its message index records (when they parse). */
export async function countIndexedMessages(bytes: BagBytes, offsets: readonly bigint[]): Promise<number | undefined> {
  let total = 0;
  for (const offset of offsets) {
    const count = await messageIndexEntries(bytes, Number(offset));
    if (count === undefined) return undefined;
    total += count;
  }
  return offsets.length > 0 ? total : undefined;
}

function chunkData(prefix: ChunkPrefix, records: Uint8Array, decompressors: Decompressors): Uint8Array {
  let data = records;
  if (prefix.compression !== "") {
    const decompress = decompressors[prefix.compression];
    if (decompress === undefined) {
      throw new Error(`chunk compression "${prefix.compression}" is not supported (zstd, lz4 and none are)`);
    }
    data = decompress(records, prefix.uncompressedSize);
  } else if (prefix.uncompressedCrc === 0 && BigInt(records.byteLength) !== prefix.uncompressedSize) {
    // Without a CRC the size is the only check; with one, the CRC decides (the size may be the damage).
    throw new RecordError(`uncompressed chunk of ${records.byteLength} bytes, but its uncompressed_size is ${prefix.uncompressedSize}`);
  }
  if (prefix.uncompressedCrc !== 0) {
    const actual = crc32(data);
    if (actual !== prefix.uncompressedCrc) {
      throw new RecordError(`chunk CRC mismatch: the records give ${actual}, the chunk says ${prefix.uncompressedCrc}`);
    }
  }
  return data;
}

function decodeChunk(data: Uint8Array): Pick<LoadedChunk, "schemas" | "channels" | "messages"> {
  const schemas: McapTypes.Schema[] = [];
  const channels: McapTypes.Channel[] = [];
  const messages: MessageHead[] = [];
  for (const record of splitRecords(data)) {
    if (record.opcode === Opcode.SCHEMA) schemas.push(parseSchema(record.content));
    else if (record.opcode === Opcode.CHANNEL) channels.push(parseChannel(record.content));
    else if (record.opcode === Opcode.MESSAGE) messages.push(parseMessage(record.content));
    else if (record.opcode < 0x80) {
      throw new RecordError(`a record with opcode 0x${record.opcode.toString(16)} inside the chunk at byte ${record.offset}`);
    }
  }
  return { schemas, channels, messages };
}

function minLogTime(messages: readonly MessageHead[]): bigint | undefined {
  let min: bigint | undefined;
  for (const m of messages) if (min === undefined || m.logTime < min) min = m.logTime;
  return min;
}

async function messageIndexEntries(bytes: BagBytes, offset: number): Promise<number | undefined> {
  const header = await bytes.recordHeader(offset);
  if (header?.opcode !== Opcode.MESSAGE_INDEX || header.length > BigInt(MAX_RECORD_BYTES)) return undefined;
  const content = await bytes.read(offset + RECORD_HEADER_BYTES, Number(header.length));
  return content.byteLength === Number(header.length) ? messageIndexCount(content) : undefined;
}

/** Entries of a message index record's content, or undefined when it does not parse. */
function messageIndexCount(content: Uint8Array): number | undefined {
  try {
    return parseMessageIndex(content).entries;
  } catch {
    return undefined;
  }
}

interface SummaryRead {
  /** The summary passed its CRC and every record in it parsed. */
  readonly trusted: boolean;
  /** Why the summary is not used, for the notes. */
  readonly problem?: string;
  /** Where the data section ends (the DataEnd record), when the footer and DataEnd say. */
  readonly dataEnd?: number;
  readonly schemas: Map<number, McapTypes.Schema>;
  readonly channels: Map<number, McapTypes.Channel>;
  readonly chunkIndexes: McapTypes.ChunkIndex[];
  readonly statistics?: McapTypes.Statistics;
}

async function readSummary(bytes: BagBytes): Promise<SummaryRead> {
  const empty = { trusted: false, schemas: new Map(), channels: new Map(), chunkIndexes: [] };
  const { size } = bytes;
  if (size < MCAP_MAGIC.length + FOOTER_AND_MAGIC_BYTES) return { ...empty, problem: "the file is too short to hold a footer" };
  const footerAt = size - FOOTER_AND_MAGIC_BYTES;
  const tail = await bytes.read(footerAt, FOOTER_AND_MAGIC_BYTES);
  const magicAt = FOOTER_AND_MAGIC_BYTES - MCAP_MAGIC.length;
  const hasMagic = MCAP_MAGIC.every((b, i) => tail[magicAt + i] === b);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (!hasMagic || view.getUint8(0) !== Opcode.FOOTER || view.getBigUint64(1, true) !== 20n) {
    return { ...empty, problem: "no footer at the end of the file (recording cut off?)" };
  }
  const footer = parseFooter(tail.subarray(RECORD_HEADER_BYTES, magicAt));
  const summaryStart = Number(footer.summaryStart);
  if (footer.summaryStart === 0n) return { ...empty, problem: "the file has no summary section" };
  if (summaryStart < MCAP_MAGIC.length + DATA_END_BYTES || summaryStart > footerAt) {
    return { ...empty, problem: `the footer's summary offset ${footer.summaryStart} lies outside the file (damaged footer?)` };
  }
  const dataEndAt = summaryStart - DATA_END_BYTES;
  const dataEnd = await bytes.read(dataEndAt, DATA_END_BYTES);
  const dataEndFound = DATA_END_PATTERN.every((b, i) => dataEnd[i] === b);
  const section = await bytes.read(summaryStart, footerAt - summaryStart);
  let crc = crc32Init();
  crc = crc32Update(crc, section);
  crc = crc32Update(crc, tail.subarray(0, RECORD_HEADER_BYTES + 16));
  const crcOk = footer.summaryCrc !== 0 && crc32Final(crc) === footer.summaryCrc;
  const read: SummaryRead & { schemas: Map<number, McapTypes.Schema>; channels: Map<number, McapTypes.Channel> } = {
    ...empty,
    trusted: false,
    ...(dataEndFound ? { dataEnd: dataEndAt } : {}),
  };
  let statistics: McapTypes.Statistics | undefined;
  let parseProblem: string | undefined;
  try {
    for (const record of splitRecords(section)) {
      if (record.opcode === Opcode.SCHEMA) read.schemas.set(...withId(parseSchema(record.content)));
      else if (record.opcode === Opcode.CHANNEL) read.channels.set(...withId(parseChannel(record.content)));
      else if (record.opcode === Opcode.CHUNK_INDEX) read.chunkIndexes.push(parseChunkIndex(record.content));
      else if (record.opcode === Opcode.STATISTICS) statistics = parseStatistics(record.content);
    }
  } catch (error) {
    parseProblem = errorText(error);
  }
  const withStats = statistics === undefined ? read : { ...read, statistics };
  const where = `the summary section (bytes ${summaryStart}-${footerAt})`;
  if (footer.summaryCrc === 0) return { ...withStats, problem: `${where} has no CRC, so the data section was checked instead` };
  if (!crcOk) {
    const problem = `${where} fails its CRC: schemas, channels and chunks were taken from the data section instead`;
    return { ...withStats, problem };
  }
  if (parseProblem !== undefined || !dataEndFound) {
    const why = parseProblem ?? "no DataEnd record before it";
    return { ...withStats, problem: `${where} is unreadable (${why}): the data section was read instead` };
  }
  return { ...withStats, trusted: true };
}

function withId<T extends { id: number }>(record: T): [number, T] {
  return [record.id, record];
}

/** The layout from a trusted summary, or undefined when it cannot serve (messages outside chunks). */
function indexedLayout(summary: SummaryRead): BagLayout | undefined {
  const { statistics, chunkIndexes } = summary;
  const empty = statistics?.messageCount === 0n;
  // Messages written outside chunks are not in the chunk index: those files are walked.
  if (chunkIndexes.length === 0 && !empty) return undefined;
  const byOffset = new Map<bigint, McapTypes.ChunkIndex>();
  for (const index of chunkIndexes) if (!byOffset.has(index.chunkStartOffset)) byOffset.set(index.chunkStartOffset, index);
  const sorted = [...byOffset.values()].sort((a, b) => (a.chunkStartOffset < b.chunkStartOffset ? -1 : 1));
  const chunks = sorted.map((index, i): ChunkSlot => ({
    number: i + 1,
    start: Number(index.chunkStartOffset),
    length: Number(index.chunkLength),
    startTime: index.messageStartTime,
    channels: index.messageIndexOffsets.size > 0 ? new Set(index.messageIndexOffsets.keys()) : undefined,
    messageIndexOffsets: [...index.messageIndexOffsets.values()],
    index: { compression: index.compression, uncompressedSize: index.uncompressedSize },
  }));
  const counts =
    statistics === undefined
      ? undefined
      : new Map([...statistics.channelMessageCounts].map(([id, n]): [number, number] => [id, Number(n)]));
  return {
    indexed: true,
    chunks,
    loose: [],
    schemas: summary.schemas,
    channels: summary.channels,
    counts,
    damage: [],
    duplicates: [],
    notes: [],
  };
}

/** Where the search for the next intact chunk stopped, and what it passed that looked like a chunk. */
interface SearchResult {
  readonly next: number;
  /** Offsets of chunk headers passed on the way that failed their check (damaged chunks). */
  readonly failedChunks: number;
}

/** The record-by-record walk over a file whose summary cannot be used. */
class Walk {
  readonly #chunks: ChunkSlot[] = [];
  readonly #loose: LooseRange[] = [];
  readonly #damage: BagDamage[] = [];
  readonly #duplicates: BagDuplicate[] = [];
  // Schemas and channels from CRC-checked chunks win over those outside chunks, which win over
  // the (unverified) summary's.
  readonly #checked = { schemas: new Map<number, McapTypes.Schema>(), channels: new Map<number, McapTypes.Channel>() };
  readonly #outside = { schemas: new Map<number, McapTypes.Schema>(), channels: new Map<number, McapTypes.Channel>() };
  /** Messages per channel in intact chunks and outside chunks. */
  readonly #counts = new Map<number, number>();
  readonly #copies = new ChunkCopies();
  /** Messages per channel of each intact chunk, to report those whose channel is unknown. */
  readonly #chunkChannels: { chunk: number; start: number; end: number; perChannel: Map<number, number> }[] = [];
  /** The damage entry of the chunk just walked past, to add its message index counts to. */
  #lastDamaged: number | undefined;
  #chunkNumber = 0;
  /** The data section ends here (DataEnd) when the footer says so, else at the end of the file. */
  readonly #limit: number;
  /** The last chunk check, so confirming a boundary and walking onto it read the chunk once. */
  #lastCheck: { start: number; check: ChunkCheck } | undefined;

  constructor(
    private readonly bytes: BagBytes,
    private readonly decompressors: Decompressors,
    private readonly summary: SummaryRead,
    private readonly notes: string[],
  ) {
    this.#limit = summary.dataEnd ?? bytes.size;
  }

  async run(): Promise<BagLayout> {
    let pos: number | undefined = await this.#afterHeader();
    while (pos !== undefined && pos < this.#limit) pos = await this.#step(pos);
    const schemas = new Map([...this.summary.schemas, ...this.#outside.schemas, ...this.#checked.schemas]);
    const channels = this.#readableChannels(schemas);
    return {
      indexed: false,
      chunks: this.#chunks,
      loose: this.#loose,
      schemas,
      channels,
      counts: this.#counts,
      damage: this.#damage.sort((a, b) => a.start - b.start),
      duplicates: this.#duplicates,
      notes: this.notes,
    };
  }

  /** Offset of the first record after the header; past a damaged header, the next intact chunk. */
  async #afterHeader(): Promise<number> {
    const at = MCAP_MAGIC.length;
    const header = await this.bytes.recordHeader(at);
    const end = header === undefined ? undefined : BigInt(at + RECORD_HEADER_BYTES) + header.length;
    if (header !== undefined && end !== undefined && end <= BigInt(this.#limit)) {
      if (header.opcode === Opcode.HEADER) {
        try {
          parseHeader(await this.bytes.read(at + RECORD_HEADER_BYTES, Number(header.length)));
          return Number(end);
        } catch {
          // checked below by what follows it
        }
      }
      if (await this.#boundary(Number(end))) {
        this.notes.push(`the header record at bytes ${at}-${Number(end)} is damaged; it holds no messages`);
        return Number(end);
      }
    }
    const { next } = await this.#nextIntact(at + 1);
    if (next >= this.#limit) {
      this.#damage.push({ start: at, end: next, reason: "the header record is damaged and no intact chunk follows it" });
    } else {
      this.notes.push(`the header record at byte ${at} is damaged; reading resumed at the chunk at byte ${next}`);
    }
    return next;
  }

  /** One top-level record at `pos`: returns where the next one starts, or undefined to stop. */
  async #step(pos: number): Promise<number | undefined> {
    const header = await this.bytes.recordHeader(pos);
    if (header === undefined) {
      this.#damage.push({
        start: pos,
        end: this.bytes.size,
        reason: `the file ends at byte ${this.bytes.size} inside a record header (recording cut off?)`,
      });
      return undefined;
    }
    const { opcode, length } = header;
    if (opcode === Opcode.CHUNK) return this.#chunk(pos, length);
    const end = BigInt(pos + RECORD_HEADER_BYTES) + length;
    const fits = end <= BigInt(this.#limit) && length <= BigInt(MAX_RECORD_BYTES);
    const content = fits ? await this.bytes.read(pos + RECORD_HEADER_BYTES, Number(length)) : undefined;
    if (opcode === Opcode.MESSAGE_INDEX && content !== undefined) {
      const entries = messageIndexCount(content);
      if (entries !== undefined) {
        this.#countLastDamaged(entries);
        return Number(end);
      }
    }
    this.#lastDamaged = undefined;
    if (opcode === Opcode.DATA_END && length === 4n) return undefined;
    if (opcode === Opcode.FOOTER && pos === this.bytes.size - FOOTER_AND_MAGIC_BYTES) return undefined;
    // A chunk whose opcode byte is damaged is still a chunk when its content passes the CRC.
    if (content !== undefined && (await this.#chunkWithDamagedOpcode(pos, content))) return this.#chunk(pos, length);
    if (content !== undefined && this.#outsideChunk(opcode, content, pos, Number(end))) return Number(end);
    return this.#unreadable(pos, opcode, end);
  }

  /** Schemas, channels and messages written outside chunks, and records the walk skips. */
  #outsideChunk(opcode: number, content: Uint8Array, start: number, end: number): boolean {
    try {
      switch (opcode) {
        case Opcode.SCHEMA:
          this.#outside.schemas.set(...withId(parseSchema(content)));
          return true;
        case Opcode.CHANNEL:
          this.#outside.channels.set(...withId(parseChannel(content)));
          return true;
        case Opcode.MESSAGE: {
          const { channelId } = parseMessage(content);
          this.#counts.set(channelId, (this.#counts.get(channelId) ?? 0) + 1);
          this.#addLoose(start, end);
          return true;
        }
        case Opcode.MESSAGE_INDEX: // one that parses was taken in #step
        case Opcode.HEADER:
        case Opcode.FOOTER:
        case Opcode.DATA_END:
          return false;
        default:
          // Attachments, metadata and summary records hold no messages; private records are skipped.
          return isValidOpcode(opcode);
      }
    } catch {
      return false;
    }
  }

  /** Messages outside chunks, as ranges of records that messages() walks again. */
  #addLoose(start: number, end: number): void {
    const last = this.#loose.at(-1);
    if (last !== undefined && last.end === start) this.#loose[this.#loose.length - 1] = { start: last.start, end };
    else this.#loose.push({ start, end });
  }

  /** A record that does not parse: skipped by its length when what follows checks, else searched past. */
  async #unreadable(pos: number, opcode: number, end: bigint): Promise<number> {
    const what = `opcode 0x${opcode.toString(16).padStart(2, "0")}`;
    const holdsMessages = opcode === Opcode.MESSAGE || !isValidOpcode(opcode);
    if (end <= BigInt(this.#limit) && (await this.#boundary(Number(end)))) {
      const range = { start: pos, end: Number(end) };
      if (holdsMessages) this.#damage.push({ ...range, reason: `an unreadable record (${what})` });
      else this.notes.push(`a damaged record (${what}) at bytes ${pos}-${range.end} was skipped; it holds no messages`);
      return range.end;
    }
    const { next, failedChunks } = await this.#nextIntact(pos + 1);
    if (next >= this.#limit && end > BigInt(this.bytes.size) && isValidOpcode(opcode) && this.#limit === this.bytes.size) {
      const reason = `the file ends at byte ${this.bytes.size} inside a record (${what}) that starts at byte ${pos} (recording cut off?)`;
      this.#damage.push({ start: pos, end: this.bytes.size, reason });
      return this.bytes.size;
    }
    if (holdsMessages || failedChunks > 0) {
      const chunks = failedChunks > 0 ? `; ${failedChunks} damaged chunk header(s) in it` : "";
      this.#damage.push({ start: pos, end: next, reason: `unreadable bytes (a record with ${what})${chunks}; no intact chunk in this range` });
    } else {
      this.notes.push(`damaged records (${what}) at bytes ${pos}-${next} were skipped; no chunk was in them`);
    }
    return next;
  }

  async #check(start: number): Promise<ChunkCheck> {
    if (this.#lastCheck?.start === start) return this.#lastCheck.check;
    const check = await checkChunk(this.bytes, start, this.decompressors, { limit: this.#limit });
    this.#lastCheck = { start, check };
    return check;
  }

  async #chunkWithDamagedOpcode(pos: number, content: Uint8Array): Promise<boolean> {
    try {
      const prefix = parseChunkPrefix(content);
      if (BigInt(prefix.recordsStart) + prefix.recordsLength !== BigInt(content.byteLength) || prefix.uncompressedCrc === 0) return false;
    } catch {
      return false;
    }
    const check = await this.#check(pos);
    if (check.ok) this.notes.push(`the chunk at byte ${pos} has a damaged opcode byte; its content passes the CRC and was read`);
    return check.ok;
  }

  async #chunk(pos: number, recordLength: bigint): Promise<number> {
    const number = ++this.#chunkNumber;
    this.#lastDamaged = undefined;
    const check = await this.#check(pos);
    if (check.ok) {
      const { chunk } = check;
      if (BigInt(chunk.end - pos - RECORD_HEADER_BYTES) !== recordLength) {
        this.notes.push(`chunk ${number} at byte ${pos}: its record length is damaged; its records pass the CRC and were read`);
      }
      this.#addChunk(number, pos, chunk);
      return chunk.end;
    }
    const end = BigInt(pos + RECORD_HEADER_BYTES) + recordLength;
    if (end <= BigInt(this.#limit) && (await this.#boundary(Number(end)))) {
      this.#damage.push({ start: pos, end: Number(end), chunk: number, reason: check.reason });
      this.#lastDamaged = this.#damage.length - 1;
      return Number(end);
    }
    const { next } = await this.#nextIntact(pos + 1);
    if (check.cutOff && next >= this.#limit) {
      this.#damage.push({ start: pos, end: this.bytes.size, chunk: number, reason: check.reason });
      return this.bytes.size;
    }
    const reason = `${check.reason}; where it ends is unreadable, and nothing intact follows before byte ${next}`;
    this.#damage.push({ start: pos, end: next, chunk: number, reason });
    return next;
  }

  #addChunk(number: number, start: number, chunk: LoadedChunk): void {
    const duplicate = this.#copies.check(number, start, chunk);
    if (duplicate !== undefined) {
      this.#duplicates.push(duplicate);
      return;
    }
    for (const schema of chunk.schemas) this.#checked.schemas.set(schema.id, schema);
    for (const channel of chunk.channels) this.#checked.channels.set(channel.id, channel);
    const perChannel = new Map<number, number>();
    for (const m of chunk.messages) perChannel.set(m.channelId, (perChannel.get(m.channelId) ?? 0) + 1);
    for (const [id, n] of perChannel) this.#counts.set(id, (this.#counts.get(id) ?? 0) + n);
    this.#chunkChannels.push({ chunk: number, start, end: chunk.end, perChannel });
    this.#chunks.push({
      number,
      start,
      length: chunk.end - start,
      startTime: chunk.messageStartTime,
      channels: new Set(perChannel.keys()),
      messageIndexOffsets: [],
    });
  }

  #countLastDamaged(entries: number): void {
    if (this.#lastDamaged === undefined) return;
    const entry = this.#damage[this.#lastDamaged];
    if (entry !== undefined) this.#damage[this.#lastDamaged] = { ...entry, messages: (entry.messages ?? 0) + entries };
  }

  /**
   * Channels whose Channel record and Schema are both readable. Messages in intact chunks on any
   * other channel are lost too (no topic, no type): they are reported as damage.
   */
  #readableChannels(schemas: ReadonlyMap<number, McapTypes.Schema>): Map<number, McapTypes.Channel> {
    const all = new Map([...this.summary.channels, ...this.#outside.channels, ...this.#checked.channels]);
    const readable = new Map([...all].filter(([, ch]) => ch.schemaId === 0 || schemas.has(ch.schemaId)));
    for (const { chunk, start, end, perChannel } of this.#chunkChannels) {
      const unknown = [...perChannel].filter(([id]) => !readable.has(id));
      if (unknown.length === 0) continue;
      const messages = unknown.reduce((sum, [, n]) => sum + n, 0);
      const ids = unknown.map(([id]) => id).join(", ");
      const reason = `its messages on channel ${ids} cannot be read: that channel's Channel or Schema record was only in a damaged part`;
      this.#damage.push({ start, end, chunk, messages, reason });
      for (const [id] of unknown) this.#counts.delete(id);
    }
    return readable;
  }

  /** Whether a record that belongs to an intact file starts at `offset`. */
  async #boundary(offset: number): Promise<boolean> {
    if (offset === this.#limit || offset === this.bytes.size) return true;
    const header = await this.bytes.recordHeader(offset);
    if (header === undefined) return false;
    if (header.opcode === Opcode.MESSAGE_INDEX) return (await messageIndexEntries(this.bytes, offset)) !== undefined;
    if (header.opcode === Opcode.CHUNK) return (await this.#check(offset)).ok;
    if (header.opcode === Opcode.DATA_END) return header.length === 4n;
    return header.opcode === Opcode.FOOTER && offset === this.bytes.size - FOOTER_AND_MAGIC_BYTES;
  }

  /**
   * The first offset at or after `from` where a chunk that parses and passes its CRC starts (the
   * end of the data section when none does), and how many chunk headers failed on the way.
   */
  async #nextIntact(from: number): Promise<SearchResult> {
    const overlap = RECORD_HEADER_BYTES + CHUNK_PREFIX_MAX_BYTES;
    let failedChunks = 0;
    for (let blockStart = from; blockStart < this.#limit; blockStart += SEARCH_BLOCK_BYTES) {
      const block = await this.bytes.read(blockStart, Math.min(SEARCH_BLOCK_BYTES + overlap, this.#limit - blockStart));
      const scanTo = Math.min(SEARCH_BLOCK_BYTES, block.byteLength);
      for (let i = block.indexOf(Opcode.CHUNK); i !== -1 && i < scanTo; i = block.indexOf(Opcode.CHUNK, i + 1)) {
        const at = blockStart + i;
        if (!plausibleChunk(block, i, at, this.#limit)) continue;
        const check = await checkChunk(this.bytes, at, this.decompressors, { limit: this.#limit, requireCrc: true });
        if (check.ok) {
          this.#lastCheck = { start: at, check };
          return { next: at, failedChunks };
        }
        failedChunks++;
      }
    }
    return { next: this.#limit, failedChunks };
  }
}

/** Cheap tests on a chunk prefix found while searching, before reading and checking the chunk. */
function plausibleChunk(block: Uint8Array, i: number, offset: number, limit: number): boolean {
  if (i + RECORD_HEADER_BYTES + CHUNK_PREFIX_MAX_BYTES > block.byteLength && offset + RECORD_HEADER_BYTES + CHUNK_PREFIX_MAX_BYTES <= limit) {
    // The prefix runs past this block but not past the data: the next block starts before it.
    return true;
  }
  try {
    const prefix = parseChunkPrefix(block.subarray(i + RECORD_HEADER_BYTES));
    if (!SEARCHABLE_COMPRESSIONS.has(prefix.compression) || prefix.uncompressedCrc === 0) return false;
    if (prefix.messageStartTime > prefix.messageEndTime) return false;
    const recordsEnd = BigInt(offset + RECORD_HEADER_BYTES + prefix.recordsStart) + prefix.recordsLength;
    return recordsEnd <= BigInt(limit);
  } catch {
    return false;
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
