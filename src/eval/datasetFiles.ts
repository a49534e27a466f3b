// What the folder layouts share: listing files, decoding a colour image file into a Frame, and
// reading the ground-truth PNGs next to it.

import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { FatalError, FrameError } from "../errors.js";
import type { CameraCalibration, Frame } from "../frame.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { decodeFrame } from "../messages/ingest.js";
import type { EvalSample } from "./datasets.js";
import { checkGroundTruthSize, depthFromPng, labelsFromPng, type DepthPngEncoding } from "./groundTruth.js";

export const RGB_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);

/** One frame of a folder dataset: absolute paths of its files. */
export interface FileSample {
  readonly stem: string;
  readonly rgbPath: string;
  readonly depthPath?: string;
  readonly labelsPath?: string;
  /** undefined: the nominal calibration (segmentation-only datasets; eval does not use it). */
  readonly calibration?: CameraCalibration;
}

export interface DepthPngFormat {
  readonly depthScale: number;
  readonly encoding?: DepthPngEncoding;
}

/**
 * Segmentation-only datasets ship no intrinsics and eval's metrics use none (no rectification, no
 * point cloud): such frames get a CameraInfo of unset size (0x0, which fits any image) and unit K.
 */
export const NOMINAL_CALIBRATION: CameraCalibration = pinholeCalibration(0, 0, 1, 1, 0, 0);

/** The samples of a file list, read one at a time. */
export async function* fileSamples(files: readonly FileSample[], depth: DepthPngFormat | undefined): AsyncGenerator<EvalSample> {
  for (const [index, file] of files.entries()) yield await readFileSample(file, index, depth);
}

/** Reads one sample: the colour image as a Frame, ground truth checked to be its size. */
export async function readFileSample(sample: FileSample, index: number, depth: DepthPngFormat | undefined): Promise<EvalSample> {
  const data = new Uint8Array(await readFile(sample.rgbPath));
  const format = extname(sample.rgbPath).toLowerCase() === ".png" ? "png" : "jpeg";
  const frame = decodeRgb(sample.rgbPath, data, format, sample.calibration, index);
  let gtDepth: Float32Array | undefined;
  if (sample.depthPath && depth) {
    const decoded = depthFromPng(new Uint8Array(await readFile(sample.depthPath)), depth.depthScale, sample.depthPath, depth.encoding);
    checkGroundTruthSize(sample.depthPath, frame, "depth", decoded.width, decoded.height);
    gtDepth = decoded.depth;
  }
  let gtLabels: Uint16Array | undefined;
  if (sample.labelsPath) {
    const labels = labelsFromPng(new Uint8Array(await readFile(sample.labelsPath)), sample.labelsPath);
    checkGroundTruthSize(sample.labelsPath, frame, "labels", labels.width, labels.height);
    gtLabels = labels.labels;
  }
  return { stem: sample.stem, frame, ...(gtDepth ? { gtDepth } : {}), ...(gtLabels ? { gtLabels } : {}) };
}

function decodeRgb(path: string, data: Uint8Array, format: "png" | "jpeg", calibration: CameraCalibration | undefined, index: number): Frame {
  const stamp = { sec: index, nanosec: 0 };
  const pending = {
    cameraTopic: path,
    stamp,
    frameId: "camera",
    image: { encoding: "compressed" as const, message: { header: { stamp, frame_id: "camera" }, format, data } },
    receivedAt: 0,
  };
  try {
    return decodeFrame(pending, calibration ?? NOMINAL_CALIBRATION).frame;
  } catch (error) {
    // The FrameError names the file (as its "topic"); the stamp (its index) means nothing here.
    if (error instanceof FrameError) throw new FatalError(`${path}: ${error.reason}: ${error.detail}`);
    throw error;
  }
}

/** Natural order (frame2 before frame10). */
export const naturalOrder = new Intl.Collator("en", { numeric: true }).compare;

/** Image files of a folder by stem; two files with one stem is an error. */
export async function imagesByStem(dir: string, shown: string): Promise<Map<string, string>> {
  const byStem = new Map<string, string>();
  for (const file of await readdir(dir)) {
    const ext = extname(file);
    if (!RGB_EXTENSIONS.has(ext.toLowerCase())) continue;
    const stem = file.slice(0, -ext.length);
    const other = byStem.get(stem);
    if (other) throw new FatalError(`${shown}/${other} and ${shown}/${file} have the same stem "${stem}"`);
    byStem.set(stem, file);
  }
  return new Map([...byStem].sort((a, b) => naturalOrder(a[0], b[0])));
}

export function describeList(items: readonly string[]): string {
  const shown = items.slice(0, 5).join(", ");
  return items.length > 5 ? `${shown} and ${items.length - 5} more` : shown;
}

export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/** Every file under `dir` (recursively), as paths relative to it, in natural order. */
export async function walkFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1))
    .sort(naturalOrder);
}
