// Palette (indexed, PNG colour type 3) images → their palette indices. Label maps such as
// Mapillary Vistas' are stored this way: the class is the index, the palette only colours it.
// OpenCV expands palette PNGs to BGR and cannot return the indices, so this reads the PNG itself
// (PNG spec: IHDR, IDAT chunks inflated with zlib, per-row filters 0-4; bit depths 1, 2, 4, 8;
// no interlacing).

import { inflateSync } from "node:zlib";
import { FatalError } from "../errors.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
export const PNG_COLOR_TYPE_PALETTE = 3;

/** The PNG's colour type (IHDR byte 9), or undefined when the bytes are not a PNG. */
export function pngColorType(bytes: Uint8Array): number | undefined {
  if (bytes.length < 33 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  return bytes[25];
}

/** Palette indices of a colour-type-3 PNG, one byte per pixel. */
export function decodePaletteIndices(bytes: Uint8Array, what: string): { width: number; height: number; indices: Uint8Array } {
  if (pngColorType(bytes) !== PNG_COLOR_TYPE_PALETTE) throw new FatalError(`${what}: not a palette PNG`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  const idat: Uint8Array[] = [];
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (data.length !== length) throw new FatalError(`${what}: PNG chunk ${type} is truncated`);
    if (type === "IHDR") {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      bitDepth = data[8]!;
      if (data[12] !== 0) throw new FatalError(`${what}: interlaced palette PNGs are not supported`);
    } else if (type === "IDAT") {
      idat.push(data);
    } else if (type === "IEND") {
      break;
    }
    offset += 12 + length;
  }
  if (width === 0 || height === 0) throw new FatalError(`${what}: PNG has no image (IHDR ${width}x${height})`);
  if (![1, 2, 4, 8].includes(bitDepth)) throw new FatalError(`${what}: palette PNG bit depth ${bitDepth} is not 1, 2, 4 or 8`);
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (error) {
    throw new FatalError(`${what}: cannot inflate PNG data: ${(error as Error).message}`);
  }
  const rowBytes = Math.ceil((width * bitDepth) / 8);
  if (raw.length < height * (rowBytes + 1)) throw new FatalError(`${what}: PNG data holds fewer than ${height} rows`);
  const rows = unfilter(raw, rowBytes, height, what);
  const indices = new Uint8Array(width * height);
  const perByte = 8 / bitDepth;
  const mask = (1 << bitDepth) - 1;
  for (let v = 0; v < height; v++) {
    const row = v * rowBytes;
    for (let u = 0; u < width; u++) {
      const byte = rows[row + Math.floor(u / perByte)]!;
      const shift = 8 - bitDepth * ((u % perByte) + 1);
      indices[v * width + u] = (byte >> shift) & mask;
    }
  }
  return { width, height, indices };
}

/** Undoes the per-row filters (bytes per pixel 1: palette images are at most 8 bits a pixel). */
function unfilter(raw: Uint8Array, rowBytes: number, height: number, what: string): Uint8Array {
  const out = new Uint8Array(rowBytes * height);
  for (let v = 0; v < height; v++) {
    const filter = raw[v * (rowBytes + 1)]!;
    const src = v * (rowBytes + 1) + 1;
    const dst = v * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const x = raw[src + i]!;
      const a = i > 0 ? out[dst + i - 1]! : 0;
      const b = v > 0 ? out[dst - rowBytes + i]! : 0;
      const c = i > 0 && v > 0 ? out[dst - rowBytes + i - 1]! : 0;
      let value: number;
      switch (filter) {
        case 0:
          value = x;
          break;
        case 1:
          value = x + a;
          break;
        case 2:
          value = x + b;
          break;
        case 3:
          value = x + ((a + b) >> 1);
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          value = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new FatalError(`${what}: PNG row ${v} has unknown filter ${filter}`);
      }
      out[dst + i] = value & 0xff;
    }
  }
  return out;
}
