import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { McapStreamReader, type McapTypes } from "@mcap/core";
import { compress as lz4Compress } from "lz4js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { decodeMessage } from "../../messages/cdr.js";
import { openBag, type BagMessage, type BagReader } from "./bagReader.js";
import { decompressHandlers, zstdDecompressor } from "./decompressHandlers.js";
import { compressedBagMessages, writeCompressedBag, type CompressedBagMessage } from "./fixtures/compressedBag.js";

const ZSTD_FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "zstd-chunks.mcap");

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "depthseg-compressed-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(path: string): Promise<{ messages: BagMessage[]; bag: BagReader }> {
  const bag = await openBag(path);
  try {
    const messages: BagMessage[] = [];
    for await (const message of bag.messages()) messages.push(message);
    return { messages, bag };
  } finally {
    await bag.close();
  }
}

/** Every field of every message, decoded from CDR, against what was written. */
function expectSameMessages(got: readonly BagMessage[], expected: readonly CompressedBagMessage[]): void {
  expect(got).toHaveLength(expected.length);
  got.forEach((message, i) => {
    const original = expected[i];
    if (original === undefined) throw new Error(`no original for message ${i}`);
    expect(message.topic).toBe(original.topic);
    expect(message.schemaName).toBe(original.typeName);
    expect(message.logTime).toBe(original.logTime);
    expect(message.publishTime).toBe(original.logTime);
    expect(decodeMessage(original.typeName, message.data)).toEqual(original.message);
  });
}

interface ChunkInFile {
  readonly chunk: McapTypes.Chunk;
  /** File offset of the chunk's compressed records. */
  readonly dataOffset: number;
  /** File offset just past the chunk record. */
  readonly end: number;
}

/** The chunk records of a complete file, with where their compressed bytes lie. */
function chunksOf(file: Uint8Array): ChunkInFile[] {
  const reader = new McapStreamReader({ includeChunks: true, decompressHandlers: decompressHandlers() });
  reader.append(file);
  const out: ChunkInFile[] = [];
  for (let record = reader.nextRecord(); record !== undefined; record = reader.nextRecord()) {
    if (record.type !== "Chunk") continue;
    const dataOffset = Buffer.from(file.buffer, file.byteOffset, file.byteLength).indexOf(record.records);
    out.push({ chunk: record, dataOffset, end: dataOffset + record.records.byteLength });
  }
  expect(reader.done()).toBe(true);
  return out;
}

/** The file cut off just inside chunk `index`: read by streaming, up to the chunk before it. */
function cutInsideChunk(file: Uint8Array, chunks: readonly ChunkInFile[], index: number): { bytes: Uint8Array; lastLogTime: bigint } {
  const cutAt = chunks[index];
  const previous = chunks[index - 1];
  if (cutAt === undefined || previous === undefined) throw new Error(`need chunks ${index - 1} and ${index}`);
  return { bytes: file.slice(0, cutAt.dataOffset + 3), lastLogTime: previous.chunk.messageEndTime };
}

