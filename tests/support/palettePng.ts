// A palette (colour type 3) PNG writer for tests, as Mapillary Vistas' label maps are stored:
// the pixel is a palette index, the palette (PLTE) gives each index a colour. Rows are written
// with PNG filter types 0-4 in turn so a reader's unfiltering is exercised.

import { deflateSync } from "node:zlib";
import { crc32 } from "@foxglove/crc";

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** `indices` one per pixel (< 2^bitDepth); `palette` RGB per index. */
export function palettePng(indices: Uint8Array, width: number, height: number, palette: readonly [number, number, number][], bitDepth: 1 | 2 | 4 | 8 = 8): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([bitDepth, 3, 0, 0, 0], 8);
  const rowBytes = Math.ceil((width * bitDepth) / 8);
  const packed = new Uint8Array(rowBytes * height);
  const perByte = 8 / bitDepth;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      packed[v * rowBytes + Math.floor(u / perByte)]! |= indices[v * width + u]! << (8 - bitDepth * ((u % perByte) + 1));
    }
  }
  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let v = 0; v < height; v++) {
    const filter = v % 5;
    raw[v * (rowBytes + 1)] = filter;
    for (let i = 0; i < rowBytes; i++) {
      const x = packed[v * rowBytes + i]!;
      const a = i > 0 ? packed[v * rowBytes + i - 1]! : 0;
      const b = v > 0 ? packed[(v - 1) * rowBytes + i]! : 0;
      const c = i > 0 && v > 0 ? packed[(v - 1) * rowBytes + i - 1]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter]!;
      raw[v * (rowBytes + 1) + 1 + i] = (x - predicted) & 0xff;
    }
  }
  const plte = Uint8Array.from(palette.flat());
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("PLTE", plte),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
