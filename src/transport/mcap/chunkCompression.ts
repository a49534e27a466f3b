// Chunk compressors for the bags we write: zstd (rosbag2's storage presets; WebAssembly build of
// libzstd from @foxglove/wasm-zstd, no native build, works offline) and lz4 (LZ4 frame format,
// pure-JS lz4js). The readers' side is decompressHandlers.ts.

import { compress as lz4Compress } from "lz4js";

export const CHUNK_COMPRESSIONS = ["zstd", "lz4", "none"] as const;
export type ChunkCompression = (typeof CHUNK_COMPRESSIONS)[number];
/** Chosen by measurement (README, "Output size"): zstd is ~2x smaller than lz4 on depthseg outputs at a similar write speed. */
export const DEFAULT_CHUNK_COMPRESSION: ChunkCompression = "zstd";
/** libzstd's default level: level 1 is barely faster here, 9 much slower for a few % less. */
const ZSTD_LEVEL = 3;

export type ChunkCompressor = (chunk: Uint8Array) => { compression: string; compressedData: Uint8Array };

export function isChunkCompression(name: string): name is ChunkCompression {
  return (CHUNK_COMPRESSIONS as readonly string[]).includes(name);
}

/** The McapWriter `compressChunk` for `compression`; undefined for "none". */
export async function chunkCompressor(compression: ChunkCompression): Promise<ChunkCompressor | undefined> {
  switch (compression) {
    case "none":
      return undefined;
    case "lz4":
      return (chunk) => ({ compression: "lz4", compressedData: lz4Compress(chunk) });
    case "zstd": {
      const zstd = await import("@foxglove/wasm-zstd");
      await zstd.isLoaded;
      return (chunk) => ({ compression: "zstd", compressedData: zstd.compress(chunk, ZSTD_LEVEL) });
    }
  }
}
