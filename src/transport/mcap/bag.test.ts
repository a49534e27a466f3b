import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { McapIndexedReader, McapWriter } from "@mcap/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { FrameError } from "../../errors.js";
import { decodeMessage } from "../../messages/cdr.js";
import { ROS_TYPE_NAMES, rosTypeSchema } from "../../messages/definitions.js";
import { depthImage, header } from "../../messages/outputs.js";
import { sampleImage, sampleMessages } from "../../messages/samples.js";
import type { Image } from "../../messages/types.js";
import { openBag, type BagMessage, type BagReader } from "./bagReader.js";
import { BagWriter } from "./bagWriter.js";
import { FileReadable } from "./fileReadable.js";
import { FileWritable } from "./fileWritable.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "depthseg-bag-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(bag: BagReader, topics?: readonly string[]): Promise<BagMessage[]> {
  const out: BagMessage[] = [];
  for await (const message of bag.messages(topics)) out.push(message);
  return out;
}

async function withBag<T>(path: string, use: (bag: BagReader) => Promise<T>): Promise<T> {
  const bag = await openBag(path);
  try {
    return await use(bag);
  } finally {
    await bag.close();
  }
}

async function indexedReader(path: string): Promise<{ reader: McapIndexedReader; close: () => Promise<void> }> {
  const file = await open(path, "r");
  const size = (await file.stat()).size;
  const reader = await McapIndexedReader.Initialize({ readable: new FileReadable(file, size) });
  return { reader, close: () => file.close() };
}

const topicOf = (typeName: string): string => `/${typeName.replaceAll("/", "_")}`;

describe("BagWriter + openBag round trip", () => {
  const samples = sampleMessages();
  let path = "";

  beforeAll(async () => {
    path = join(dir, "roundtrip.mcap");
    const writer = await BagWriter.create(path);
    let t = 1_000n;
    for (const typeName of ROS_TYPE_NAMES) {
      await writer.write(topicOf(typeName), typeName, t, samples[typeName], t + 7n);
      t += 1_000n;
    }
    const depth = depthImage(header({ sec: 3, nanosec: 4 }, "depth"), new Float32Array([1, Number.NaN, 2.5, 0]), 2, 2);
    await writer.write("/depth/image", "sensor_msgs/msg/Image", t, depth);
    await writer.close();
  });

  it.each(ROS_TYPE_NAMES)("reads back every field of %s", async (typeName) => {
    await withBag(path, async (bag) => {
      const messages = await collect(bag, [topicOf(typeName)]);
      expect(messages).toHaveLength(1);
      const [message] = messages;
      expect(message?.schemaName).toBe(typeName);
      expect(message?.publishTime).toBe((message?.logTime ?? 0n) + 7n);
      expect(decodeMessage(typeName, message?.data ?? new Uint8Array())).toEqual(samples[typeName]);
    });
  });

  it("keeps NaN in 32FC1 depth and the header", async () => {
    await withBag(path, async (bag) => {
      const [message] = await collect(bag, ["/depth/image"]);
      const image = decodeMessage<Image>("sensor_msgs/msg/Image", message?.data ?? new Uint8Array());
      expect(image).toMatchObject({ encoding: "32FC1", width: 2, height: 2, step: 8, is_bigendian: 0 });
      expect(image.header).toEqual({ stamp: { sec: 3, nanosec: 4 }, frame_id: "depth" });
      const values = new DataView(image.data.buffer, image.data.byteOffset, image.data.byteLength);
      expect([0, 4, 8, 12].map((o) => values.getFloat32(o, true))).toEqual([1, Number.NaN, 2.5, 0]);
    });
  });

  it("lists topics with schema names and counts, in log-time order", async () => {
    await withBag(path, async (bag) => {
      expect(bag.indexed).toBe(true);
      expect(bag.damage).toEqual([]);
      expect(bag.notes).toEqual([]);
      expect(bag.messageCount).toBe(ROS_TYPE_NAMES.length + 1);
      const image = bag.topics.find((t) => t.topic === topicOf("sensor_msgs/msg/Image"));
      expect(image).toEqual({
        topic: "/sensor_msgs_msg_Image",
        schemaName: "sensor_msgs/msg/Image",
        schemaEncoding: "ros2msg",
        messageEncoding: "cdr",
        messageCount: 1,
      });
      const all = await collect(bag);
      expect(all.map((m) => m.logTime)).toEqual(Array.from({ length: ROS_TYPE_NAMES.length + 1 }, (_, i) => BigInt((i + 1) * 1000)));
    });
  });

  it("writes what rosbag2 expects: profile, schemas, channel metadata, indexes, statistics", async () => {
    const { reader, close } = await indexedReader(path);
    try {
      expect(reader.header).toMatchObject({ profile: "ros2", library: "depthseg" });
      const schemas = [...reader.schemasById.values()];
      expect(schemas.map((s) => s.name).sort()).toEqual([...ROS_TYPE_NAMES].sort());
      for (const schema of schemas) {
        expect(schema.encoding).toBe("ros2msg");
        expect(new TextDecoder().decode(schema.data)).toBe(rosTypeSchema(schema.name).schemaText);
      }
      for (const channel of reader.channelsById.values()) {
        expect(channel.messageEncoding).toBe("cdr");
        expect(channel.metadata.get("offered_qos_profiles")).toBe("");
      }
      expect(reader.chunkIndexes.length).toBeGreaterThan(0);
      expect(reader.chunkIndexes[0]?.messageIndexOffsets.size).toBeGreaterThan(0);
      // Uncompressed unless asked (BagWriterOptions.compression; replay asks for zstd).
      expect(reader.chunkIndexes.map((c) => c.compression)).toEqual(reader.chunkIndexes.map(() => ""));
      expect(reader.chunkIndexes.every((c) => c.compressedSize === c.uncompressedSize)).toBe(true);
      expect(reader.statistics?.messageCount).toBe(BigInt(ROS_TYPE_NAMES.length + 1));
      expect(reader.statistics?.channelCount).toBe(ROS_TYPE_NAMES.length + 1);
      expect(reader.statistics?.schemaCount).toBe(ROS_TYPE_NAMES.length); // two Image topics share one schema
    } finally {
      await close();
    }
  });
});

