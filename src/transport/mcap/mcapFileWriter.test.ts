// McapFileWriter against @mcap/core: byte-identical files for small messages, and 640x480
// output frames (written from reused CDR buffers) read back by McapIndexedReader and
// McapStreamReader with CRC validation, every message byte for byte, with the indexes and
// statistics rosbag2 and Foxglove need, and a data-section CRC that matches the bytes.

import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";

import { McapIndexedReader, McapStreamReader, McapWriter, type McapTypes } from "@mcap/core";
import { crc32 as jsCrc32 } from "@foxglove/crc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { POINT_FIELDS, POINT_STEP } from "../../geometry/pointcloud2.js";
import { FrameCdrBuffers } from "../../messages/cdr.js";
import { depthImage, header, labelImage, perceptionStatus, pointCloud2, rgbImage } from "../../messages/outputs.js";
import type { RosMessageMap, RosTypeName } from "../../messages/types.js";
import { BagWriter } from "./bagWriter.js";
import { chunkCompressor } from "./chunkCompression.js";
import { crc32, crc32Combine } from "./crc32.js";
import { decompressHandlers } from "./decompressHandlers.js";
import { FileReadable } from "./fileReadable.js";
import { FileWritable } from "./fileWritable.js";
import { LARGE_MESSAGE_BYTES, McapFileWriter } from "./mcapFileWriter.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "depthseg-mcapwriter-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic pseudo-random bytes (xorshift32). */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe("crc32 / crc32Combine", () => {
  it("crc32 is @foxglove/crc's CRC, incremental", () => {
    const data = noise(100_003, 7);
    expect(crc32(data)).toBe(jsCrc32(data));
    expect(crc32(data.subarray(40_000), crc32(data.subarray(0, 40_000)))).toBe(jsCrc32(data));
  });

  it.each([0, 1, 3, 8, 255, 4096, 65_537, 1_000_003])("crc(A) combined with crc(B) of %d bytes is crc(A B)", (lengthB) => {
    const a = noise(1234, 3);
    const b = noise(lengthB, lengthB + 11);
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    expect(crc32Combine(crc32(a), crc32(b), lengthB)).toBe(zlibCrc32(both));
    expect(crc32Combine(0, crc32(b), lengthB)).toBe(crc32(b));
  });

  it("refuses a length that is not a byte count", () => {
    expect(() => crc32Combine(1, 2, -1)).toThrow(/not a byte count/);
    expect(() => crc32Combine(1, 2, 1.5)).toThrow(/not a byte count/);
  });
});

interface Channelled {
  readonly topic: string;
  readonly schema: string;
  readonly logTime: bigint;
  readonly data: Uint8Array;
}

/** The same calls on either writer: schemas and channels registered on first use. */
async function writeWith(
  writer: Pick<McapWriter, "start" | "addMessage" | "end"> & {
    registerSchema(info: Omit<McapTypes.Schema, "id">): number | Promise<number>;
    registerChannel(info: Omit<McapTypes.Channel, "id">): number | Promise<number>;
  },
  messages: readonly Channelled[],
): Promise<void> {
  await writer.start({ profile: "ros2", library: "depthseg" });
  const schemas = new Map<string, number>();
  const channels = new Map<string, number>();
  const sequences = new Map<string, number>();
  for (const m of messages) {
    let schemaId = schemas.get(m.schema);
    if (schemaId === undefined) {
      schemaId = await writer.registerSchema({ name: m.schema, encoding: "ros2msg", data: new TextEncoder().encode(`# ${m.schema}\nuint8 x\n`) });
      schemas.set(m.schema, schemaId);
    }
    let channelId = channels.get(m.topic);
    if (channelId === undefined) {
      channelId = await writer.registerChannel({ topic: m.topic, schemaId, messageEncoding: "cdr", metadata: new Map([["offered_qos_profiles", ""]]) });
      channels.set(m.topic, channelId);
    }
    const sequence = sequences.get(m.topic) ?? 0;
    sequences.set(m.topic, sequence + 1);
    await writer.addMessage({ channelId, sequence, logTime: m.logTime, publishTime: m.logTime + 5n, data: m.data });
  }
  await writer.end();
}

async function writeFileWith(path: string, make: (writable: FileWritable) => Parameters<typeof writeWith>[0], messages: readonly Channelled[]): Promise<Uint8Array> {
  const file = await open(path, "w");
  try {
    await writeWith(make(new FileWritable(file)), messages);
  } finally {
    await file.close();
  }
  return new Uint8Array(await readFile(path));
}

