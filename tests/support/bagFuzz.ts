// Seeded corruption of small bags for the reader fuzz test (tests/bag.fuzz.test.ts) and the
// before/after figures (bagFuzzReport.ts): byte flips in chunks, message indexes, the summary,
// the header and the footer; zeroed ranges; truncations; duplicated chunks. For each variant the
// messages of every chunk whose bytes were not touched are known, so a reader can be held to
// "every message of an intact chunk comes out exactly once, and nothing else but originals".

import { open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { McapIndexedReader, McapStreamReader } from "@mcap/core";

import { pinholeCalibration } from "../../src/geometry/pinholeCalibration.js";
import { decompressHandlers } from "../../src/transport/mcap/decompressHandlers.js";
import { FileReadable } from "../../src/transport/mcap/fileReadable.js";
import { cameraInfo, rgb8, stampAt, writeCameraBag } from "./cameraBag.js";

/** A chunk of a pristine bag: its record's byte range and the messages in it. */
export interface FuzzChunk {
  readonly start: number;
  readonly end: number;
  /** End of its message index records. */
  readonly indexEnd: number;
  readonly keys: readonly string[];
  /** Ids of the Channel and Schema records written inside it. */
  readonly channels: readonly number[];
  readonly schemas: readonly number[];
}

export interface FuzzBase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly chunks: readonly FuzzChunk[];
  /** Every message by key (topic @ log time), with its payload. */
  readonly messages: ReadonlyMap<string, Uint8Array>;
  /** Channel id of each message key, and schema id of each channel. */
  readonly channelOf: ReadonlyMap<string, number>;
  readonly schemaOf: ReadonlyMap<number, number>;
  /** Where the summary (DataEnd) starts; the file size when the base has none. */
  readonly dataEnd: number;
  /** End of the header record. */
  readonly headerEnd: number;
}

export type VariantKind =
  | "flip-chunk-content"
  | "flip-chunk-header"
  | "flip-message-index"
  | "flip-summary"
  | "flip-header"
  | "flip-footer"
  | "flip-anywhere"
  | "two-flips"
  | "zero-range"
  | "truncate"
  | "duplicate-chunk";

export interface Variant {
  readonly kind: VariantKind;
  readonly bytes: Uint8Array;
  /**
   * Keys of the messages in chunks no byte of which was changed (nor cut off), whose Channel and
   * Schema records are intact too (in an intact chunk, or in an untouched summary): what a reader
   * must give. A message whose Channel record is lost cannot be given a topic.
   */
  readonly intact: ReadonlySet<string>;
  /** For flip-chunk-content: the 1-based chunk and its range, which the reader must name exactly. */
  readonly damagedChunk?: { readonly number: number; readonly start: number; readonly end: number };
  /** Whether the first 8 bytes (the magic) were changed or cut: "not an MCAP file" is then allowed. */
  readonly magicTouched: boolean;
}

export const messageKey = (topic: string, logTime: bigint): string => `${topic}@${logTime}`;

/** mulberry32: small, seeded, good enough to spread corruptions. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The camera bag the fuzz corrupts: 12 frames (image + CameraInfo), 5 uncompressed chunks. */
export async function cameraFuzzBase(dir: string): Promise<FuzzBase> {
  const calibration = pinholeCalibration(8, 6, 10, 10, 3.5, 2.5);
  const frames = Array.from({ length: 12 }, (_, i) => {
    const stamp = stampAt(i);
    const data = new Uint8Array(8 * 6 * 3).fill(10 + i * 20);
    return { stamp, image: rgb8(stamp, { width: 8, height: 6, data }), info: cameraInfo(stamp, calibration) };
  });
  const path = await writeCameraBag(join(dir, "fuzz-base.mcap"), frames, { chunkSize: 1800 });
  return describeBase("camera", path);
}

