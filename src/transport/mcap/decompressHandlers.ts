// Chunk decompressors available without extra packages. rosbag2's zstd presets need zstd,
// which node:zlib only has from Node 22.15; on older Node such chunks fail with a clear
// "Unsupported compression zstd" error. lz4 is never available here.

import * as zlib from "node:zlib";

import type { McapTypes } from "@mcap/core";

interface ZstdZlib {
  zstdDecompressSync(buffer: Uint8Array): Buffer;
}

function hasZstd(module: object): module is ZstdZlib {
  return typeof (module as Partial<ZstdZlib>).zstdDecompressSync === "function";
}

export function decompressHandlers(): McapTypes.DecompressHandlers {
  const handlers: McapTypes.DecompressHandlers = {};
  if (hasZstd(zlib)) {
    const zstd = zlib;
    handlers.zstd = (buffer: Uint8Array, decompressedSize: bigint): Uint8Array => {
      const out = zstd.zstdDecompressSync(buffer);
      if (BigInt(out.byteLength) !== decompressedSize) {
        throw new Error(`zstd chunk decompressed to ${out.byteLength} bytes, expected ${decompressedSize}`);
      }
      return out;
    };
  }
  return handlers;
}
