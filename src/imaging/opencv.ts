// The one place that loads OpenCV (@u4/opencv4nodejs), plus the Mat <-> typed-array bridges.
//
// The package is CommonJS and its ESM entry loads the native binding while being imported, so a
// static import would make every module that merely mentions imaging fail to load on a machine
// without the binding. It is required lazily instead, on first use, with an error that says how
// to fix it.
//
// Copies, as read from the binding's source (cc/core/Mat.cc, MatBindings.h):
// - new cv.Mat(buffer, rows, cols, type) copies the bytes in (memcpy);
// - new cv.Mat(rows, cols, type, buffer) wraps the bytes without copying (borrowed memory);
// - mat.getData() copies twice (into a malloc'd block, then into a new Buffer);
// - mat.copyTo(dst) into a same-size same-type dst writes into dst's existing memory.
// So inputs are borrowed (no copy) and outputs are copied once, with copyTo into a Mat that
// borrows the destination typed array.
//
// Temporary Mats: a Mat OpenCV allocated (imdecode, cvtColor, resize) holds native memory that
// the binding reports to V8 as external; left to the collector, a 640x480 stream's few MiB per
// frame force a full mark-compact every few frames (measured: ~1.7 ms of GC per decode + two
// depth resizes). The per-frame path releases each one as soon as its pixels are copied out.

import { createRequire } from "node:module";
import type * as OpenCv from "@u4/opencv4nodejs";
import { FatalError } from "../errors.js";

export type Cv = typeof OpenCv.cv;
export type Mat = OpenCv.Mat;

export const OPENCV_MISSING_MESSAGE =
  "OpenCV binding not built: install libopencv-dev and run npm ci with OPENCV4NODEJS_DISABLE_AUTOBUILD=1";

/** OpenCV interpolation flags (imgproc.hpp); fixed by the OpenCV ABI. */
export const INTER_NEAREST = 0;
export const INTER_LINEAR = 1;
export const INTER_CUBIC = 2;
export const INTER_AREA = 3;
/** Nearest at pixel centres, floor((x + 0.5)·scale); OpenCV >= 4.5.1. */
export const INTER_NEAREST_EXACT = 6;

let loaded: Cv | undefined;
let loadError: Error | undefined; // remembered: retrying a failed dlopen every frame is pointless

/** The OpenCV module, loaded on first call. Throws FatalError when the native binding is missing. */
export function cv(): Cv {
  if (loaded) return loaded;
  if (loadError) throw loadError;
  try {
    loaded = loadOpenCv();
    return loaded;
  } catch (err) {
    loadError = err instanceof Error ? err : new Error(String(err));
    throw loadError;
  }
}

/** Requires the binding package `id` (uncached; `cv()` is the cached entry point). */
export function loadOpenCv(id = "@u4/opencv4nodejs"): Cv {
  const require = createRequire(import.meta.url);
  try {
    silenceBuildLogger(require, id);
    const mod = require(id) as typeof OpenCv;
    return mod.cv ?? (mod as unknown as Cv);
  } catch (err) {
    const why = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
    throw new FatalError(`${OPENCV_MISSING_MESSAGE} (${why.trim()})`, { cause: err });
  }
}

// Loading the binding runs @u4/opencv-build's environment probe, which prints "Info" lines to
// the console on every start. They would pollute CLI output, so silence its logger first
// (best effort: resolved from the binding's own location, as the loader resolves it).
function silenceBuildLogger(require: NodeJS.Require, id: string): void {
  try {
    const fromBinding = createRequire(require.resolve(id));
    const build = fromBinding("@u4/opencv-build") as { Log?: { silence?: boolean } };
    if (build.Log) build.Log.silence = true;
  } catch {
    // Not fatal: only the log lines remain.
  }
}

/** True when the native binding loads; for tests and diagnostics that should skip rather than fail. */
export function openCvAvailable(): boolean {
  try {
    cv();
    return true;
  } catch {
    return false;
  }
}

function asBuffer(data: Uint8Array | Uint16Array | Float32Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A Mat that borrows `data` without copying. OpenCV does not own or retain the memory: use the
 * Mat only while `data` is referenced (call `keepAlive(data)` after the last OpenCV call that
 * reads or writes it) and never hand it to code that may keep it.
 */
export function borrowMat(
  data: Uint8Array | Uint16Array | Float32Array,
  rows: number,
  cols: number,
  type: number,
  channels: number,
): Mat {
  if (data.length !== rows * cols * channels) {
    throw new RangeError(`borrowMat: ${data.length} values is not ${rows}x${cols}x${channels}`);
  }
  return new (cv().Mat)(rows, cols, type, asBuffer(data));
}

/**
 * Marks `data` as still in use up to this point, so the garbage collector cannot free memory a
 * borrowed Mat points into while OpenCV is still working on it. The observable length check keeps
 * the optimiser from dropping the reference.
 */
export function keepAlive(data: ArrayBufferView): void {
  if (data.byteLength < 0) throw new Error("unreachable");
}

type Pixels = Uint8Array | Uint16Array | Float32Array;

// Copies with copyTo into a Mat borrowing `dst`. copyTo reallocates (and silently leaves dst
// untouched) when size or type differ, so the element type is checked first.
function copyOut<T extends Pixels>(mat: Mat, dst: T, depth: number, what: string): T {
  if (mat.depth !== depth) throw new RangeError(`${what}: Mat depth ${mat.depth} is not ${depth}`);
  const n = mat.rows * mat.cols * mat.channels;
  if (dst.length !== n) throw new RangeError(`${what}: out has ${dst.length} values, need ${n}`);
  mat.copyTo(borrowMat(dst, mat.rows, mat.cols, mat.type, mat.channels));
  keepAlive(dst);
  return dst;
}

/** Copies an 8-bit `mat` into `out` or a new Uint8Array (interleaved channels): one copy. */
export function matToUint8(mat: Mat, out?: Uint8Array): Uint8Array {
  return copyOut(mat, out ?? new Uint8Array(mat.rows * mat.cols * mat.channels), cv().CV_8U, "matToUint8");
}

/** Copies a CV_16U `mat` into `out` or a new Uint16Array: one copy. */
export function matToUint16(mat: Mat, out?: Uint16Array): Uint16Array {
  return copyOut(mat, out ?? new Uint16Array(mat.rows * mat.cols * mat.channels), cv().CV_16U, "matToUint16");
}

/** Copies a CV_32F `mat` into `out` or a new Float32Array: one copy. */
export function matToFloat32(mat: Mat, out?: Float32Array): Float32Array {
  return copyOut(mat, out ?? new Float32Array(mat.rows * mat.cols * mat.channels), cv().CV_32F, "matToFloat32");
}