/** A pristine bag's chunks and messages, as @mcap/core's readers see them. */
export async function describeBase(name: string, path: string): Promise<FuzzBase> {
  const bytes = new Uint8Array(await readFile(path));
  const file = await open(path, "r");
  let reader: McapIndexedReader;
  try {
    reader = await McapIndexedReader.Initialize({ readable: new FileReadable(file, bytes.byteLength) });
  } finally {
    await file.close();
  }
  const indexes = [...reader.chunkIndexes].sort((a, b) => Number(a.chunkStartOffset - b.chunkStartOffset));
  // The stream reader yields each Chunk record, then the messages inside it.
  const stream = new McapStreamReader({ includeChunks: true, decompressHandlers: decompressHandlers() });
  stream.append(bytes);
  const topics = new Map<number, string>();
  const messages = new Map<string, Uint8Array>();
  const channelOf = new Map<string, number>();
  const schemaOf = new Map<number, number>();
  const inChunks: { keys: string[]; channels: number[]; schemas: number[] }[] = [];
  let inSummary = false;
  for (let record = stream.nextRecord(); record !== undefined; record = stream.nextRecord()) {
    // Schemas and channels after DataEnd are the summary's copies, not a chunk's.
    inSummary ||= record.type === "DataEnd";
    const current = inSummary ? undefined : inChunks.at(-1);
    if (record.type === "Chunk") inChunks.push({ keys: [], channels: [], schemas: [] });
    else if (record.type === "Schema") current?.schemas.push(record.id);
    else if (record.type === "Channel") {
      topics.set(record.id, record.topic);
      schemaOf.set(record.id, record.schemaId);
      current?.channels.push(record.id);
    } else if (record.type === "Message") {
      const key = messageKey(topics.get(record.channelId)!, record.logTime);
      messages.set(key, record.data);
      channelOf.set(key, record.channelId);
      current!.keys.push(key);
    }
  }
  const keysPerChunk = inChunks;
  if (!stream.done() || keysPerChunk.length !== indexes.length) throw new Error(`${path}: not a complete, chunked bag`);
  const chunks = indexes.map((index, i): FuzzChunk => {
    const start = Number(index.chunkStartOffset);
    const end = start + Number(index.chunkLength);
    return { start, end, indexEnd: end + Number(index.messageIndexLength), ...keysPerChunk[i]! };
  });
  const headerEnd = 8 + 9 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(9, true));
  const dataEnd = Number(reader.footer.summaryStart) - 13;
  return { name, bytes, chunks, messages, channelOf, schemaOf, dataEnd, headerEnd };
}

/** The same bag without summary and footer, as a recording cut off after its last chunk: the walked case. */
export function withoutSummary(base: FuzzBase): FuzzBase {
  return { ...base, name: `${base.name}, no summary`, bytes: base.bytes.slice(0, base.dataEnd), dataEnd: base.dataEnd };
}

const KINDS: readonly VariantKind[] = [
  "flip-chunk-content",
  "flip-chunk-header",
  "flip-message-index",
  "flip-summary",
  "flip-header",
  "flip-footer",
  "flip-anywhere",
  "two-flips",
  "zero-range",
  "truncate",
  "duplicate-chunk",
];

/** `count` corrupted variants of `base`, the same for the same seed. */
export function variants(base: FuzzBase, count: number, seed: number): Variant[] {
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo)); // [lo, hi)
  const size = base.bytes.byteLength;
  const hasSummary = base.dataEnd < size;
  const kinds = KINDS.filter((k) => hasSummary || (k !== "flip-summary" && k !== "flip-footer"));
  const out: Variant[] = [];
  for (let n = 0; n < count; n++) {
    const kind = kinds[n % kinds.length]!;
    const bytes = base.bytes.slice();
    const touched: [number, number][] = [];
    const flip = (offset: number) => {
      bytes[offset] = bytes[offset]! ^ int(1, 256);
      touched.push([offset, offset + 1]);
    };
    const chunk = base.chunks[int(0, base.chunks.length)]!;
    let damagedChunk: Variant["damagedChunk"];
    let result = bytes;
    switch (kind) {
      case "flip-chunk-content": {
        // Past the 9-byte record header and the 40-byte uncompressed prefix: inside the records.
        flip(int(chunk.start + 9 + 40, chunk.end));
        damagedChunk = { number: base.chunks.indexOf(chunk) + 1, start: chunk.start, end: chunk.end };
        break;
      }
      case "flip-chunk-header":
        flip(int(chunk.start, chunk.start + 9 + 40));
        break;
      case "flip-message-index":
        flip(int(chunk.end, chunk.indexEnd));
        break;
      case "flip-summary":
        flip(int(base.dataEnd, size - 37));
        break;
      case "flip-header":
        flip(int(0, base.headerEnd));
        break;
      case "flip-footer":
        flip(int(size - 37, size));
        break;
      case "flip-anywhere":
        flip(int(0, size));
        break;
      case "two-flips":
        flip(int(0, size));
        flip(int(0, size));
        break;
      case "zero-range": {
        const start = int(0, size);
        const end = Math.min(size, start + int(1, 257));
        bytes.fill(0, start, end);
        touched.push([start, end]);
        break;
      }
      case "truncate": {
        const cut = int(0, size);
        result = bytes.slice(0, cut);
        touched.push([cut, size]);
        break;
      }
      case "duplicate-chunk": {
        // The chunk and its message indexes again, right after them or at the end of the data.
        const copy = base.bytes.slice(chunk.start, chunk.indexEnd);
        const at = random() < 0.5 ? chunk.indexEnd : base.dataEnd;
        result = new Uint8Array([...base.bytes.subarray(0, at), ...copy, ...base.bytes.subarray(at)]);
        break;
      }
    }
    const hit = (start: number, end: number) => touched.some(([a, b]) => a < end && b > start);
    const intactChunks = base.chunks.filter((c) => !hit(c.start, c.end));
    const summaryIntact = hasSummary && !hit(base.dataEnd, size);
    const defined = (id: number, of: (c: FuzzChunk) => readonly number[]) => summaryIntact || intactChunks.some((c) => of(c).includes(id));
    const readable = (key: string) => {
      const channel = base.channelOf.get(key)!;
      return defined(channel, (c) => c.channels) && defined(base.schemaOf.get(channel)!, (c) => c.schemas);
    };
    const intact = new Set(intactChunks.flatMap((c) => c.keys).filter(readable));
    const magicTouched = touched.some(([a]) => a < 8);
    out.push({ kind, bytes: result, intact, ...(damagedChunk ? { damagedChunk } : {}), magicTouched });
  }
  return out;
}

