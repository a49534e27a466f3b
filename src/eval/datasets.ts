// Evaluation datasets: frames with ground truth, from a rosbag2 MCAP or a folder. Both are read
// lazily, one sample at a time.

import { stat } from "node:fs/promises";
import { FatalError } from "../errors.js";
import type { Frame } from "../frame.js";
import { openFolderDataset } from "./folderDataset.js";
import { openMcapDataset } from "./mcapDataset.js";

export interface EvalSample {
  /** Names the frame in the report: the file stem (folder) or the stamp "sec.nanosec" (bag). */
  readonly stem: string;
  readonly frame: Frame;
  /** Metres, camera resolution; NaN, 0 or negative = no measurement. */
  readonly gtDepth: Float32Array;
  /** Class ids, camera resolution; absent when the dataset has no labels. */
  readonly gtLabels?: Uint16Array;
}

export interface EvalDataset {
  readonly kind: "mcap" | "folder";
  readonly path: string;
  /** Whether samples carry ground-truth labels. */
  readonly hasLabels: boolean;
  /** What was read, for the report (topics, or folder layout and depth scale). */
  readonly describe: Readonly<Record<string, string | number | boolean | null>>;
  samples(): AsyncIterable<EvalSample>;
  close(): Promise<void>;
}

export interface DatasetOptions {
  /** Folder datasets: depth PNG value / depthScale = metres. */
  readonly depthScale: number;
  readonly imageTopic?: string;
  readonly cameraInfoTopic?: string;
  readonly depthTopic?: string;
  readonly labelsTopic?: string;
  readonly log?: (line: string) => void;
}

/** Default divisor of folder depth PNGs: millimetres. */
export const DEFAULT_DEPTH_SCALE = 1000;

/** A folder is a folder dataset; a file is read as an MCAP. */
export async function openDataset(path: string, options: DatasetOptions): Promise<EvalDataset> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FatalError(`--data ${path}: ${code === "ENOENT" ? "no such file or folder" : String(code ?? error)}`);
  }
  return isDirectory ? openFolderDataset(path, options) : openMcapDataset(path, options);
}
