// Which layout a dataset folder has (datasets.ts), by the files that define each; more than one
// or none is an error that lists what was seen, so --layout can settle it.

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { FatalError } from "../errors.js";
import type { DatasetLayout } from "./datasets.js";
import { isDirectory, isFile, walkFiles } from "./datasetFiles.js";
import { NYU_RGB } from "./nyuDataset.js";

const SIGNATURES: readonly { layout: DatasetLayout; shape: string; test: (root: string) => Promise<boolean> }[] = [
  { layout: "tum", shape: "rgb.txt + depth.txt", test: async (r) => (await isFile(join(r, "rgb.txt"))) && (await isFile(join(r, "depth.txt"))) },
  {
    layout: "folder",
    shape: "rgb/ + depth/ + camera_info.yaml",
    test: async (r) => (await isDirectory(join(r, "rgb"))) && (await isDirectory(join(r, "depth"))) && (await isFile(join(r, "camera_info.yaml"))),
  },
  { layout: "cityscapes", shape: "leftImg8bit/ + gtFine/", test: async (r) => (await isDirectory(join(r, "leftImg8bit"))) && (await isDirectory(join(r, "gtFine"))) },
  {
    layout: "images-labels",
    shape: "images/ + labels/ (or Mapillary's v2.0/labels/)",
    test: async (r) =>
      (await isDirectory(join(r, "images"))) &&
      ((await isDirectory(join(r, "labels"))) || (await isDirectory(join(r, "v2.0", "labels"))) || (await isDirectory(join(r, "v1.2", "labels")))),
  },
  {
    layout: "sunrgbd",
    shape: "<sample>/image/ + <sample>/intrinsics.txt",
    test: async (r) => (await walkFiles(r)).some((f) => f === "intrinsics.txt" || f.endsWith("/intrinsics.txt")),
  },
  { layout: "nyu", shape: "<scene>/rgb_<id>.jpg + sync_depth_<id>.png", test: async (r) => (await walkFiles(r)).some((f) => NYU_RGB.test(f)) },
];

export const LAYOUT_SHAPES = SIGNATURES.map((s) => `${s.layout} (${s.shape})`).join(", ");

export async function detectLayout(root: string): Promise<DatasetLayout> {
  // The first matching signature wins: TUM and the plain folder are checked before the recursive walks.
  for (const signature of SIGNATURES) if (await signature.test(root)) return signature.layout;
  const seen = (await readdir(root)).slice(0, 12).join(", ") || "nothing";
  throw new FatalError(`${root}: not a dataset layout eval knows (it holds ${seen}); layouts: ${LAYOUT_SHAPES}; or pass --layout`);
}