describe("zstd-compressed chunks (committed fixture, as rosbag2's zstd presets write)", () => {
  const expected = compressedBagMessages();
  let file = new Uint8Array();
  let chunks: ChunkInFile[] = [];

  beforeAll(async () => {
    file = new Uint8Array(await readFile(ZSTD_FIXTURE));
    chunks = chunksOf(file);
  });

  it("has several zstd chunks, with and without the frame content size", () => {
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.every(({ chunk }) => chunk.compression === "zstd" && chunk.uncompressedCrc !== 0)).toBe(true);
    // Frame header descriptor: content-size flag (bits 7-6) or single segment (bit 5).
    const hasContentSize = chunks.map(({ chunk }) => ((chunk.records[4] ?? 0) & 0xe0) !== 0);
    expect(hasContentSize).toContain(true);
    expect(hasContentSize).toContain(false);
  });

  it("reads every message back through the index, field by field", async () => {
    const { messages, bag } = await readAll(ZSTD_FIXTURE);
    expect(bag.indexed).toBe(true);
    expect(bag.damage).toEqual([]);
    expect(bag.messageCount).toBe(expected.length);
    expect(bag.topics.map((t) => [t.topic, t.schemaName, t.messageCount])).toEqual([
      ["/camera/image_raw", "sensor_msgs/msg/Image", 3],
      ["/camera/camera_info", "sensor_msgs/msg/CameraInfo", 3],
    ]);
    expectSameMessages(messages, expected);
  });

  it("streams the complete chunks of a cut-off zstd bag", async () => {
    const { bytes, lastLogTime } = cutInsideChunk(file, chunks, chunks.length - 1);
    const path = join(dir, "zstd-cut.mcap");
    await writeFile(path, bytes);
    const { messages, bag } = await readAll(path);
    expect(bag.indexed).toBe(false);
    const complete = expected.filter((m) => m.logTime <= lastLogTime);
    expect(complete.length).toBeGreaterThan(1);
    expect(complete.length).toBeLessThan(expected.length);
    expectSameMessages(messages, complete);
    expect(bag.damage).toHaveLength(1);
    expect(bag.damage[0]?.reason).toMatch(/cut off/);
  });

  it("decompresses with fzstd where node:zlib has no zstd, and with node:zlib where it has", () => {
    const [first] = chunks;
    if (first === undefined) throw new Error("no chunk");
    const size = Number(first.chunk.uncompressedSize);
    expect(zstdDecompressor({})(first.chunk.records)).toHaveLength(size);
    const calls: Uint8Array[] = [];
    const native = zstdDecompressor({
      zstdDecompressSync: (data: Uint8Array) => {
        calls.push(data);
        return new Uint8Array([1, 2, 3]);
      },
    });
    expect(native(first.chunk.records)).toEqual(new Uint8Array([1, 2, 3]));
    expect(calls).toEqual([first.chunk.records]);
  });

  it("checks the decompressed size against the chunk's uncompressed_size", () => {
    const zstd = decompressHandlers().zstd;
    const [first] = chunks;
    if (zstd === undefined || first === undefined) throw new Error("no zstd handler or chunk");
    const { records, uncompressedSize } = first.chunk;
    expect(zstd(records, uncompressedSize)).toHaveLength(Number(uncompressedSize));
    expect(() => zstd(records, uncompressedSize + 1n)).toThrow(
      `zstd chunk of ${records.byteLength} bytes decompressed to ${uncompressedSize} bytes, but its uncompressed_size is ${uncompressedSize + 1n} (corrupt chunk?)`,
    );
  });

  it("names zstd for a corrupt chunk and reads the chunks after it, indexed or walked", async () => {
    const second = chunks[1];
    if (second === undefined) throw new Error("need two chunks");
    const broken = file.slice();
    broken[second.dataOffset] = (broken[second.dataOffset] ?? 0) ^ 0xff; // the zstd frame magic
    const path = join(dir, "zstd-corrupt.mcap");
    await writeFile(path, broken);
    const inSecond = (m: CompressedBagMessage) => m.logTime > (chunks[0]?.chunk.messageEndTime ?? -1n) && m.logTime <= second.chunk.messageEndTime;
    const reason = new RegExp(`^zstd chunk of ${second.chunk.records.byteLength} bytes could not be decompressed \\(corrupt chunk\\?\\): .+`);
    // Indexed: every chunk but the damaged one, which is named with its exact range.
    const indexed = await readAll(path);
    expect(indexed.bag.indexed).toBe(true);
    expectSameMessages(indexed.messages, expected.filter((m) => !inSecond(m)));
    expect(indexed.bag.damage).toEqual([
      { start: expect.any(Number), end: second.end, chunk: 2, messages: expected.filter(inSecond).length, reason: expect.stringMatching(reason) },
    ]);
    const [damage] = indexed.bag.damage;
    expect(damage!.start).toBeGreaterThan(chunks[0]!.end);
    expect(damage!.start).toBeLessThan(second.dataOffset);

    // Walked (cut inside the last chunk, so no summary): the same damaged range, then the chunks after it.
    const cutPath = join(dir, "zstd-corrupt-cut.mcap");
    const { bytes, lastLogTime } = cutInsideChunk(broken, chunks, chunks.length - 1);
    await writeFile(cutPath, bytes);
    const walked = await readAll(cutPath);
    expect(walked.bag.indexed).toBe(false);
    expectSameMessages(walked.messages, expected.filter((m) => !inSecond(m) && m.logTime <= lastLogTime));
    expect(walked.bag.damage[0]).toEqual({ ...damage, reason: expect.stringMatching(reason) });
    expect(walked.bag.damage[1]?.reason).toMatch(/cut off/);
  });
});

