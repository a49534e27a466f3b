// NYU Depth v2 pairs (--layout nyu), as the BTS / ZoeDepth / Depth Anything evaluation code reads
// the official test split (nyu_depth_v2/official_splits/test):
//   <root>/<scene>/rgb_<id>.jpg|png        colour, 640x480
//   <root>/<scene>/sync_depth_<id>.png     16-bit, value / 1000 = metres, 0 = no measurement
//   <root>/camera_info.yaml                optional: overrides the NYU intrinsics
// (<scene>/ may be absent or nested: every rgb_<id> under <root> with its sync_depth_<id> beside it.)
// Intrinsics: the NYU toolbox's camera_params.m colour camera (K only: eval does not rectify).

import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FatalError } from "../errors.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { parseCameraInfoYaml } from "./cameraInfoYaml.js";
import { DEFAULT_DEPTH_SCALE, type DatasetOptions, type EvalDataset } from "./datasets.js";
import { describeList, fileSamples, isFile, walkFiles, type FileSample } from "./datasetFiles.js";

/** NYU Depth v2 toolbox camera_params.m: fx_rgb, fy_rgb, cx_rgb, cy_rgb at 640x480. */
export const NYU_INTRINSICS = [518.8579, 519.4696, 325.5824, 253.7362] as const;

export const NYU_RGB = /(^|\/)rgb_([^/]+)\.(jpg|jpeg|png)$/i;

export async function openNyuDataset(root: string, options: DatasetOptions): Promise<EvalDataset> {
  const depthScale = options.depthScale ?? DEFAULT_DEPTH_SCALE;
  const all = await walkFiles(root);
  const present = new Set(all);
  const rgb = all.filter((f) => NYU_RGB.test(f));
  if (rgb.length === 0) throw new FatalError(`${root}: no rgb_<id>.jpg files (NYU layout: <scene>/rgb_<id>.jpg and <scene>/sync_depth_<id>.png)`);
  const depthOf = (file: string) => join(dirname(file), `sync_depth_${NYU_RGB.exec(file)![2]}.png`).replace(/^\.\//, "");
  const noDepth = rgb.filter((f) => !present.has(depthOf(f)));
  if (noDepth.length > 0) throw new FatalError(`${root}: no sync_depth_<id>.png beside ${describeList(noDepth)}`);
  const yaml = join(root, "camera_info.yaml");
  const calibration = (await isFile(yaml))
    ? parseCameraInfoYaml(await readFile(yaml, "utf8"), yaml)
    : pinholeCalibration(640, 480, ...NYU_INTRINSICS);
  const files: FileSample[] = rgb.map((f) => ({
    stem: f.replace(/\.[^.]+$/, ""),
    rgbPath: join(root, f),
    depthPath: join(root, depthOf(f)),
    calibration,
  }));
  return {
    kind: "nyu",
    path: root,
    hasDepth: true,
    hasLabels: false,
    depthScale,
    describe: { frames: files.length, depthScale, intrinsics: (await isFile(yaml)) ? yaml : "NYU Depth v2 colour camera" },
    samples: () => fileSamples(files, { depthScale }),
    close: async () => {},
  };
}
