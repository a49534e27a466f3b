// Grey PNGs for the folder dataset: 16-bit depth and 8-bit labels, encoded and decoded by OpenCV
// (imaging/decode.ts's encodePng is rgb8 only).

import { borrowMat, cv, keepAlive, matToUint16, matToUint8 } from "../imaging/opencv.js";

/** cv::IMWRITE_PNG_COMPRESSION and cv::IMREAD_UNCHANGED (fixed by the OpenCV ABI). */
const IMWRITE_PNG_COMPRESSION = 16;
const IMREAD_UNCHANGED = -1;

function encode(data: Uint8Array | Uint16Array, width: number, height: number, type: number, compression: number): Uint8Array {
  const mat = borrowMat(data, height, width, type, 1);
  const encoded = cv().imencode(".png", mat, [IMWRITE_PNG_COMPRESSION, compression]);
  keepAlive(data);
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/** 16-bit single-channel PNG (e.g. depth in millimetres). */
export function encodePng16(data: Uint16Array, width: number, height: number, compression = 3): Uint8Array {
  return encode(data, width, height, cv().CV_16UC1, compression);
}

/** 8-bit single-channel PNG (e.g. class ids). */
export function encodePngGrey(data: Uint8Array, width: number, height: number, compression = 3): Uint8Array {
  return encode(data, width, height, cv().CV_8UC1, compression);
}

export interface GreyImage<T extends Uint8Array | Uint16Array> {
  readonly width: number;
  readonly height: number;
  readonly data: T;
}

function decodeUnchanged(bytes: Uint8Array) {
  const mat = cv().imdecode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), IMREAD_UNCHANGED);
  keepAlive(bytes);
  if (mat.empty || mat.rows === 0) throw new Error(`${bytes.length} bytes are not a decodable PNG`);
  if (mat.channels !== 1) throw new Error(`expected a single-channel PNG, got ${mat.channels} channels`);
  return mat;
}

/** Decodes a 16-bit single-channel PNG as is (IMREAD_UNCHANGED). */
export function decodePng16(bytes: Uint8Array): GreyImage<Uint16Array> {
  const mat = decodeUnchanged(bytes);
  if (mat.depth !== cv().CV_16U) throw new Error(`expected a 16-bit PNG, got OpenCV depth ${mat.depth}`);
  return { width: mat.cols, height: mat.rows, data: matToUint16(mat) };
}

/** Decodes an 8-bit single-channel PNG as is (IMREAD_UNCHANGED). */
export function decodePngGrey(bytes: Uint8Array): GreyImage<Uint8Array> {
  const mat = decodeUnchanged(bytes);
  if (mat.depth !== cv().CV_8U) throw new Error(`expected an 8-bit PNG, got OpenCV depth ${mat.depth}`);
  return { width: mat.cols, height: mat.rows, data: matToUint8(mat) };
}
