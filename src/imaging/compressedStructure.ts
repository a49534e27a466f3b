// Structure checks of JPEG and PNG payloads before they are decoded. OpenCV's decoders accept
// damaged files: libjpeg only warns "premature end of data segment" and fills a truncated JPEG
// with grey, libpng's reader in OpenCV returns what it got of a PNG missing its end. And the
// size a header declares is allocated before anything else is looked at. So the marker
// structure (JPEG) and chunk structure with CRCs (PNG) are walked here, without decoding, and
// the declared size is read for the caller to check against its limits.

import { crc32 } from "node:zlib";
import { FrameError } from "../errors.js";

export interface CompressedImageHeader {
  readonly codec: "jpeg" | "png";
  /** As the file declares it (JPEG SOF, PNG IHDR). */
  readonly width: number;
  readonly height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** Codec and declared size of a complete, well-formed JPEG or PNG; otherwise FrameError corrupt_compressed_image. */
export function inspectCompressedImage(data: Uint8Array): CompressedImageHeader {
  if (startsWith(data, PNG_SIGNATURE)) return inspectPng(data);
  if (data.length >= 2 && data[0] === 0xff && data[1] === 0xd8) return inspectJpeg(data);
  throw corrupt(`${data.length} bytes starting ${hex(data.subarray(0, 4))} are neither JPEG nor PNG`);
}

function inspectPng(data: Uint8Array): CompressedImageHeader {
  let pos: number = PNG_SIGNATURE.length;
  let size: { width: number; height: number } | undefined;
  let sawImageData = false;
  while (pos < data.length) {
    if (data.length - pos < 12) throw corrupt(`PNG truncated: ${data.length - pos} bytes at byte ${pos} are not a whole chunk`);
    const length = readU32(data, pos);
    const type = String.fromCharCode(...data.subarray(pos + 4, pos + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw corrupt(`PNG chunk at byte ${pos} has an invalid type ${hex(data.subarray(pos + 4, pos + 8))}`);
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > data.length) {
      throw corrupt(`PNG truncated: chunk ${type} at byte ${pos} declares ${length} bytes, ${data.length - pos - 12} are left`);
    }
    const stored = readU32(data, pos + 8 + length);
    const computed = crc32(data.subarray(pos + 4, pos + 8 + length)) >>> 0;
    if (stored !== computed) {
      throw corrupt(`PNG chunk ${type} at byte ${pos} has CRC ${hex32(stored)}, its bytes give ${hex32(computed)}`);
    }
    if (size === undefined) {
      if (type !== "IHDR" || length !== 13) throw corrupt(`PNG does not start with a 13-byte IHDR chunk (found ${type}, ${length} bytes)`);
      size = { width: readU32(data, pos + 8), height: readU32(data, pos + 12) };
      if (size.width === 0 || size.height === 0) throw corrupt(`PNG declares a ${size.width}x${size.height} image`);
    }
    if (type === "IDAT") sawImageData = true;
    if (type === "IEND") {
      if (!sawImageData) throw corrupt("PNG has no IDAT chunk");
      // Bytes after IEND are ignored, as by libpng.
      return { codec: "png", ...size };
    }
    pos = end;
  }
  throw corrupt(`PNG truncated: no IEND chunk in ${data.length} bytes`);
}

/** SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function inspectJpeg(data: Uint8Array): CompressedImageHeader {
  let pos = 2; // after SOI
  let size: { width: number; height: number } | undefined;
  for (;;) {
    if (pos >= data.length) throw corrupt(`JPEG truncated: no EOI marker in ${data.length} bytes`);
    if (data[pos] !== 0xff) throw corrupt(`JPEG has byte ${hex(data.subarray(pos, pos + 1))} at byte ${pos} where a marker belongs`);
    while (pos < data.length && data[pos] === 0xff) pos++; // fill bytes
    if (pos >= data.length) throw corrupt(`JPEG truncated: no EOI marker in ${data.length} bytes`);
    const marker = data[pos]!;
    const markerAt = pos - 1;
    pos++;
    if (marker === 0xd9) {
      if (size === undefined) throw corrupt("JPEG ends (EOI) before any frame header (SOF)");
      return { codec: "jpeg", ...size };
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // RSTn, TEM: no length
    if (marker === 0xd8 || marker === 0x00) throw corrupt(`JPEG has an unexpected marker ${hex(data.subarray(markerAt, pos))} at byte ${markerAt}`);
    if (pos + 2 > data.length) throw corrupt(`JPEG truncated in the marker at byte ${markerAt}`);
    const length = (data[pos]! << 8) | data[pos + 1]!;
    const end = pos + length;
    if (length < 2 || end > data.length) {
      throw corrupt(`JPEG truncated: segment ${hex(data.subarray(markerAt, markerAt + 2))} at byte ${markerAt} declares ${length} bytes, ${data.length - pos} are left`);
    }
    if (isStartOfFrame(marker)) {
      if (length < 8) throw corrupt(`JPEG frame header at byte ${markerAt} is ${length} bytes, too short`);
      const height = (data[pos + 3]! << 8) | data[pos + 4]!;
      const width = (data[pos + 5]! << 8) | data[pos + 6]!;
      // Height 0 defers it to a DNL marker after the first scan, which OpenCV's libjpeg rejects.
      if (width === 0 || height === 0) throw corrupt(`JPEG declares a ${width}x${height} image`);
      size = { width, height };
    }
    pos = end;
    if (marker === 0xda) {
      if (size === undefined) throw corrupt(`JPEG scan at byte ${markerAt} comes before any frame header (SOF)`);
      pos = endOfScan(data, pos);
    }
  }
}

/** Index of the marker that ends the entropy-coded data starting at `pos` (0xFF00 and RSTn are data). */
function endOfScan(data: Uint8Array, start: number): number {
  let pos = start;
  for (;;) {
    const ff = data.indexOf(0xff, pos);
    if (ff < 0 || ff + 1 >= data.length) throw corrupt(`JPEG truncated: scan data from byte ${start} ends without EOI (${data.length} bytes)`);
    const next = data[ff + 1]!;
    if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
      // Stuffed zero, fill byte or restart marker: still scan data. A fill byte is re-examined.
      pos = next === 0xff ? ff + 1 : ff + 2;
      continue;
    }
    return ff;
  }
}

function corrupt(detail: string): FrameError {
  return new FrameError("corrupt_compressed_image", detail);
}

function startsWith(data: Uint8Array, prefix: readonly number[]): boolean {
  return data.length >= prefix.length && prefix.every((b, i) => data[i] === b);
}

function readU32(data: Uint8Array, pos: number): number {
  return ((data[pos]! << 24) | (data[pos + 1]! << 16) | (data[pos + 2]! << 8) | data[pos + 3]!) >>> 0;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