describe("McapFileWriter, small messages", () => {
  // Three channels, two schemas, sizes from 0 bytes up to just under LARGE_MESSAGE_BYTES, out of order in log time.
  const messages: Channelled[] = Array.from({ length: 60 }, (_, i) => ({
    topic: ["/a", "/b", "/c"][i % 3]!,
    schema: i % 3 === 2 ? "pkg/msg/B" : "pkg/msg/A",
    logTime: BigInt(1000 + ((i * 37) % 60) * 10),
    data: noise(i === 7 ? 0 : i === 11 ? LARGE_MESSAGE_BYTES - 1 : 1 + ((i * 977) % 3000), i + 1),
  }));

  it.each([
    ["uncompressed", "none", 4096],
    ["lz4", "lz4", 4096],
    ["uncompressed, one chunk", "none", 1 << 22],
  ] as const)("%s (chunk size %#s): the file is byte for byte what @mcap/core's McapWriter writes", async (name, compression, chunkSize) => {
    const compressChunk = await chunkCompressor(compression);
    const options = { chunkSize, ...(compressChunk ? { compressChunk } : {}) };
    const ours = await writeFileWith(join(dir, `${name}-ours.mcap`), (writable) => new McapFileWriter({ writable, ...options }), messages);
    const theirs = await writeFileWith(join(dir, `${name}-theirs.mcap`), (writable) => new McapWriter({ writable, ...options }), messages);
    expect(ours.byteLength).toBeGreaterThan(60_000);
    expect(ours.byteLength).toBe(theirs.byteLength);
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  });
});

const WIDTH = 640;
const HEIGHT = 480;
const FRAMES = 4;

type Out = { [K in RosTypeName]: { topic: string; typeName: K; message: RosMessageMap[K] } }[RosTypeName];

/** One 640x480 frame's output messages, as OutputEncoder builds them, each frame's values distinct. */
function frameOutputs(frame: number): Out[] {
  const pixels = WIDTH * HEIGHT;
  const hdr = header({ sec: 100 + frame, nanosec: 0 }, "camera_optical");
  const depth = new Float32Array(pixels).map((_, i) => (i % 41 === 0 ? Number.NaN : 0.5 + ((i + frame * 13) % 900) * 0.01));
  const labels = new Uint16Array(pixels).map((_, i) => (i + frame) % 7);
  const colour = noise(3 * pixels, 100 + frame);
  const cloud = noise(pixels * POINT_STEP, 200 + frame);
  return [
    { topic: "/depthseg/depth/image", typeName: "sensor_msgs/msg/Image", message: depthImage(hdr, depth, WIDTH, HEIGHT) },
    { topic: "/depthseg/depth/colorized", typeName: "sensor_msgs/msg/Image", message: rgbImage(hdr, colour, WIDTH, HEIGHT) },
    {
      topic: "/depthseg/points",
      typeName: "sensor_msgs/msg/PointCloud2",
      message: pointCloud2(hdr, { width: WIDTH, height: HEIGHT, pointStep: POINT_STEP, rowStep: WIDTH * POINT_STEP, fields: POINT_FIELDS, data: cloud, isDense: false }),
    },
    { topic: "/depthseg/segmentation/labels", typeName: "sensor_msgs/msg/Image", message: labelImage(hdr, labels, WIDTH, HEIGHT, 6) },
    {
      topic: "/depthseg/status",
      typeName: "depthseg/msg/PerceptionStatus",
      message: perceptionStatus(hdr, {
        camera: "/camera", model: "m", trainedOn: "", executionProvider: "cpu", depthKind: "metric", depthIsMetric: true, depthHead: "",
        depthScale: 1, depthShift: 0, depthValidFraction: 0.97, timings: {}, totalMs: frame, framesProcessed: frame, framesDropped: 0, framesFailed: 0,
      }),
    },
  ];
}

