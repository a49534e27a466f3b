// SUN RGB-D (--layout sunrgbd), the release's per-image folders, at any depth under <root>
// (e.g. SUNRGBD/kv1/NYUdata/NYU0001/):
//   <sample>/image/<name>.jpg        colour
//   <sample>/depth/<name>.png        16-bit, stored bit-rotated by 3: metres = ((v >> 3) | (v << 13)) & 0xFFFF / 1000
//   <sample>/depth_bfx/<name>.png    the same, hole-filled; read only when depth/ is absent
//   <sample>/intrinsics.txt          the colour camera's 3x3 K, row-major
// A sample is a folder holding intrinsics.txt and image/; each must hold one image and one depth PNG.

import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FatalError } from "../errors.js";
import type { CameraCalibration } from "../frame.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { DEFAULT_DEPTH_SCALE, type DatasetOptions, type EvalDataset } from "./datasets.js";
import { fileSamples, isDirectory, RGB_EXTENSIONS, walkFiles, type FileSample } from "./datasetFiles.js";

export async function openSunRgbdDataset(root: string, options: DatasetOptions): Promise<EvalDataset> {
  const depthScale = options.depthScale ?? DEFAULT_DEPTH_SCALE;
  const samples = (await walkFiles(root)).filter((f) => f === "intrinsics.txt" || f.endsWith("/intrinsics.txt")).map((f) => dirname(f));
  const files: FileSample[] = [];
  let filled = 0;
  for (const rel of samples) {
    const dir = join(root, rel);
    if (!(await isDirectory(join(dir, "image")))) continue;
    const image = await onlyFile(join(dir, "image"), (f) => RGB_EXTENSIONS.has(f.slice(f.lastIndexOf(".")).toLowerCase()));
    const depthDir = (await isDirectory(join(dir, "depth"))) ? "depth" : (await isDirectory(join(dir, "depth_bfx"))) ? "depth_bfx" : undefined;
    if (!depthDir) throw new FatalError(`${dir}: no depth/ or depth_bfx/ (SUN RGB-D sample: image/, depth/, intrinsics.txt)`);
    if (depthDir === "depth_bfx") filled++;
    const depth = await onlyFile(join(dir, depthDir), (f) => f.toLowerCase().endsWith(".png"));
    const intrinsicsPath = join(dir, "intrinsics.txt");
    files.push({
      stem: rel === "." ? image.replace(/\.[^.]+$/, "") : rel,
      rgbPath: join(dir, "image", image),
      depthPath: join(dir, depthDir, depth),
      calibration: parseIntrinsicsTxt(await readFile(intrinsicsPath, "utf8"), intrinsicsPath),
    });
  }
  if (files.length === 0) throw new FatalError(`${root}: no SUN RGB-D sample folder (one holding image/, depth/ and intrinsics.txt)`);
  if (filled > 0) options.log?.(`${root}: ${filled} of ${files.length} samples have only depth_bfx/ (hole-filled depth): read that`);
  return {
    kind: "sunrgbd",
    path: root,
    hasDepth: true,
    hasLabels: false,
    depthScale,
    describe: { frames: files.length, depthScale, depthEncoding: "rotated right by 3 bits", holeFilled: filled },
    samples: () => fileSamples(files, { depthScale, encoding: "sunrgbd-rotated" }),
    close: async () => {},
  };
}

/** intrinsics.txt: nine numbers, K row-major; the image size is taken from the image (0x0 here). */
export function parseIntrinsicsTxt(text: string, source: string): CameraCalibration {
  const values = text.trim().split(/\s+/).map(Number);
  if (values.length !== 9 || !values.every(Number.isFinite)) {
    throw new FatalError(`${source}: expected a 3x3 matrix (9 numbers), got ${values.length} values`);
  }
  const [fx, , cx, , fy, cy] = values as [number, number, number, number, number, number];
  if (!(fx > 0 && fy > 0)) throw new FatalError(`${source}: focal lengths must be positive, got fx ${fx} fy ${fy}`);
  return pinholeCalibration(0, 0, fx, fy, cx, cy);
}

async function onlyFile(dir: string, keep: (name: string) => boolean): Promise<string> {
  const files = (await readdir(dir)).filter(keep);
  if (files.length !== 1) throw new FatalError(`${dir}: expected one image file, found ${files.length}`);
  return files[0]!;
}
