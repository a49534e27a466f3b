// Evaluation datasets: frames with ground truth, from a rosbag2 MCAP or a folder in one of the
// layouts below. All are read lazily, one sample at a time. Each layout's module documents its
// exact folder shape; `--layout` picks one, otherwise detectLayout looks at the folder.

import { stat } from "node:fs/promises";
import { FatalError } from "../errors.js";
import type { Frame } from "../frame.js";
import { openFolderDataset } from "./folderDataset.js";
import { openMcapDataset } from "./mcapDataset.js";
import { openNyuDataset } from "./nyuDataset.js";
import { openCityscapesDataset, openImagesLabelsDataset } from "./segmentationDatasets.js";
import { openSunRgbdDataset } from "./sunRgbdDataset.js";
import { openTumDataset } from "./tumDataset.js";
import { detectLayout } from "./layoutDetection.js";

export interface EvalSample {
  /** Names the frame in the report: the file stem (folder) or the stamp "sec.nanosec" (bag). */
  readonly stem: string;
  readonly frame: Frame;
  /** Metres, camera resolution; NaN, 0 or negative = no measurement; absent in segmentation-only datasets. */
  readonly gtDepth?: Float32Array;
  /** Class ids, camera resolution; absent when the dataset has no labels. */
  readonly gtLabels?: Uint16Array;
}

/**
 * mcap: a rosbag2 recording; folder: rgb/ depth/ camera_info.yaml [labels/]; tum: TUM RGB-D;
 * nyu: NYU Depth v2 pairs; sunrgbd: SUN RGB-D; images-labels: CamVid / Mapillary style
 * images/ + labels/; cityscapes: leftImg8bit/ + gtFine/.
 */
export type DatasetLayout = "mcap" | "folder" | "tum" | "nyu" | "sunrgbd" | "images-labels" | "cityscapes";
export const DATASET_LAYOUTS: readonly DatasetLayout[] = ["mcap", "folder", "tum", "nyu", "sunrgbd", "images-labels", "cityscapes"];

export interface EvalDataset {
  readonly kind: DatasetLayout;
  readonly path: string;
  /** Whether samples carry ground-truth depth (false: segmentation-only). */
  readonly hasDepth: boolean;
  /** Whether samples carry ground-truth labels. */
  readonly hasLabels: boolean;
  /** Depth PNG value / depthScale = metres; null where depth is not PNG values (bags, no depth). */
  readonly depthScale: number | null;
  /** What was read, for the report (topics, or folder layout and depth scale). */
  readonly describe: Readonly<Record<string, string | number | boolean | null>>;
  samples(): AsyncIterable<EvalSample>;
  close(): Promise<void>;
}

export interface DatasetOptions {
  /** Folder layout; undefined: detected. */
  readonly layout?: DatasetLayout;
  /** Depth PNG value / depthScale = metres; undefined: the layout's (folder DEFAULT_DEPTH_SCALE, TUM 5000). */
  readonly depthScale?: number;
  readonly imageTopic?: string;
  readonly cameraInfoTopic?: string;
  readonly depthTopic?: string;
  readonly labelsTopic?: string;
  /** Bags: how far (seconds) a ground-truth or CameraInfo stamp may be from the image's. */
  readonly gtSlopSec?: number;
  /** Cityscapes: the split folder; default val. */
  readonly split?: string;
  /** TUM: intrinsics preset (fr1, fr2, fr3, ros) instead of one detected from the folder name. */
  readonly intrinsics?: string;
  readonly log?: (line: string) => void;
}

/** Default divisor of folder depth PNGs: millimetres. */
export const DEFAULT_DEPTH_SCALE = 1000;

/** Bags: ground truth within 5 ms of the image stamp pairs (aligned depth is stamped apart by microseconds). */
export const DEFAULT_GT_SLOP_SEC = 0.005;

/** A file is read as an MCAP; a folder by its layout (given, or detected). */
export async function openDataset(path: string, options: DatasetOptions): Promise<EvalDataset> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FatalError(`--data ${path}: ${code === "ENOENT" ? "no such file or folder" : String(code ?? error)}`);
  }
  if (options.depthScale !== undefined && !(Number.isFinite(options.depthScale) && options.depthScale > 0)) {
    throw new FatalError(`--depth-scale must be a positive number, got ${options.depthScale}`);
  }
  if (!isDirectory) {
    if (options.layout && options.layout !== "mcap") throw new FatalError(`--layout ${options.layout} needs a folder; ${path} is a file`);
    return openMcapDataset(path, options);
  }
  const layout = options.layout ?? (await detectLayout(path));
  switch (layout) {
    case "mcap":
      throw new FatalError(`--layout mcap needs a rosbag2 .mcap file; ${path} is a folder`);
    case "folder":
      return openFolderDataset(path, options);
    case "tum":
      return openTumDataset(path, options);
    case "nyu":
      return openNyuDataset(path, options);
    case "sunrgbd":
      return openSunRgbdDataset(path, options);
    case "images-labels":
      return openImagesLabelsDataset(path, options);
    case "cityscapes":
      return openCityscapesDataset(path, options);
    default: {
      const never: never = layout;
      throw new FatalError(`unknown layout ${String(never)}`);
    }
  }
}
