// Chunk compressors for the bags we write: zstd (rosbag2's storage presets; WebAssembly build of
// libzstd from @foxglove/wasm-zstd, no native build, works offline) and lz4 (LZ4 frame format,
// pure-JS lz4js). The readers' side is decompressHandlers.ts. BagWriter runs them in worker
// threads (compressionPool.ts) unless told to compress on the main thread.

import { compress as lz4Compress } from "lz4js";

export const CHUNK_COMPRESSIONS = ["zstd", "lz4", "none"] as const;
export type ChunkCompression = (typeof CHUNK_COMPRESSIONS)[number];
/** Chosen by measurement (README, "Output size"): zstd is ~2x smaller than lz4 on depthseg outputs at a similar write speed. */
export const DEFAULT_CHUNK_COMPRESSION: ChunkCompression = "zstd";
/** libzstd's default level: level 1 is barely faster here, 9 much slower for a few % less. */
const ZSTD_LEVEL = 3;

export type ChunkCompressor = (chunk: Uint8Array) => { compression: string; compressedData: Uint8Array };

/** One chunk compressed elsewhere (compressionPool.ts), with the CRCs the Chunk record needs. */
export interface CompressedChunk {
  readonly compression: string;
  readonly compressedData: Uint8Array;
  /** CRC-32 of the uncompressed records: the Chunk record's uncompressed_crc. */
  readonly uncompressedCrc: number;
  /** CRC-32 of compressedData, for the data-section CRC. */
  readonly compressedCrc: number;
  /** The buffer the records were handed over in, given back for the next chunk. */
  readonly records: ArrayBuffer;
}

/** Compresses chunks off the calling thread; each call resolves on its own, in any order. */
export interface OffThreadChunkCompressor {
  /**
   * Compresses the first `length` bytes of `records`, which is transferred (detached here) and
   * handed back in the result. `output`, the buffer of an earlier result's compressedData that
   * is no longer needed, is transferred too and reused for this result when large enough: a
   * buffer made on another thread and moved here counts as new memory to this thread's GC, one
   * moved back and forth does not. Rejects when compression fails or the compressor is gone.
   */
  compress(records: ArrayBuffer, length: number, output?: ArrayBuffer): Promise<CompressedChunk>;
  /** How many chunks may be in flight before a writer should wait for the oldest. */
  readonly capacity: number;
}

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