/** What a reader gave for one variant. */
export interface ReadOutcome {
  /** Keys in the order they came; a key twice is a duplicate. */
  readonly keys: readonly string[];
  /** Keys whose payload differs from the original. */
  readonly corrupted: readonly string[];
  /** The error openBag or iteration threw, if any. */
  readonly error?: string;
  readonly ms: number;
}

/** Anything with openBag's shape: the reader under test (or the original one, for the "before" figure). */
export type OpenReader = (path: string) => Promise<{
  messages(): AsyncIterable<{ topic: string; logTime: bigint; data: Uint8Array }>;
  close(): Promise<void>;
}>;

export async function readVariant(openReader: OpenReader, base: FuzzBase, variant: Variant, path: string): Promise<ReadOutcome> {
  await writeFile(path, variant.bytes);
  const started = performance.now();
  const keys: string[] = [];
  const corrupted: string[] = [];
  try {
    const bag = await openReader(path);
    try {
      for await (const m of bag.messages()) {
        const key = messageKey(m.topic, m.logTime);
        keys.push(key);
        const original = base.messages.get(key);
        if (original === undefined || Buffer.compare(original, m.data) !== 0) corrupted.push(key);
      }
    } finally {
      await bag.close();
    }
  } catch (error) {
    return { keys, corrupted, error: error instanceof Error ? error.message : String(error), ms: performance.now() - started };
  }
  return { keys, corrupted, ms: performance.now() - started };
}

export interface FuzzFigures {
  cases: number;
  /** openBag or messages() threw something other than "not an MCAP file" for a damaged magic. */
  crashes: number;
  /** "not an MCAP file" where the magic was damaged (documented). */
  refused: number;
  /** Messages in intact chunks, summed over the cases; and how many of them came out. */
  intactMessages: number;
  intactRecovered: number;
  /** Cases where at least one message of an intact chunk was missing. */
  casesLosingIntact: number;
  /** Messages that came out more than once, and those that did not match the original. */
  duplicated: number;
  corrupted: number;
  /** Every message that came out once (intact chunks or not). */
  recovered: number;
  slowestMs: number;
}

export function emptyFigures(): FuzzFigures {
  return { cases: 0, crashes: 0, refused: 0, intactMessages: 0, intactRecovered: 0, casesLosingIntact: 0, duplicated: 0, corrupted: 0, recovered: 0, slowestMs: 0 };
}

export function addOutcome(figures: FuzzFigures, variant: Variant, outcome: ReadOutcome): void {
  figures.cases++;
  figures.slowestMs = Math.max(figures.slowestMs, outcome.ms);
  if (outcome.error !== undefined) {
    if (variant.magicTouched && /not an MCAP file/.test(outcome.error)) figures.refused++;
    else figures.crashes++;
  }
  const seen = new Set(outcome.keys);
  figures.duplicated += outcome.keys.length - seen.size;
  figures.corrupted += outcome.corrupted.length;
  figures.recovered += seen.size;
  figures.intactMessages += variant.intact.size;
  const found = [...variant.intact].filter((k) => seen.has(k)).length;
  figures.intactRecovered += found;
  if (found < variant.intact.size) figures.casesLosingIntact++;
}
