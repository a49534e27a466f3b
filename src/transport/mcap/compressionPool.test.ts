// Chunk compression in worker threads: files written through ChunkCompressorPool are byte for byte
// the main-thread compressor's (so every chunk, index, summary and CRC is as before), read back by
// @mcap/core's readers with CRC validation and by openBag; chunks that come back out of order are
// written in order; a failing or dying worker rejects the write or close (no hang); and no worker
// outlives a writer that was discarded, failed or left open.

import { spawn } from "node:child_process";
import { mkdtemp, open, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openBag } from "./bagReader.js";
import { BagWriter } from "./bagWriter.js";
import { chunkCompressor, type CompressedChunk, type OffThreadChunkCompressor } from "./chunkCompression.js";
import { ChunkCompressorPool, defaultCompressionWorkers, MAX_COMPRESSION_WORKERS, type WorkerCompression } from "./compressionPool.js";
import { decompressHandlers } from "./decompressHandlers.js";
import { FileReadable } from "./fileReadable.js";
import { FileWritable } from "./fileWritable.js";
import { McapFileWriter } from "./mcapFileWriter.js";
import { EXITS_AT_START, EXITS_ON_CHUNK, REFUSES_CHUNKS, THROWS_ON_CHUNK } from "./fixtures/compressionStandIns.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "depthseg-pool-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Written {
  readonly topic: string;
  readonly logTime: bigint;
  readonly data: Uint8Array;
}

const SMALL_TOPICS = ["/status", "/camera_info", "/label_info"];
const LARGE_TOPICS = ["/points", "/depth"];

/**
 * 400 small messages (10 B - 4 KB) on three topics and, every 50th, a large one (2-5.5 MiB, a
 * compressible float ramp with a noisy stretch, like depth and a cloud); log times unique, some
 * out of order.
 */
function mixedMessages(): Written[] {
  const messages: Written[] = [];
  for (let i = 0; i < 400; i++) {
    const logTime = BigInt(1_000 + i * 10 + (i % 7 === 3 ? -25 : 0));
    if (i % 50 === 25) {
      const floats = (512 + (i % 4) * 256) * 1024; // 2, 3, 4 or 5 MiB of float32
      const ramp = Float32Array.from({ length: floats }, (_, k) => 0.5 + (k % 640) * 0.01 + i);
      const data = new Uint8Array(ramp.buffer);
      for (let k = 0; k < 256 * 1024; k++) data[k] = (k * 2654435761) >>> 24; // 256 KiB that compress badly
      messages.push({ topic: LARGE_TOPICS[i % 2]!, logTime, data });
    } else {
      const data = Uint8Array.from({ length: 10 + ((i * 977) % 4000) }, (_, k) => (k % 13) * (i % 5) + (k >> 4));
      messages.push({ topic: SMALL_TOPICS[i % 3]!, logTime, data });
    }
  }
  return messages;
}

/** Writes `messages` with McapFileWriter (64 KiB chunks, schemas and channels on first use); returns the file's bytes. */
async function writeMcap(path: string, compressChunk: ConstructorParameters<typeof McapFileWriter>[0]["compressChunk"], messages: readonly Written[]): Promise<Uint8Array> {
  const file = await open(path, "w");
  try {
    const writer = new McapFileWriter({ writable: new FileWritable(file), chunkSize: 64 * 1024, ...(compressChunk ? { compressChunk } : {}) });
    await writer.start({ profile: "ros2", library: "depthseg" });
    const schemaId = writer.registerSchema({ name: "pkg/msg/Blob", encoding: "ros2msg", data: new TextEncoder().encode("uint8[] data\n") });
    const channels = new Map<string, number>();
    const sequences = new Map<string, number>();
    for (const m of messages) {
      let channelId = channels.get(m.topic);
      if (channelId === undefined) {
        channelId = writer.registerChannel({ topic: m.topic, schemaId, messageEncoding: "cdr", metadata: new Map([["offered_qos_profiles", ""]]) });
        channels.set(m.topic, channelId);
      }
      const sequence = sequences.get(m.topic) ?? 0;
      sequences.set(m.topic, sequence + 1);
      await writer.addMessage({ channelId, sequence, logTime: m.logTime, publishTime: m.logTime, data: m.data });
    }
    await writer.end();
  } finally {
    await file.close();
  }
  return new Uint8Array(await readFile(path));
}

/** Every message in file order through McapStreamReader, chunk CRCs validated. */
function streamRead(bytes: Uint8Array): Written[] {
  const reader = new McapStreamReader({ validateCrcs: true, decompressHandlers: decompressHandlers() });
  reader.append(bytes);
  const topics = new Map<number, string>();
  const messages: Written[] = [];
  for (let record; (record = reader.nextRecord()); ) {
    if (record.type === "Channel") topics.set(record.id, record.topic);
    if (record.type === "Message") messages.push({ topic: topics.get(record.channelId) ?? "?", logTime: record.logTime, data: record.data });
  }
  expect(reader.done()).toBe(true);
  return messages;
}

