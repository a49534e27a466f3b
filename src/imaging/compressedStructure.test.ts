import { constants, crc32, deflateRawSync, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { RgbImage } from "../frame.js";
import { FrameError } from "../errors.js";
import { inspectCompressedImage } from "./compressedStructure.js";
import { decodeCompressedImage, encodeJpeg, encodePng } from "./decode.js";
import { borrowMat, cv } from "./opencv.js";

function texture(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3).map((_, i) => (i * 37) % 251);
  return { width, height, data };
}

function failure(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FrameError) return error;
    throw error;
  }
  throw new Error("expected a FrameError");
}

/** What OpenCV alone makes of the bytes: "WxH", or "empty" when it refuses them. */
function opencvAlone(bytes: Uint8Array): string {
  const mat = cv().imdecode(Buffer.from(bytes), 1);
  return mat.empty ? "empty" : `${mat.cols}x${mat.rows}`;
}

/** A PNG chunk with its length and (correct, unless `badCrc`) CRC. */
function chunk(type: string, body: Uint8Array, badCrc = false): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(body, 8);
  view.setUint32(8 + body.length, (crc32(out.subarray(4, 8 + body.length)) ^ (badCrc ? 1 : 0)) >>> 0);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A well-formed PNG whose IHDR declares width x height (8-bit RGB). Its IDAT is a few bytes, or
 * with `allRows` a complete zlib stream of every (black) row: 1 MiB deflate blocks of zeros
 * repeated, so a 243 MB image takes 240 KB without ever being in memory here.
 */
function pngDeclaring(width: number, height: number, allRows = false): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const signature = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const idat = allRows ? zlibOfZeros(height * (1 + 3 * width)) : deflateSync(new Uint8Array(64));
  return concat(signature, chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", new Uint8Array(0)));
}

function zlibOfZeros(n: number): Uint8Array {
  const MiB = 1 << 20;
  // Sync-flushed blocks end on a byte boundary and only refer back to zeros: they can be repeated.
  const block = deflateRawSync(new Uint8Array(MiB), { finishFlush: constants.Z_SYNC_FLUSH });
  const rest = deflateRawSync(new Uint8Array(n % MiB), { finishFlush: constants.Z_SYNC_FLUSH });
  const adler = new Uint8Array(4);
  new DataView(adler.buffer).setUint32(0, ((n % 65521) * 65536 + 1) >>> 0); // Adler-32 of n zeros
  const blocks = Array.from({ length: Math.floor(n / MiB) }, () => block);
  return concat(Uint8Array.from([0x78, 0x01]), ...blocks, rest, Uint8Array.from([0x03, 0x00]), adler);
}

describe("inspectCompressedImage", () => {
  it("reads codec and declared size of baseline, progressive and restart-marker JPEGs and of PNGs", () => {
    const img = texture(64, 48);
    expect(inspectCompressedImage(encodeJpeg(img, 90))).toEqual({ codec: "jpeg", width: 64, height: 48 });
    // cv::IMWRITE_JPEG_PROGRESSIVE = 2, cv::IMWRITE_JPEG_RST_INTERVAL = 4: several scans, RSTn inside them.
    const mat = borrowMat(img.data, 48, 64, cv().CV_8UC3, 3);
    const progressive = new Uint8Array(cv().imencode(".jpg", mat, [2, 1, 4, 2]));
    expect(inspectCompressedImage(progressive)).toEqual({ codec: "jpeg", width: 64, height: 48 });
    expect(inspectCompressedImage(encodePng(texture(37, 23)))).toEqual({ codec: "png", width: 37, height: 23 });
  });

  it("refuses a JPEG cut anywhere, which OpenCV alone decodes half grey", () => {
    const jpeg = encodeJpeg(texture(64, 48), 90);
    // libjpeg warns "premature end of data segment" and returns the full size.
    expect(opencvAlone(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)))).toBe("64x48");
    for (const fraction of [0.05, 0.3, 0.6, 0.9, 0.999]) {
      const cut = jpeg.subarray(0, Math.floor(jpeg.length * fraction));
      const error = failure(() => decodeCompressedImage("jpeg", cut));
      expect(error.reason, `cut at ${fraction}`).toBe("corrupt_compressed_image");
      expect(error.detail).toMatch(/JPEG truncated/);
    }
    expect(failure(() => decodeCompressedImage("jpeg", jpeg.subarray(0, jpeg.length - 2))).detail).toMatch(/ends without EOI/);
  });

  it("refuses a PNG without IEND, and one with a bad CRC, naming the chunk", () => {
    const png = encodePng(texture(64, 48));
    expect(failure(() => inspectCompressedImage(png.subarray(0, png.length - 12))).detail).toMatch(/no IEND chunk/);
    const badIdat = png.slice();
    badIdat[33 + 8 + 2] = badIdat[33 + 8 + 2]! ^ 0x40; // a byte of the first IDAT's data (the first chunk after IHDR is at 33)
    expect(failure(() => inspectCompressedImage(badIdat)).detail).toMatch(/chunk IDAT at byte 33 has CRC 0x[0-9a-f]{8}, its bytes give 0x[0-9a-f]{8}/);
    // A damaged ancillary chunk: libpng only warns and OpenCV returns the image.
    const text = chunk("tEXt", new TextEncoder().encode("Comment\0hello"), true);
    const badText = concat(png.subarray(0, 33), text, png.subarray(33));
    expect(opencvAlone(badText)).toBe("64x48");
    const error = failure(() => decodeCompressedImage("png", badText));
    expect(error.reason).toBe("corrupt_compressed_image");
    expect(error.detail).toMatch(/chunk tEXt at byte 33 has CRC/);
  });

  it("refuses bytes that are neither JPEG nor PNG, and headers declaring no pixels", () => {
    expect(failure(() => inspectCompressedImage(new Uint8Array([0x42, 0x4d, 1, 2, 3]))).detail).toMatch(/5 bytes starting 42 4d 01 02 are neither JPEG nor PNG/);
    expect(failure(() => inspectCompressedImage(pngDeclaring(0, 10))).detail).toMatch(/declares a 0x10 image/);
  });
});

describe("decodeCompressedImage size checks", () => {
  it("refuses a header declaring more than 8192x8192 before decoding: no memory is taken for it", () => {
    // 9000 x 9000 rgb8 = 243 MB of pixels in a 240 KB file, which OpenCV alone decodes in full.
    const png = pngDeclaring(9000, 9000, true);
    expect(png.length).toBeLessThan(250_000);
    const before = process.memoryUsage().rss;
    const error = failure(() => decodeCompressedImage("png", png));
    const grownMb = (process.memoryUsage().rss - before) / 2 ** 20;
    expect(error.reason).toBe("image_too_large");
    expect(error.detail).toMatch(/png of \d+ bytes declares 9000x9000 = 81\.0 MP, more than the 67\.1 MP/);
    expect(grownMb).toBeLessThan(50);
  });

  it("asks checkSize about the declared size before decoding", () => {
    const seen: string[] = [];
    const refuse = (width: number, height: number) => {
      seen.push(`${width}x${height}`);
      throw new FrameError("camera_info_size_mismatch", `camera_info is 8x6 but the image is ${width}x${height}`);
    };
    // The IDAT holds almost nothing: had it been decoded, the error would be corrupt_compressed_image.
    expect(failure(() => decodeCompressedImage("png", pngDeclaring(4000, 3000), { checkSize: refuse })).reason).toBe(
      "camera_info_size_mismatch",
    );
    expect(seen).toEqual(["4000x3000"]);
  });
});