describe("lz4-compressed chunks (LZ4 frame format)", () => {
  const expected = compressedBagMessages();
  const path = (): string => join(dir, "lz4.mcap");
  let file = new Uint8Array();
  let chunks: ChunkInFile[] = [];
  const lz4 = (): NonNullable<McapTypes.DecompressHandlers[string]> => {
    const handler = decompressHandlers().lz4;
    if (handler === undefined) throw new Error("no lz4 handler");
    return handler;
  };

  beforeAll(async () => {
    await writeCompressedBag(path(), expected, (chunk) => ({ compression: "lz4", compressedData: lz4Compress(chunk) }));
    file = new Uint8Array(await readFile(path()));
    chunks = chunksOf(file);
  });

  it("reads every message back through the index, field by field", async () => {
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.every(({ chunk }) => chunk.compression === "lz4" && chunk.records.byteLength < chunk.uncompressedSize)).toBe(true);
    const { messages, bag } = await readAll(path());
    expect(bag.indexed).toBe(true);
    expect(bag.messageCount).toBe(expected.length);
    expectSameMessages(messages, expected);
  });

  it("streams the complete chunks of a cut-off lz4 bag", async () => {
    const { bytes, lastLogTime } = cutInsideChunk(file, chunks, chunks.length - 1);
    const cut = join(dir, "lz4-cut.mcap");
    await writeFile(cut, bytes);
    const { messages, bag } = await readAll(cut);
    expect(bag.indexed).toBe(false);
    expectSameMessages(messages, expected.filter((m) => m.logTime <= lastLogTime));
  });

  it("accepts frames with content size, block and content checksums, and stored blocks", () => {
    const raw = Uint8Array.from({ length: 300 }, (_, i) => (i % 10) * 7 + (i < 100 ? i : 0));
    const size = new Uint8Array(8);
    new DataView(size.buffer).setBigUint64(0, BigInt(raw.length), true);
    const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
    // magic, FLG (version 1, independent blocks, block checksum, content size, content checksum), BD 64 KiB
    const header = [...u32(0x184d2204), 0x7c, 0x40, ...size, 0x00];
    const stored = [...u32(0x80000000 | 100), ...raw.subarray(0, 100), ...u32(0)];
    // lz4js writes one compressed block after a 7-byte header; reuse it with a block checksum.
    const compressedFrame = lz4Compress(raw.subarray(100));
    const block = compressedFrame.subarray(7, compressedFrame.length - 4);
    expect((block[3] ?? 0x80) & 0x80).toBe(0); // a compressed block, not a stored one
    const frame = Uint8Array.from([...header, ...stored, ...block.subarray(0, 4), ...block.subarray(4), ...u32(0), ...u32(0), ...u32(0)]);
    expect(lz4()(frame, BigInt(raw.length))).toEqual(raw);
  });

  it("checks the decompressed size against the chunk's uncompressed_size", () => {
    const [first] = chunks;
    if (first === undefined) throw new Error("no chunk");
    const { records, uncompressedSize } = first.chunk;
    for (const claimed of [uncompressedSize + 1n, uncompressedSize - 1n]) {
      expect(() => lz4()(records, claimed)).toThrow(
        `lz4 chunk of ${records.byteLength} bytes decompressed to ${uncompressedSize} bytes, but its uncompressed_size is ${claimed} (corrupt chunk?)`,
      );
    }
    expect(() => lz4()(records, 1n << 60n)).toThrow(/claims 1152921504606846976 uncompressed bytes, more than a buffer can hold/);
  });

  it("rejects malformed frames with a clear error instead of running past the data", () => {
    const [first] = chunks;
    if (first === undefined) throw new Error("no chunk");
    const { records, uncompressedSize } = first.chunk;
    const cases: [Uint8Array, RegExp][] = [
      [Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]), /not an LZ4 frame: magic 0x3020100/],
      [records.subarray(0, 5), /LZ4 frame ends inside the frame header at byte 0/],
      [records.subarray(0, records.length - 10), /LZ4 frame ends inside the block at byte 11/],
      [Uint8Array.from([...records, 9]), /1 unexpected bytes after the LZ4 frame/],
      [Uint8Array.from(records, (b, i) => (i === 4 ? b | 0x01 : b)), /LZ4 frames that need a dictionary are not supported/],
      [
        Uint8Array.from(records, (b, i) => (i === 10 ? 0xff : b)),
        /LZ4 block at byte 7 claims \d+ bytes, more than the frame's 4194304-byte maximum/,
      ],
    ];
    for (const [data, reason] of cases) {
      const message = `^lz4 chunk of ${data.byteLength} bytes could not be decompressed \\(corrupt chunk\\?\\): ${reason.source}`;
      expect(() => lz4()(data, uncompressedSize)).toThrow(new RegExp(message));
    }
  });

  it("reports a corrupt lz4 chunk in a bag instead of returning garbage", async () => {
    const second = chunks[1];
    if (second === undefined) throw new Error("need two chunks");
    const broken = file.slice();
    const inBlock = second.dataOffset + 30; // inside the compressed block, past the frame and block headers
    broken[inBlock] = (broken[inBlock] ?? 0) ^ 0x5a;
    const corrupt = join(dir, "lz4-corrupt.mcap");
    await writeFile(corrupt, broken);
    const { records, uncompressedSize } = second.chunk;
    const { messages, bag } = await readAll(corrupt);
    const inSecond = (m: CompressedBagMessage) => m.logTime > (chunks[0]?.chunk.messageEndTime ?? -1n) && m.logTime <= second.chunk.messageEndTime;
    expectSameMessages(messages, expected.filter((m) => !inSecond(m)));
    expect(bag.damage).toHaveLength(1);
    expect(bag.damage[0]?.reason).toMatch(
      new RegExp(
        `^lz4 chunk of ${records.byteLength} bytes decompressed to \\d+ bytes, but its uncompressed_size is ${uncompressedSize} \\(corrupt chunk\\?\\)$`,
      ),
    );
  });

  it("still names a compression it does not support", async () => {
    const snappy = join(dir, "snappy.mcap");
    await writeCompressedBag(snappy, expected, (chunk) => ({ compression: "snappy", compressedData: chunk }));
    const { messages, bag } = await readAll(snappy);
    expect(messages).toEqual([]);
    expect(bag.damage.length).toBeGreaterThanOrEqual(3);
    expect(bag.damage.every((d) => d.reason === `chunk compression "snappy" is not supported (zstd, lz4 and none are)`)).toBe(true);
  });
});
