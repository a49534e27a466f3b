import { describe, expect, it } from "vitest";
import type { RgbImage } from "../frame.js";
import { FrameError } from "../errors.js";
import { decodeCompressedImage, encodeJpeg, encodePng, parseCompressedFormat } from "./decode.js";
import { borrowMat, cv } from "./opencv.js";

function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = 200; // mostly red, so a channel swap is obvious
      data[o + 1] = (x * 255) / (width - 1);
      data[o + 2] = (y * 100) / (height - 1);
    }
  }
  return { width, height, data };
}

function noise(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

/** JPEG as image_transport writes it: the RGB image converted to BGR, then encoded. */
function jpegOf(img: RgbImage, quality = 95): Uint8Array {
  return encodeJpeg(img, quality);
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof FrameError) return err.reason;
    throw err;
  }
  return undefined;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe("parseCompressedFormat", () => {
  it("reads the codec and channel order leniently", () => {
    expect(parseCompressedFormat("jpeg")).toEqual({ codec: "jpeg", order: "bgr" });
    expect(parseCompressedFormat("PNG")).toEqual({ codec: "png", order: "bgr" });
    expect(parseCompressedFormat("rgb8; jpeg compressed bgr8")).toEqual({ codec: "jpeg", order: "bgr" });
    expect(parseCompressedFormat("bgra8; png compressed bgra8")).toEqual({ codec: "png", order: "bgr" });
    expect(parseCompressedFormat("rgb8; jpeg compressed rgb8")).toEqual({ codec: "jpeg", order: "rgb" });
    expect(parseCompressedFormat("")).toEqual({ codec: "unknown", order: "bgr" });
    expect(reasonOf(() => parseCompressedFormat("16UC1; compressedDepth png"))).toBe("unknown_encoding");
  });
});

describe("decodeCompressedImage", () => {
  it("round-trips a PNG exactly", () => {
    const img = noise(37, 23);
    const png = encodePng(img);
    expect(Array.from(png.subarray(1, 4), (c) => String.fromCharCode(c)).join("")).toBe("PNG");
    const back = decodeCompressedImage("png", png);
    expect([back.width, back.height]).toEqual([37, 23]);
    expect(Buffer.from(back.data).equals(Buffer.from(img.data))).toBe(true);
    // Same bytes however the format string is written.
    const again = decodeCompressedImage("rgb8; png compressed bgr8", png);
    expect(Buffer.from(again.data).equals(Buffer.from(img.data))).toBe(true);
  });

  it("decodes a JPEG to the right size and colours within tolerance", () => {
    const img = gradient(64, 48);
    const back = decodeCompressedImage("rgb8; jpeg compressed bgr8", jpegOf(img));
    expect([back.width, back.height, back.data.length]).toEqual([64, 48, 64 * 48 * 3]);
    expect(meanAbsDiff(back.data, img.data)).toBeLessThan(3);
    // Red stays in channel 0.
    const center = (24 * 64 + 32) * 3;
    expect(back.data[center]).toBeGreaterThan(185);
    expect(back.data[center + 2]).toBeLessThan(70);
  });

  it("honours an explicit rgb target (channels stored swapped)", () => {
    const img = gradient(16, 8);
    const back = decodeCompressedImage("rgb8; jpeg compressed rgb8", jpegOf(img));
    // Without the BGR->RGB swap the red plane lands in channel 2.
    expect(back.data[(4 * 16 + 8) * 3 + 2]).toBeGreaterThan(185);
  });

  it("expands a grey PNG to equal RGB channels", () => {
    const grey = new Uint8Array([0, 64, 128, 255]);
    const buf = cv().imencode(".png", borrowMat(grey, 2, 2, cv().CV_8UC1, 1));
    const back = decodeCompressedImage("mono8; png compressed mono8", new Uint8Array(buf));
    expect(Array.from(back.data)).toEqual([0, 0, 0, 64, 64, 64, 128, 128, 128, 255, 255, 255]);
  });

  it("rejects empty, corrupt and truncated payloads with corrupt_compressed_image", () => {
    expect(reasonOf(() => decodeCompressedImage("jpeg", new Uint8Array(0)))).toBe("corrupt_compressed_image");
    const junk = new TextEncoder().encode("definitely not an image");
    expect(reasonOf(() => decodeCompressedImage("jpeg", junk))).toBe("corrupt_compressed_image");
    expect(() => decodeCompressedImage("jpeg", junk)).toThrow(/23 bytes starting 64 65 66 69 are neither JPEG nor PNG/);
    const png = encodePng(noise(16, 16));
    expect(reasonOf(() => decodeCompressedImage("png", png.subarray(0, 40)))).toBe("corrupt_compressed_image");
  });
});
