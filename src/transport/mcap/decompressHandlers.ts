// Chunk decompressors for the compressions MCAP writers use: zstd (rosbag2's storage presets)
// and lz4 (LZ4 frame format, the default of some MCAP tools). zstd uses node:zlib where it
// exists (Node >= 22.15) and the pure-JS fzstd before that; lz4 uses the pure-JS lz4js.
// Every handler checks the output length against the chunk's uncompressed_size and throws a
// message naming the compression when the data is damaged; the MCAP readers then check the
// chunk CRC. The bag reader turns these errors into an error naming the file (indexed
// reading) or a truncation report (streamed reading).

import { constants as bufferConstants } from "node:buffer";
import * as zlib from "node:zlib";

import type { McapTypes } from "@mcap/core";
import { decompress as fzstdDecompress } from "fzstd";
import { decompressBlock as lz4DecompressBlock } from "lz4js";

interface ZstdZlib {
  zstdDecompressSync(buffer: Uint8Array): Uint8Array;
}

function hasZstd(module: object): module is ZstdZlib {
  return typeof (module as Partial<ZstdZlib>).zstdDecompressSync === "function";
}

interface Decompressed {
  readonly output: Uint8Array;
  /** Bytes the compressed data decodes to; may exceed output.length when that was capped. */
  readonly produced: number;
}

type Decompressor = (data: Uint8Array, expectedSize: number) => Decompressed;

export function decompressHandlers(): McapTypes.DecompressHandlers {
  const zstd = zstdDecompressor();
  return {
    zstd: checked("zstd", (data) => {
      const output = zstd(data);
      return { output, produced: output.byteLength };
    }),
    lz4: checked("lz4", decompressLz4),
  };
}

/** node:zlib's zstd when `zlibModule` has it, else fzstd. A parameter so tests can fake either. */
export function zstdDecompressor(zlibModule: object = zlib): (data: Uint8Array) => Uint8Array {
  if (hasZstd(zlibModule)) {
    const native = zlibModule;
    return (data) => native.zstdDecompressSync(data);
  }
  return (data) => fzstdDecompress(data);
}

/** Wraps a decompressor with the size check and error messages naming the compression. */
function checked(name: string, decompress: Decompressor): McapTypes.DecompressHandlers[string] {
  return (buffer: Uint8Array, decompressedSize: bigint): Uint8Array => {
    const what = `${name} chunk of ${buffer.byteLength} bytes`;
    if (decompressedSize > BigInt(bufferConstants.MAX_LENGTH)) {
      throw new Error(`${what} claims ${decompressedSize} uncompressed bytes, more than a buffer can hold (corrupt chunk?)`);
    }
    const expected = Number(decompressedSize);
    let result: Decompressed;
    try {
      result = decompress(buffer, expected);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      throw new Error(`${what} could not be decompressed (corrupt chunk?): ${text}`, { cause: error });
    }
    if (result.produced !== expected || result.output.byteLength !== expected) {
      throw new Error(
        `${what} decompressed to ${result.produced} bytes, but its uncompressed_size is ${expected} (corrupt chunk?)`,
      );
    }
    return result.output;
  };
}

// LZ4 frame format: magic, FLG, BD, [content size 8], [dictionary id 4], header checksum,
// then blocks (u32 size, high bit = stored uncompressed; size 0 ends the frame), each with an
// optional 4-byte checksum, then an optional 4-byte content checksum.
const LZ4_MAGIC = 0x184d2204;
const LZ4_FLG_VERSION = 0x40;
const LZ4_FLG_BLOCK_CHECKSUM = 0x10;
const LZ4_FLG_CONTENT_SIZE = 0x08;
const LZ4_FLG_CONTENT_CHECKSUM = 0x04;
const LZ4_FLG_DICT_ID = 0x01;
const LZ4_STORED_BLOCK = 0x80000000;

/**
 * Decodes one LZ4 frame. The frame structure is parsed here and only the blocks are handed to
 * lz4js: its own frame parser skips a block checksum before the block instead of after it and
 * trusts every length, so a damaged frame could make it run past the data. Block and content
 * checksums are not verified: the chunk CRC covers the result.
 */
function decompressLz4(data: Uint8Array, expectedSize: number): Decompressed {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const need = (offset: number, bytes: number, what: string): void => {
    if (offset + bytes > data.byteLength) {
      throw new Error(`LZ4 frame ends inside the ${what} at byte ${offset} (${data.byteLength} bytes in all)`);
    }
  };
  need(0, 7, "frame header");
  if (view.getUint32(0, true) !== LZ4_MAGIC) {
    throw new Error(`not an LZ4 frame: magic 0x${view.getUint32(0, true).toString(16)} at byte 0`);
  }
  const flg = view.getUint8(4);
  if ((flg & 0xc0) !== LZ4_FLG_VERSION) throw new Error(`unsupported LZ4 frame version ${flg >> 6}`);
  if ((flg & LZ4_FLG_DICT_ID) !== 0) throw new Error("LZ4 frames that need a dictionary are not supported");
  const blockSizeCode = (view.getUint8(5) >> 4) & 0x7;
  if (blockSizeCode < 4) throw new Error(`invalid LZ4 maximum block size code ${blockSizeCode}`);
  const maxBlock = 1 << (2 * blockSizeCode + 8); // 64 KiB, 256 KiB, 1 MiB, 4 MiB
  const blockChecksum = (flg & LZ4_FLG_BLOCK_CHECKSUM) !== 0 ? 4 : 0;
  let offset = 6 + ((flg & LZ4_FLG_CONTENT_SIZE) !== 0 ? 8 : 0) + 1;
  need(0, offset, "frame header");

  // Blocks are decoded into one buffer, so linked blocks can refer back across block borders.
  // Bytes past `expectedSize` are dropped but counted, so an oversized result is still measured.
  const output = new Uint8Array(expectedSize);
  let produced = 0;
  for (;;) {
    need(offset, 4, "block size");
    const word = view.getUint32(offset, true);
    offset += 4;
    if (word === 0) break;
    const size = word & ~LZ4_STORED_BLOCK;
    if (size > maxBlock) {
      throw new Error(`LZ4 block at byte ${offset - 4} claims ${size} bytes, more than the frame's ${maxBlock}-byte maximum`);
    }
    need(offset, size + blockChecksum, "block");
    if ((word & LZ4_STORED_BLOCK) !== 0) {
      const room = Math.max(0, Math.min(size, expectedSize - produced));
      output.set(data.subarray(offset, offset + room), produced);
      produced += size;
    } else {
      produced = lz4DecompressBlock(data, output, offset, size, produced);
    }
    offset += size + blockChecksum;
  }
  if ((flg & LZ4_FLG_CONTENT_CHECKSUM) !== 0) {
    need(offset, 4, "content checksum");
    offset += 4;
  }
  if (offset !== data.byteLength) {
    throw new Error(`${data.byteLength - offset} unexpected bytes after the LZ4 frame that ends at byte ${offset}`);
  }
  return { output, produced };
}
