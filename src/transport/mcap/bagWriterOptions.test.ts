// BagWriter's chunk compression (zstd, lz4) and offered QoS metadata, read back through our
// reader and @mcap/core's indexed reader with our decompressors.

import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapIndexedReader } from "@mcap/core";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../messages/cdr.js";
import { depthImage, header } from "../../messages/outputs.js";
import type { Image } from "../../messages/types.js";
import { LATCHED_QOS, OUTPUT_QOS } from "../ros/qosProfiles.js";
import { openBag } from "./bagReader.js";
import { BagWriter } from "./bagWriter.js";
import { CHUNK_COMPRESSIONS, type ChunkCompression } from "./chunkCompression.js";
import { decompressHandlers } from "./decompressHandlers.js";
import { FileReadable } from "./fileReadable.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "depthseg-writer-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A smooth 64×48 depth ramp (compressible like real depth), 20 frames. */
function frames(): Image[] {
  return Array.from({ length: 20 }, (_, i) => {
    const depth = Float32Array.from({ length: 64 * 48 }, (_, k) => 1 + (k % 64) / 64 + i / 100);
    return depthImage(header({ sec: i, nanosec: 0 }, "cam"), depth, 64, 48);
  });
}

async function indexed(path: string): Promise<{ reader: McapIndexedReader; close: () => Promise<void> }> {
  const handle = await open(path, "r");
  const size = (await handle.stat()).size;
  const reader = await McapIndexedReader.Initialize({ readable: new FileReadable(handle, size), decompressHandlers: decompressHandlers() });
  return { reader, close: () => handle.close() };
}

describe("BagWriter chunk compression", () => {
  it.each(CHUNK_COMPRESSIONS)("%s: chunks say so, are smaller (except none), and every frame reads back equal", async (compression: ChunkCompression) => {
    const path = join(dir, `${compression}.mcap`);
    const writer = await BagWriter.create(path, { compression, chunkSize: 64 * 1024 });
    const written = frames();
    for (const [i, image] of written.entries()) await writer.write("/depth", "sensor_msgs/msg/Image", BigInt(i + 1), image);
    await writer.close();
    expect(writer.bytesWritten).toBe((await stat(path)).size);

    const { reader, close } = await indexed(path);
    try {
      expect(reader.chunkIndexes.length).toBeGreaterThan(1);
      for (const chunk of reader.chunkIndexes) {
        expect(chunk.compression).toBe(compression === "none" ? "" : compression);
        if (compression === "none") expect(chunk.compressedSize).toBe(chunk.uncompressedSize);
        else expect(Number(chunk.compressedSize)).toBeLessThan(0.8 * Number(chunk.uncompressedSize));
      }
    } finally {
      await close();
    }
    const bag = await openBag(path);
    try {
      const read: Image[] = [];
      for await (const message of bag.messages()) read.push(decodeMessage<Image>("sensor_msgs/msg/Image", message.data));
      expect(read).toEqual(written);
    } finally {
      await bag.close();
    }
  });
});

describe("BagWriter offered_qos_profiles", () => {
  it("writes rosbag2's integer form for known topics (transient local for latched ones) and '' for unknown", async () => {
    const path = join(dir, "qos.mcap");
    const qos = new Map([["/labels/info", LATCHED_QOS], ["/depth", OUTPUT_QOS]]);
    const writer = await BagWriter.create(path, { offeredQos: (topic) => qos.get(topic) });
    const image = frames()[0]!;
    for (const topic of ["/labels/info", "/depth", "/other"]) await writer.write(topic, "sensor_msgs/msg/Image", 1n, image);
    await writer.close();
    const { reader, close } = await indexed(path);
    try {
      const byTopic = new Map([...reader.channelsById.values()].map((c) => [c.topic, c.metadata.get("offered_qos_profiles")]));
      expect(byTopic.get("/other")).toBe("");
      const profile = (topic: string) => (parse(byTopic.get(topic)!) as Record<string, unknown>[])[0];
      // rmw enums: history keep_last 1; reliability reliable 1; durability transient_local 1, volatile 2; liveliness automatic 1.
      expect(profile("/labels/info")).toEqual({
        history: 1, depth: 1, reliability: 1, durability: 1,
        deadline: { sec: 0, nsec: 0 }, lifespan: { sec: 0, nsec: 0 },
        liveliness: 1, liveliness_lease_duration: { sec: 0, nsec: 0 },
        avoid_ros_namespace_conventions: false,
      });
      expect(profile("/depth")).toMatchObject({ history: 1, depth: 1, reliability: 1, durability: 2 });
      // No "rosbag2" metadata record: rosbag2's MCAP plugin then reads QoS as metadata version 8 (integers).
      expect([...reader.metadataIndexes.values()].map((m) => m.name)).not.toContain("rosbag2");
    } finally {
      await close();
    }
  });
});
