import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { decompressHandlers } from "./decompressHandlers.js";
import { FileReadable } from "./fileReadable.js";
import { FileWritable } from "./fileWritable.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "depthseg-io-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("FileWritable / FileReadable", () => {
  it("appends in order, tracks the position, and reads ranges back", async () => {
    const path = join(dir, "io.bin");
    const out = await open(path, "w");
    const writable = new FileWritable(out);
    await writable.write(new Uint8Array([1, 2, 3]));
    await writable.write(new Uint8Array([4, 5]));
    expect(writable.position()).toBe(5n);
    await out.close();
    expect(Array.from(await readFile(path))).toEqual([1, 2, 3, 4, 5]);

    const input = await open(path, "r");
    try {
      const readable = new FileReadable(input, 5);
      expect(await readable.size()).toBe(5n);
      expect(Array.from(await readable.read(1n, 3n))).toEqual([2, 3, 4]);
      const a = await readable.read(0n, 2n);
      const b = await readable.read(0n, 2n);
      expect(a.buffer).not.toBe(b.buffer); // callers may keep views into earlier reads
      await expect(readable.read(4n, 2n)).rejects.toThrow(/outside the file \(5 bytes\)/);
    } finally {
      await input.close();
    }
  });
});

describe("decompressHandlers", () => {
  it("offers zstd and lz4 on every Node, and reads what node:zlib's zstd writes where it has it", () => {
    const handlers = decompressHandlers();
    expect(Object.keys(handlers).sort()).toEqual(["lz4", "zstd"]);
    const zstdCompress = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array) => Buffer }).zstdCompressSync;
    if (zstdCompress !== undefined) {
      const raw = new TextEncoder().encode("depthseg ".repeat(50));
      const packed = zstdCompress(raw);
      expect(handlers.zstd?.(packed, BigInt(raw.length))).toEqual(new Uint8Array(raw));
      expect(() => handlers.zstd?.(packed, 1n)).toThrow(/decompressed to 450 bytes, but its uncompressed_size is 1/);
    }
  });
});