describe("BagWriter behaviour", () => {
  it("sorts by log time across chunks and filters topics", async () => {
    const path = join(dir, "order.mcap");
    const writer = await BagWriter.create(path, { chunkSize: 64 });
    const image = sampleImage();
    for (const [topic, t] of [["/a", 30n], ["/b", 10n], ["/a", 20n], ["/b", 40n]] as const) {
      await writer.write(topic, "sensor_msgs/msg/Image", t, image);
    }
    await writer.close();
    await withBag(path, async (bag) => {
      expect((await collect(bag)).map((m) => `${m.topic}@${m.logTime}`)).toEqual(["/b@10", "/a@20", "/a@30", "/b@40"]);
      expect((await collect(bag, ["/a"])).map((m) => m.logTime)).toEqual([20n, 30n]);
      expect(await collect(bag, [])).toEqual([]);
      await expect(collect(bag, ["/nope"])).rejects.toThrow(/no topic \/nope in the bag; topics: \/a, \/b/);
    });
  });

  it("serialises writes that are not awaited one by one", async () => {
    const path = join(dir, "concurrent.mcap");
    const writer = await BagWriter.create(path, { chunkSize: 256 });
    const image = sampleImage();
    const pending = Array.from({ length: 50 }, (_, i) =>
      writer.write(i % 2 === 0 ? "/even" : "/odd", "sensor_msgs/msg/Image", BigInt(i), image),
    );
    await Promise.all(pending);
    await writer.close();
    await withBag(path, async (bag) => {
      const all = await collect(bag);
      expect(all.map((m) => m.logTime)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));
      expect(bag.topics.map((t) => [t.topic, t.messageCount])).toEqual([
        ["/even", 25],
        ["/odd", 25],
      ]);
    });
  });

  it("rejects a second type on a topic without breaking the writer", async () => {
    const path = join(dir, "mismatch.mcap");
    const writer = await BagWriter.create(path);
    await writer.write("/x", "sensor_msgs/msg/Image", 1n, sampleImage());
    await expect(writer.write("/x", "vision_msgs/msg/LabelInfo", 2n, sampleMessages()["vision_msgs/msg/LabelInfo"])).rejects.toThrow(
      /topic \/x was registered as sensor_msgs\/msg\/Image/,
    );
    await writer.write("/x", "sensor_msgs/msg/Image", 3n, sampleImage());
    await writer.close();
    await expect(writer.write("/x", "sensor_msgs/msg/Image", 4n, sampleImage())).rejects.toThrow(/write after close/);
    await withBag(path, async (bag) => expect((await collect(bag)).map((m) => m.logTime)).toEqual([1n, 3n]));
  });

  it("writeRaw stores bytes as given; decoding them reports the type", async () => {
    const path = join(dir, "raw.mcap");
    const writer = await BagWriter.create(path);
    const junk = new Uint8Array([0, 1, 0, 0, 5, 0, 0]);
    await writer.writeRaw("/camera_info", "sensor_msgs/msg/CameraInfo", 5n, junk);
    await writer.close();
    await withBag(path, async (bag) => {
      const [message] = await collect(bag);
      expect(message?.data).toEqual(junk);
      expect(() => decodeMessage("sensor_msgs/msg/CameraInfo", message?.data ?? junk)).toThrow(FrameError);
      expect(() => decodeMessage("sensor_msgs/msg/CameraInfo", message?.data ?? junk)).toThrow(/sensor_msgs\/msg\/CameraInfo/);
    });
  });
});

