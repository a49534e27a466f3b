// TUM RGB-D benchmark sequence (--layout tum), as downloaded and unpacked:
//   <root>/rgb.txt                  "timestamp filename" lines (# comments), e.g. "1305031102.175304 rgb/1305031102.175304.png"
//   <root>/depth.txt                the same for depth
//   <root>/rgb/<timestamp>.png      colour, 640x480
//   <root>/depth/<timestamp>.png    16-bit, value / 5000 = metres (TUM's depth factor), 0 = no measurement
//   <root>/camera_info.yaml         optional: overrides the intrinsics preset
// Colour and depth are associated as TUM's associate.py does (offset 0, max difference 0.02 s):
// every pair closer than 0.02 s is a candidate, candidates are taken closest first, each frame
// at most once, and the pairs are read in colour-timestamp order.
// Intrinsics: from camera_info.yaml, else --intrinsics fr1|fr2|fr3|ros, else the freiburgN in the
// folder's name (rgbd_dataset_freiburg1_xyz → fr1), else the ROS default. Values from TUM's
// "Intrinsic Camera Calibration of the Kinect" page (K only: eval does not rectify).

import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { FatalError } from "../errors.js";
import type { CameraCalibration } from "../frame.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { parseCameraInfoYaml } from "./cameraInfoYaml.js";
import type { DatasetOptions, EvalDataset } from "./datasets.js";
import { fileSamples, isFile, type FileSample } from "./datasetFiles.js";

/** TUM's depth factor: PNG value / 5000 = metres. */
export const TUM_DEPTH_SCALE = 5000;
/** associate.py's defaults. */
export const TUM_MAX_DIFFERENCE_SEC = 0.02;

/** fx, fy, cx, cy of the TUM Kinects at 640x480, and the ROS default TUM lists with them. */
export const TUM_INTRINSICS: Readonly<Record<string, readonly [number, number, number, number]>> = {
  fr1: [517.3, 516.5, 318.6, 255.3],
  fr2: [520.9, 521.0, 325.1, 249.7],
  fr3: [535.4, 539.2, 320.1, 247.6],
  ros: [525.0, 525.0, 319.5, 239.5],
};

export interface TumEntry {
  readonly timestamp: number;
  readonly file: string;
}

/** A TUM list file: "timestamp filename [...]" per line, "#" comments. */
export function parseTumList(text: string, source: string): TumEntry[] {
  const entries: TumEntry[] = [];
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [stamp, file] = line.split(/[\s,]+/);
    const timestamp = Number(stamp);
    if (!Number.isFinite(timestamp) || !file) throw new FatalError(`${source}:${n + 1}: expected "timestamp filename", got "${line}"`);
    entries.push({ timestamp, file });
  }
  return entries;
}

/**
 * associate.py's associate(first, second, offset, max_difference): candidates |a − (b + offset)|
 * < max_difference, sorted by (difference, a, b), taken greedily with each key used once; the
 * result sorted by a. Both lists are sorted here so only pairs within the window are generated.
 */
export function associateTimestamps(
  first: readonly number[],
  second: readonly number[],
  offset = 0,
  maxDifference = TUM_MAX_DIFFERENCE_SEC,
): [number, number][] {
  const a = [...first].sort((x, y) => x - y);
  const b = [...second].sort((x, y) => x - y);
  const candidates: [number, number, number][] = [];
  let start = 0;
  for (const x of a) {
    while (start < b.length && b[start]! + offset <= x - maxDifference) start++;
    for (let j = start; j < b.length && b[j]! + offset < x + maxDifference; j++) {
      const diff = Math.abs(x - (b[j]! + offset));
      if (diff < maxDifference) candidates.push([diff, x, b[j]!]);
    }
  }
  candidates.sort((p, q) => p[0] - q[0] || p[1] - q[1] || p[2] - q[2]);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  const matches: [number, number][] = [];
  for (const [, x, y] of candidates) {
    if (usedA.has(x) || usedB.has(y)) continue;
    usedA.add(x);
    usedB.add(y);
    matches.push([x, y]);
  }
  return matches.sort((p, q) => p[0] - q[0]);
}

export async function openTumDataset(root: string, options: DatasetOptions): Promise<EvalDataset> {
  const depthScale = options.depthScale ?? TUM_DEPTH_SCALE;
  const lists: Record<string, TumEntry[]> = {};
  for (const name of ["rgb.txt", "depth.txt"]) {
    const path = join(root, name);
    if (!(await isFile(path))) throw new FatalError(`${root}: no ${name} (TUM RGB-D layout: rgb.txt, depth.txt, rgb/, depth/)`);
    lists[name] = parseTumList(await readFile(path, "utf8"), path);
  }
  const rgb = new Map(lists["rgb.txt"]!.map((e) => [e.timestamp, e.file]));
  const depth = new Map(lists["depth.txt"]!.map((e) => [e.timestamp, e.file]));
  const pairs = associateTimestamps([...rgb.keys()], [...depth.keys()]);
  if (pairs.length === 0) {
    throw new FatalError(`${root}: no rgb.txt and depth.txt entries are within ${TUM_MAX_DIFFERENCE_SEC} s of each other (associate.py's rule)`);
  }
  const { calibration, source } = await tumCalibration(root, options);
  const files: FileSample[] = pairs.map(([tRgb, tDepth]) => ({
    stem: rgb.get(tRgb)!.replace(/^.*\//, "").replace(/\.[^.]+$/, ""),
    rgbPath: join(root, rgb.get(tRgb)!),
    depthPath: join(root, depth.get(tDepth)!),
    calibration,
  }));
  const unpaired = rgb.size - pairs.length;
  options.log?.(
    `${root}: associated ${pairs.length} of ${rgb.size} colour frames with depth within ${TUM_MAX_DIFFERENCE_SEC} s` +
      (unpaired > 0 ? ` (${unpaired} without depth that close)` : "") +
      `; intrinsics ${source}`,
  );
  return {
    kind: "tum",
    path: root,
    hasDepth: true,
    hasLabels: false,
    depthScale,
    describe: { frames: files.length, colourFrames: rgb.size, depthFrames: depth.size, depthScale, intrinsics: source },
    samples: () => fileSamples(files, { depthScale }),
    close: async () => {},
  };
}

async function tumCalibration(root: string, options: DatasetOptions): Promise<{ calibration: CameraCalibration; source: string }> {
  const yaml = join(root, "camera_info.yaml");
  if (await isFile(yaml)) return { calibration: parseCameraInfoYaml(await readFile(yaml, "utf8"), yaml), source: yaml };
  let preset = options.intrinsics;
  let why = "--intrinsics";
  if (preset === undefined) {
    const match = /freiburg([123])/.exec(basename(resolve(root)));
    preset = match ? `fr${match[1]}` : "ros";
    why = match ? `from the folder name` : "the ROS default: the folder name has no freiburg1/2/3";
  }
  const k = TUM_INTRINSICS[preset];
  if (!k) throw new FatalError(`--intrinsics must be one of ${Object.keys(TUM_INTRINSICS).join(", ")}, got "${preset}"`);
  return { calibration: pinholeCalibration(640, 480, ...k), source: `${preset} (${why}): fx ${k[0]} fy ${k[1]} cx ${k[2]} cy ${k[3]}` };
}
