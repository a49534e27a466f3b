// sensor_msgs/CompressedImage payloads (JPEG, PNG) -> rgb8, and rgb8 -> PNG for previews.

import type { RgbImage } from "../frame.js";
import { FrameError } from "../errors.js";
import { inspectCompressedImage } from "./compressedStructure.js";
import { borrowMat, cv, keepAlive, matToUint8, type Mat } from "./opencv.js";

// cv::ImreadModes / cv::ColorConversionCodes / cv::ImwriteFlags values (fixed by the OpenCV ABI).
const IMREAD_COLOR = 1;
const COLOR_BGR2RGB = 4;
const COLOR_RGB2BGR = 4; // the same swap
const IMWRITE_PNG_COMPRESSION = 16;

export interface CompressedFormat {
  /** Codec named in the format string, when one is recognised. */
  readonly codec: "jpeg" | "png" | "unknown";
  /**
   * Channel order of the compressed pixels. image_transport writes "<encoding>; <codec>
   * compressed <target>", and its compressed plugin converts colour to bgr8 before encoding, so
   * "bgr" is the default; only an explicit "compressed rgb8" target means swapped channels.
   */
  readonly order: "bgr" | "rgb";
}

/** Lenient reading of CompressedImage.format: "jpeg", "png", "rgb8; jpeg compressed bgr8", ... */
export function parseCompressedFormat(format: string): CompressedFormat {
  const f = format.toLowerCase();
  if (f.includes("compresseddepth")) {
    // A depth transport (header + 16-bit PNG of depth), not a colour image.
    throw new FrameError("unknown_encoding", `format "${format}" is compressedDepth, not a colour image`);
  }
  const codec = /jpe?g/.test(f) ? "jpeg" : f.includes("png") ? "png" : "unknown";
  const target = /compressed\s+(\w+)/.exec(f)?.[1] ?? "";
  return { codec, order: target.startsWith("rgb") ? "rgb" : "bgr" };
}

/**
 * The largest compressed image decoded, in pixels (an 8K camera is 33 MP): a header may declare
 * any size up to 65535² (JPEG) or 2³¹² (PNG), and the decoder allocates it before reading a pixel.
 */
export const MAX_COMPRESSED_IMAGE_PIXELS = 8192 * 8192;

export interface DecodeCompressedOptions {
  /**
   * Called with the size the header declares, before anything is decoded; throws to refuse it
   * (ingest checks it against the CameraInfo).
   */
  readonly checkSize?: (width: number, height: number) => void;
  /** Where the rgb8 pixels go when it has the decoded image's size (a reused buffer); else new. */
  readonly out?: Uint8Array;
}

/**
 * Decodes a JPEG or PNG payload to rgb8. The codec is recognised from the bytes, so an unknown or
 * wrong `format` still decodes; `format` matters only for the channel order. Grey and alpha
 * images come back as 3-channel colour. Before decoding, the file's structure is checked
 * (inspectCompressedImage: JPEG markers up to EOI, PNG chunks and CRCs up to IEND) and its
 * declared size against MAX_COMPRESSED_IMAGE_PIXELS and `checkSize`. Empty, incomplete or
 * corrupt bytes throw FrameError("corrupt_compressed_image"), a too large one "image_too_large".
 */
export function decodeCompressedImage(format: string, data: Uint8Array, options: DecodeCompressedOptions = {}): RgbImage {
  const { order } = parseCompressedFormat(format);
  if (data.length === 0) {
    throw new FrameError("corrupt_compressed_image", `empty payload (format "${format}")`);
  }
  const declared = inspectCompressedImage(data);
  const { codec, width, height } = declared;
  if (width * height > MAX_COMPRESSED_IMAGE_PIXELS) {
    throw new FrameError(
      "image_too_large",
      `${codec} of ${data.length} bytes declares ${width}x${height} = ${megapixels(width * height)} MP, ` +
        `more than the ${megapixels(MAX_COMPRESSED_IMAGE_PIXELS)} MP (8192x8192) decoded at most`,
    );
  }
  options.checkSize?.(width, height);
  let mat: Mat;
  try {
    mat = cv().imdecode(Buffer.from(data.buffer, data.byteOffset, data.byteLength), IMREAD_COLOR);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new FrameError("corrupt_compressed_image", `${codec} payload of ${data.length} bytes failed to decode: ${why}`);
  } finally {
    keepAlive(data);
  }
  // imdecode reports undecodable bytes with an empty Mat rather than an exception.
  if (mat.empty || mat.rows === 0 || mat.cols === 0) {
    throw new FrameError("corrupt_compressed_image", `${data.length} bytes of well-formed ${codec} (format "${format}") did not decode`);
  }
  const rgb = order === "bgr" ? mat.cvtColor(COLOR_BGR2RGB) : mat;
  const out = options.out?.length === rgb.rows * rgb.cols * 3 ? options.out : undefined;
  const image = { width: rgb.cols, height: rgb.rows, data: matToUint8(rgb, out) };
  // Freed now, not at the next full GC (opencv.ts, "Temporary Mats").
  rgb.release();
  mat.release();
  return image;
}

function megapixels(pixels: number): string {
  return (pixels / 1e6).toFixed(1);
}

/** Encodes rgb8 as PNG (lossless; `compression` 0-9, default 3 favours speed). */
export function encodePng(rgb: RgbImage, compression = 3): Uint8Array {
  return encodeRgb(rgb, ".png", [IMWRITE_PNG_COMPRESSION, compression]);
}

/** cv::IMWRITE_JPEG_QUALITY (imgcodecs.hpp). */
const IMWRITE_JPEG_QUALITY = 1;

/** Encodes rgb8 as JPEG (`quality` 0-100), as a camera driver's compressed transport would. */
export function encodeJpeg(rgb: RgbImage, quality = 90): Uint8Array {
  return encodeRgb(rgb, ".jpg", [IMWRITE_JPEG_QUALITY, quality]);
}

function encodeRgb(rgb: RgbImage, extension: string, flags: number[]): Uint8Array {
  const src = borrowMat(rgb.data, rgb.height, rgb.width, cv().CV_8UC3, 3);
  // OpenCV encoders take BGR; the swap is its own (fast) native pass.
  const bgr = src.cvtColor(COLOR_RGB2BGR);
  keepAlive(rgb.data);
  const encoded = cv().imencode(extension, bgr, flags);
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}