describe("openBag on damaged or foreign files", () => {
  const count = 40;
  let full = new Uint8Array();
  let fullMessages: BagMessage[] = [];
  let chunkEnds: { start: number; end: number; lastLogTime: bigint; messageIndexEnd: number }[] = [];

  beforeAll(async () => {
    const path = join(dir, "full.mcap");
    const writer = await BagWriter.create(path, { chunkSize: 400 });
    for (let i = 0; i < count; i++) {
      const image = { ...sampleImage(), header: header({ sec: i, nanosec: 0 }, "cam") };
      await writer.write(i % 3 === 0 ? "/camera_info_like" : "/image", "sensor_msgs/msg/Image", BigInt(1000 + i), image);
    }
    await writer.close();
    full = new Uint8Array(await readFile(path));
    fullMessages = await withBag(path, (bag) => collect(bag));
    const { reader, close } = await indexedReader(path);
    chunkEnds = reader.chunkIndexes.map((c) => ({
      start: Number(c.chunkStartOffset),
      end: Number(c.chunkStartOffset + c.chunkLength),
      lastLogTime: c.messageEndTime,
      messageIndexEnd: Number(c.chunkStartOffset + c.chunkLength + c.messageIndexLength),
    }));
    await close();
  });

  it("yields exactly the messages of complete chunks from a bag cut at 60%", async () => {
    // Inside the chunk at 60% of the file, so the cut costs that chunk.
    const at60 = chunkEnds.find((c) => c.end > full.length * 0.6)!;
    const cut = Math.floor((at60.start + at60.end) / 2);
    const path = join(dir, "cut60.mcap");
    await writeFile(path, full.subarray(0, cut));
    const complete = chunkEnds.filter((c) => c.end <= cut);
    const lastComplete = complete.at(-1);
    expect(chunkEnds.length).toBeGreaterThan(5);
    expect(lastComplete).toBeDefined();
    const expected = fullMessages.filter((m) => m.logTime <= (lastComplete?.lastLogTime ?? -1n));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(count);

    await withBag(path, async (bag) => {
      expect(bag.indexed).toBe(false);
      expect(bag.messageCount).toBe(expected.length);
      expect(bag.topics.map((t) => t.topic).sort()).toEqual(["/camera_info_like", "/image"]);
      const got = await collect(bag);
      expect(got).toEqual(expected);
      for (const message of got) {
        expect(decodeMessage<Image>("sensor_msgs/msg/Image", message.data).header.stamp.sec).toBe(Number(message.logTime - 1000n));
      }
      // The one damaged range is the chunk the cut falls in, from its first byte to the cut.
      const cutChunk = chunkEnds.findIndex((c) => c.end > cut);
      expect(bag.damage).toEqual([
        {
          start: chunkEnds[cutChunk]?.start,
          end: cut,
          chunk: cutChunk + 1,
          reason: expect.stringMatching(new RegExp(`file ends at byte ${cut}, inside this chunk.*cut off`)),
        },
      ]);
      expect(bag.notes).toEqual(["no footer at the end of the file (recording cut off?)"]);
      const images = await collect(bag, ["/image"]);
      expect(images).toEqual(expected.filter((m) => m.topic === "/image"));
    });
  });

  it("yields nothing but reports where a bag cut inside its first chunk breaks", async () => {
    const path = join(dir, "cut-early.mcap");
    const cut = (chunkEnds[0]?.end ?? 100) - 10;
    await writeFile(path, full.subarray(0, cut));
    await withBag(path, async (bag) => {
      expect(await collect(bag)).toEqual([]);
      expect(bag.damage).toMatchObject([{ start: chunkEnds[0]?.start, end: cut, chunk: 1 }]);
      expect(bag.damage[0]?.reason).toContain(`file ends at byte ${cut}`);
    });
  });

  it("skips a corrupted chunk of a cut-off bag, reports its exact range, and reads every chunk after it", async () => {
    const [, second, third, fourth] = chunkEnds;
    if (second === undefined || third === undefined || fourth === undefined) throw new Error("need four chunks");
    // No summary (cut after chunk 4's message index): the file is walked, not read by its index.
    const broken = full.slice(0, fourth.messageIndexEnd);
    const inThirdChunk = Math.floor((third.start + third.end) / 2);
    broken[inThirdChunk] = (broken[inThirdChunk] ?? 0) ^ 0xff;
    const path = join(dir, "corrupt.mcap");
    await writeFile(path, broken);
    const inThird = (m: BagMessage) => m.logTime > second.lastLogTime && m.logTime <= third.lastLogTime;
    const lost = fullMessages.filter(inThird);
    expect(lost.length).toBeGreaterThan(0);
    await withBag(path, async (bag) => {
      expect(await collect(bag)).toEqual(fullMessages.filter((m) => m.logTime <= fourth.lastLogTime && !inThird(m)));
      expect(bag.indexed).toBe(false);
      expect(bag.damage).toEqual([
        { start: third.start, end: third.end, chunk: 3, messages: lost.length, reason: expect.stringMatching(/^chunk CRC mismatch/) },
      ]);
    });
  });

  it("without a summary, reports the messages whose Channel record was only in the damaged chunk", async () => {
    const [first, second, third, fourth] = chunkEnds;
    if (first === undefined || second === undefined || third === undefined || fourth === undefined) throw new Error("need four chunks");
    // /image is first written in chunk 2: its Channel record is there and nowhere else before the summary.
    const firstImage = fullMessages.find((m) => m.topic === "/image")!;
    expect(firstImage.logTime > first.lastLogTime && firstImage.logTime <= second.lastLogTime).toBe(true);
    const broken = full.slice(0, fourth.messageIndexEnd);
    broken[second.start + 100] = (broken[second.start + 100] ?? 0) ^ 0xff;
    const path = join(dir, "lost-channel.mcap");
    await writeFile(path, broken);
    const chunkOf = (m: BagMessage) => chunkEnds.findIndex((c) => m.logTime <= c.lastLogTime) + 1;
    const images = (chunk: number) => fullMessages.filter((m) => m.topic === "/image" && chunkOf(m) === chunk).length;
    await withBag(path, async (bag) => {
      expect((await collect(bag)).map((m) => m.topic)).toEqual(
        fullMessages.filter((m) => m.topic === "/camera_info_like" && chunkOf(m) <= 4 && chunkOf(m) !== 2).map((m) => m.topic),
      );
      expect(bag.damage.map(({ start, end, chunk, messages }) => ({ start, end, chunk, messages }))).toEqual([
        { start: second.start, end: second.end, chunk: 2, messages: fullMessages.filter((m) => chunkOf(m) === 2).length },
        { start: third.start, end: third.end, chunk: 3, messages: images(3) },
        { start: fourth.start, end: fourth.end, chunk: 4, messages: images(4) },
      ]);
      expect(bag.damage[1]?.reason).toMatch(/messages on channel \d+ cannot be read: that channel's Channel or Schema record was only in a damaged part/);
    });
  });

  it("reads every chunk around a damaged one through the index, naming the right chunk", async () => {
    const third = chunkEnds[2];
    if (third === undefined) throw new Error("need three chunks");
    const broken = full.slice();
    broken[third.start + 60] = (broken[third.start + 60] ?? 0) ^ 0x01;
    const path = join(dir, "corrupt-indexed.mcap");
    await writeFile(path, broken);
    await withBag(path, async (bag) => {
      const inThird = (m: BagMessage) => m.logTime > (chunkEnds[1]?.lastLogTime ?? -1n) && m.logTime <= third.lastLogTime;
      expect(await collect(bag)).toEqual(fullMessages.filter((m) => !inThird(m)));
      expect(bag.indexed).toBe(true);
      expect(bag.damage).toEqual([
        { start: third.start, end: third.end, chunk: 3, messages: fullMessages.filter(inThird).length, reason: expect.stringMatching(/CRC/) },
      ]);
    });
  });

  it("recovers a chunk whose opcode or record length is damaged when its content passes the CRC", async () => {
    const [, second, third, fourth] = chunkEnds;
    if (second === undefined || third === undefined || fourth === undefined) throw new Error("need four chunks");
    const expected = fullMessages.filter((m) => m.logTime <= fourth.lastLogTime);
    const cases: [string, (bytes: Uint8Array) => void, RegExp][] = [
      ["opcode", (b) => (b[second.start] = 0x86), /the chunk at byte \d+ has a damaged opcode byte; its content passes the CRC and was read/],
      ["length", (b) => (b[second.start + 2] = b[second.start + 2]! ^ 0x10), /chunk 2 at byte \d+: its record length is damaged; its records pass the CRC and were read/],
    ];
    for (const [name, damage, note] of cases) {
      // Walked (no summary), so nothing but the chunk itself says where it is.
      const broken = full.slice(0, fourth.messageIndexEnd);
      damage(broken);
      const path = join(dir, `header-${name}.mcap`);
      await writeFile(path, broken);
      await withBag(path, async (bag) => {
        expect(await collect(bag), name).toEqual(expected);
        expect(bag.damage, name).toEqual([]);
        expect(bag.notes.some((n) => note.test(n)), `${name}: ${bag.notes.join("; ")}`).toBe(true);
      });
    }
    expect(third.start).toBeGreaterThan(second.end);
  });

  it("streams a complete file that has no chunks or index, without truncation", async () => {
    const path = join(dir, "unchunked.mcap");
    const file = await open(path, "w");
    const writer = new McapWriter({ writable: new FileWritable(file), useChunks: false, useChunkIndex: false });
    await writer.start({ profile: "ros2", library: "test" });
    const schemaId = await writer.registerSchema({
      name: "sensor_msgs/msg/Image",
      encoding: "ros2msg",
      data: new TextEncoder().encode(rosTypeSchema("sensor_msgs/msg/Image").schemaText),
    });
    const channelId = await writer.registerChannel({ topic: "/img", schemaId, messageEncoding: "cdr", metadata: new Map() });
    const data = new Uint8Array([0, 1, 0, 0, 42]);
    await writer.addMessage({ channelId, sequence: 0, logTime: 5n, publishTime: 6n, data });
    await writer.end();
    await file.close();
    await withBag(path, async (bag) => {
      expect(bag.indexed).toBe(false);
      expect(await collect(bag)).toEqual([{ topic: "/img", schemaName: "sensor_msgs/msg/Image", logTime: 5n, publishTime: 6n, data }]);
      expect(bag.damage).toEqual([]);
    });
  });

  it("names the file when it is not an MCAP", async () => {
    const text = join(dir, "notes.mcap");
    await writeFile(text, "this is not a bag\n".repeat(10));
    await expect(openBag(text)).rejects.toThrow(`${text} is not an MCAP file: it does not start with the MCAP magic bytes`);
    const empty = join(dir, "empty.mcap");
    await writeFile(empty, "");
    await expect(openBag(empty)).rejects.toThrow(`${empty} is not an MCAP file: the file is empty`);
    await expect(openBag(dir)).rejects.toThrow(/is a directory/);
  });

  it("names the channel whose encodings are not ros2msg/cdr, and still reads the others", async () => {
    const path = join(dir, "mixed.mcap");
    const file = await open(path, "w");
    const writer = new McapWriter({ writable: new FileWritable(file) });
    await writer.start({ profile: "", library: "test" });
    const jsonSchema = await writer.registerSchema({ name: "foo.Bar", encoding: "jsonschema", data: new Uint8Array() });
    const json = await writer.registerChannel({ topic: "/json", schemaId: jsonSchema, messageEncoding: "json", metadata: new Map() });
    const rosSchema = await writer.registerSchema({ name: "sensor_msgs/msg/Image", encoding: "ros2msg", data: new Uint8Array() });
    const ros = await writer.registerChannel({ topic: "/ros", schemaId: rosSchema, messageEncoding: "cdr", metadata: new Map() });
    const odd = await writer.registerChannel({ topic: "/odd", schemaId: rosSchema, messageEncoding: "ros1", metadata: new Map() });
    for (const channelId of [json, ros, odd]) {
      await writer.addMessage({ channelId, sequence: 0, logTime: 1n, publishTime: 1n, data: new Uint8Array([1]) });
    }
    await writer.end();
    await file.close();
    await withBag(path, async (bag) => {
      await expect(collect(bag, ["/json"])).rejects.toThrow(
        /channel \d+ \(topic \/json, type "foo.Bar"\) has schema encoding "jsonschema"; only ros2msg/,
      );
      await expect(collect(bag, ["/odd"])).rejects.toThrow(/topic \/odd.*message encoding "ros1"; only cdr/);
      await expect(collect(bag)).rejects.toThrow(/topic \/json/);
      expect((await collect(bag, ["/ros"])).map((m) => m.topic)).toEqual(["/ros"]);
    });
  });
});