const key = (m: { topic: string; logTime: bigint }): string => `${m.topic}@${m.logTime}`;

function expectSameMessages(read: readonly Written[], written: readonly Written[]): void {
  expect(read.length).toBe(written.length);
  const byKey = new Map(read.map((m) => [key(m), m.data]));
  const mismatched = written.filter((w) => !Buffer.from(byKey.get(key(w)) ?? []).equals(Buffer.from(w.data))).map(key);
  expect(mismatched).toEqual([]);
}

describe("defaultCompressionWorkers", () => {
  it("leaves two cores (main thread, inference) and keeps 1 to MAX_COMPRESSION_WORKERS", () => {
    expect([1, 2, 3, 4, 6, 8, 16, 64].map((cores) => defaultCompressionWorkers(cores))).toEqual([1, 1, 1, 2, 4, 4, 4, 4]);
    expect(MAX_COMPRESSION_WORKERS).toBe(4);
  });
});

describe.each(["zstd", "lz4"] as const)("%s chunks compressed by a 3-worker pool", (compression: WorkerCompression) => {
  const written = mixedMessages();
  let pooled: Uint8Array = new Uint8Array();
  let onMainThread: Uint8Array = new Uint8Array();
  let completionOrder: number[] = [];

  beforeAll(async () => {
    const pool = await ChunkCompressorPool.start({ compression, workers: 3 });
    // Records the order in which chunks come back, to show the writer reorders them.
    completionOrder = [];
    let handedOff = 0;
    const recording: OffThreadChunkCompressor = {
      capacity: pool.capacity,
      compress: (records: ArrayBuffer, length: number, output?: ArrayBuffer): Promise<CompressedChunk> => {
        const n = handedOff++;
        return pool.compress(records, length, output).then((chunk) => {
          completionOrder.push(n);
          return chunk;
        });
      },
    };
    try {
      pooled = await writeMcap(join(dir, `${compression}-pool.mcap`), recording, written);
    } finally {
      await pool.close();
    }
    onMainThread = await writeMcap(join(dir, `${compression}-main.mcap`), await chunkCompressor(compression), written);
  });

  it("writes the same file, byte for byte, as the main-thread compressor", () => {
    expect(pooled.byteLength).toBe(onMainThread.byteLength);
    expect(Buffer.from(pooled).equals(Buffer.from(onMainThread))).toBe(true);
  });

  it("writes chunks in the order they were filled although later ones came back first", () => {
    const outOfOrder = completionOrder.filter((n, i) => i > 0 && n < completionOrder[i - 1]!).length;
    expect(completionOrder.length).toBeGreaterThan(10);
    expect(outOfOrder).toBeGreaterThan(0);
    const messages = streamRead(pooled);
    // File order is the order written: every message, same bytes.
    expect(messages.map(key)).toEqual(written.map(key));
    expectSameMessages(messages, written);
  });

  it("McapIndexedReader (summary and chunk CRCs validated) reads every message back, with statistics and chunk indexes", async () => {
    const path = join(dir, `${compression}-pool.mcap`);
    const file = await open(path, "r");
    try {
      const reader = await McapIndexedReader.Initialize({ readable: new FileReadable(file, pooled.byteLength), decompressHandlers: decompressHandlers() });
      expect(reader.statistics?.messageCount).toBe(BigInt(written.length));
      expect(reader.statistics?.chunkCount).toBe(reader.chunkIndexes.length);
      expect(reader.chunkIndexes.length).toBe(completionOrder.length);
      const offsets = reader.chunkIndexes.map((c) => c.chunkStartOffset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
      expect(reader.chunkIndexes.every((c) => c.compression === compression && c.compressedSize < c.uncompressedSize)).toBe(true);
      const read: Written[] = [];
      for await (const m of reader.readMessages({ validateCrcs: true })) read.push({ topic: reader.channelsById.get(m.channelId)!.topic, logTime: m.logTime, data: m.data });
      expectSameMessages(read, written);
      // Log-time order across chunks, as the message indexes give it.
      expect(read.map((m) => m.logTime)).toEqual(written.map((m) => m.logTime).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    } finally {
      await file.close();
    }
  });

  it("openBag reads it as intact (chunk CRCs checked) with every message", async () => {
    const bag = await openBag(join(dir, `${compression}-pool.mcap`));
    try {
      expect(bag.indexed).toBe(true);
      const read: Written[] = [];
      for await (const m of bag.messages()) read.push({ topic: m.topic, logTime: m.logTime, data: m.data });
      expect(bag.damage).toEqual([]);
      expect(bag.notes).toEqual([]);
      expectSameMessages(read, written);
    } finally {
      await bag.close();
    }
  });
});

describe("BagWriter with compression workers", () => {
  it("writes the file the main-thread writer (compressionWorkers 0) writes, and removes nothing but its pool on close", async () => {
    const written = mixedMessages().slice(0, 120);
    const bytes: Uint8Array[] = [];
    for (const compressionWorkers of [2, 0]) {
      const path = join(dir, `bag-${compressionWorkers}.mcap`);
      const writer = await BagWriter.create(path, { compression: "zstd", compressionWorkers });
      for (const m of written) await writer.writeRaw(m.topic, "sensor_msgs/msg/Image", m.logTime, m.data);
      await writer.close();
      bytes.push(new Uint8Array(await readFile(path)));
      expect(writer.bytesWritten).toBe(bytes.at(-1)!.byteLength);
    }
    expect(Buffer.from(bytes[0]!).equals(Buffer.from(bytes[1]!))).toBe(true);
    const bag = await openBag(join(dir, "bag-2.mcap"));
    try {
      const read: Written[] = [];
      for await (const m of bag.messages()) read.push({ topic: m.topic, logTime: m.logTime, data: m.data });
      expect(bag.damage).toEqual([]);
      expectSameMessages(read, written);
    } finally {
      await bag.close();
    }
  });
});

/** Writes 2 MiB messages through McapFileWriter and the pool until a call rejects; resolves to that error's message. */
async function writeUntilRejected(pool: ChunkCompressorPool, name: string): Promise<string> {
  const file = await open(join(dir, name), "w");
  try {
    const writer = new McapFileWriter({ writable: new FileWritable(file), compressChunk: pool });
    await writer.start({ profile: "ros2", library: "depthseg" });
    const channelId = writer.registerChannel({ topic: "/depth", schemaId: 0, messageEncoding: "cdr", metadata: new Map() });
    const data = new Uint8Array(2 * 2 ** 20).fill(7);
    try {
      for (let i = 0; i < 12; i++) await writer.addMessage({ channelId, sequence: i, logTime: BigInt(i), publishTime: BigInt(i), data });
      await writer.end();
    } catch (error) {
      // Any later call fails the same way.
      await expect(writer.end()).rejects.toThrow((error as Error).message);
      return (error as Error).message;
    }
    return "no call rejected";
  } finally {
    await file.close();
  }
}

describe("ChunkCompressorPool failures", () => {
  it.each([
    ["answers with an error", REFUSES_CHUNKS, "zstd chunk compression failed: Error during compression (stand-in)"],
    ["exits", EXITS_ON_CHUNK, "zstd compression worker exited unexpectedly (code 3)"],
    ["throws an uncaught exception", THROWS_ON_CHUNK, "zstd compression worker crashed: boom (stand-in)"],
  ] as const)("a worker that %s rejects the write or close with that reason, and every later chunk", async (_, entry, reason) => {
    const pool = await ChunkCompressorPool.start({ compression: "zstd", workers: 2, entry });
    try {
      expect(await writeUntilRejected(pool, `fail-${reason.length}.mcap`)).toBe(reason);
      await expect(pool.compress(new ArrayBuffer(8), 8)).rejects.toThrow(reason);
    } finally {
      await pool.close(); // resolves: every thread is gone
    }
  }, 20_000);

  it("a worker that dies while starting fails start(), naming why", async () => {
    await expect(ChunkCompressorPool.start({ compression: "lz4", workers: 2, entry: EXITS_AT_START })).rejects.toThrow("lz4 compression worker exited while starting (code 5)");
  });

  it("close() rejects chunks still compressing, and later ones", async () => {
    const pool = await ChunkCompressorPool.start({ compression: "zstd", workers: 1 });
    const big = new Uint8Array(8 * 2 ** 20).map((_, k) => k % 251);
    const pending = pool.compress(big.buffer, big.byteLength);
    expect(big.byteLength).toBe(0); // transferred, not copied
    const rejected = expect(pending).rejects.toThrow("zstd chunk compression was stopped (the writer was closed)");
    await pool.close();
    await rejected;
    await expect(pool.compress(new ArrayBuffer(8), 8)).rejects.toThrow("was stopped");
  });
});

describe("no compression worker outlives its writer", () => {
  const CHILD = fileURLToPath(new URL("./fixtures/poolExit.ts", import.meta.url));

  /** Runs poolExit.ts; resolves with its exit code, signal and stdout, or kills it after 30 s (signal SIGKILL). */
  async function runChild(how: string, childDir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, how, childDir], { stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    return new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  it.each([
    ["discard", "discarded, partial file left: false\n"],
    ["fails", "failed: zstd chunk compression failed: Error during compression (stand-in)\n"],
    ["unclosed", "left open\n"],
  ])("the process ends by itself after %s", async (how, said) => {
    const childDir = await mkdtemp(join(dir, `${how}-`));
    const ended = await runChild(how, childDir);
    expect(ended.stderr).toBe("");
    expect(ended).toMatchObject({ code: 0, signal: null, stdout: said });
    if (how === "discard") expect(await readdir(childDir)).toEqual([]);
  }, 40_000);
});