describe("BagWriter (McapFileWriter) with 640x480 output frames from reused CDR buffers", () => {
  const written: { topic: string; logTime: bigint; bytes: Uint8Array }[] = [];
  let path = "";
  let size = 0;

  beforeAll(async () => {
    path = join(dir, "frames.mcap");
    const writer = await BagWriter.create(path);
    // One set of CDR buffers for every frame, as replay's sink: each write must be done with
    // the bytes before the next frame encodes over them.
    const buffers = new FrameCdrBuffers();
    for (let frame = 0; frame < FRAMES; frame++) {
      const logTime = BigInt(100 + frame) * 1_000_000_000n;
      for (const [slot, out] of frameOutputs(frame).entries()) {
        const bytes = buffers.encode(slot, out.typeName, out.message);
        written.push({ topic: out.topic, logTime, bytes: bytes.slice() });
        await writer.writeRaw(out.topic, out.typeName, logTime, bytes);
      }
    }
    await writer.close();
    size = writer.bytesWritten;
  });

  it("writes messages of real size (the point cloud and depth as their own chunks)", () => {
    const sizes = written.slice(0, 5).map((w) => w.bytes.byteLength);
    expect(sizes[0]).toBeGreaterThan(WIDTH * HEIGHT * 4);
    expect(sizes[2]).toBeGreaterThan(WIDTH * HEIGHT * POINT_STEP);
    expect(size).toBeGreaterThan(FRAMES * 8 * 2 ** 20);
  });

  it("McapIndexedReader (CRCs validated) reads every message back byte for byte, with summary, statistics and chunk indexes", async () => {
    const file = await open(path, "r");
    try {
      const reader = await McapIndexedReader.Initialize({ readable: new FileReadable(file, size), decompressHandlers: decompressHandlers() });
      expect(reader.header).toMatchObject({ profile: "ros2", library: "depthseg" });
      expect(reader.footer.summaryCrc).not.toBe(0); // Initialize checked it
      expect(reader.statistics?.messageCount).toBe(BigInt(written.length));
      expect(reader.statistics?.channelCount).toBe(5);
      expect(reader.statistics?.chunkCount).toBe(reader.chunkIndexes.length);
      expect([...(reader.statistics?.channelMessageCounts.values() ?? [])]).toEqual(Array(5).fill(BigInt(FRAMES)));
      expect(reader.statistics?.messageStartTime).toBe(100_000_000_000n);
      expect(reader.statistics?.messageEndTime).toBe(BigInt(100 + FRAMES - 1) * 1_000_000_000n);
      expect(reader.chunkIndexes.length).toBeGreaterThanOrEqual(4 * FRAMES);
      expect(reader.chunkIndexes.every((c) => c.messageIndexOffsets.size > 0 && c.compression === "" && c.compressedSize === c.uncompressedSize)).toBe(true);
      expect(reader.summaryOffsetsByOpcode.size).toBe(4); // schema, channel, statistics, chunk index
      expect([...reader.channelsById.values()].map((c) => c.topic).sort()).toEqual([...new Set(written.map((w) => w.topic))].sort());
      const read: { topic: string; logTime: bigint; bytes: Uint8Array }[] = [];
      for await (const m of reader.readMessages({ validateCrcs: true })) {
        read.push({ topic: reader.channelsById.get(m.channelId)!.topic, logTime: m.logTime, bytes: m.data });
      }
      expect(read.length).toBe(written.length);
      // Same log time within a frame: compare as sets per (topic, time).
      const key = (w: { topic: string; logTime: bigint }) => `${w.topic}@${w.logTime}`;
      const byKey = new Map(read.map((r) => [key(r), r.bytes]));
      for (const w of written) expect(Buffer.from(byKey.get(key(w)) ?? []).equals(Buffer.from(w.bytes)), key(w)).toBe(true);
    } finally {
      await file.close();
    }
  });

  it("McapStreamReader (chunk CRCs validated) reads the same messages in file order, and DataEnd's CRC is the data section's", async () => {
    const bytes = new Uint8Array(await readFile(path));
    const reader = new McapStreamReader({ validateCrcs: true, decompressHandlers: decompressHandlers() });
    reader.append(bytes);
    const messages: McapTypes.Message[] = [];
    let dataEnd: McapTypes.DataEnd | undefined;
    for (let record; (record = reader.nextRecord()); ) {
      if (record.type === "Message") messages.push(record);
      if (record.type === "DataEnd") dataEnd = record;
    }
    expect(reader.done()).toBe(true);
    expect(messages.map((m) => Buffer.from(m.data).equals(Buffer.from(written[messages.indexOf(m)]!.bytes)))).toEqual(written.map(() => true));
    // DataEnd (13 bytes) starts where the summary section's first record does, minus its own length.
    const footer = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 8 - 29, 29); // Footer record, then magic
    const summaryStart = Number(footer.getBigUint64(9, true));
    expect(dataEnd?.dataSectionCrc).toBe(zlibCrc32(bytes.subarray(0, summaryStart - 13)));
  });
});
