// Folder dataset (--layout folder):
//   <root>/rgb/<stem>.png|jpg|jpeg      colour images
//   <root>/depth/<stem>.png             16-bit, value / depthScale = metres, 0 = no measurement
//   <root>/labels/<stem>.png            optional: 8- or 16-bit or palette class ids (every stem, when the folder exists)
//   <root>/camera_info.yaml             ROS camera_info YAML of the rgb images
// Frames are read in natural order of their stems (frame2 before frame10).

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { FatalError } from "../errors.js";
import { parseCameraInfoYaml } from "./cameraInfoYaml.js";
import { DEFAULT_DEPTH_SCALE, type DatasetOptions, type EvalDataset } from "./datasets.js";
import { describeList, fileSamples, imagesByStem, isDirectory, isFile, type FileSample } from "./datasetFiles.js";

const LAYOUT = "expected rgb/<stem>.png|jpg, depth/<stem>.png (16-bit), optional labels/<stem>.png and camera_info.yaml";

export async function openFolderDataset(root: string, options: DatasetOptions): Promise<EvalDataset> {
  const depthScale = options.depthScale ?? DEFAULT_DEPTH_SCALE;
  const missing: string[] = [];
  for (const dir of ["rgb", "depth"]) if (!(await isDirectory(join(root, dir)))) missing.push(`${dir}/`);
  if (!(await isFile(join(root, "camera_info.yaml")))) missing.push("camera_info.yaml");
  if (missing.length > 0) throw new FatalError(`${root}: no ${missing.join(", ")} (${LAYOUT})`);
  const hasLabels = await isDirectory(join(root, "labels"));

  const rgb = await imagesByStem(join(root, "rgb"), "rgb");
  if (rgb.size === 0) throw new FatalError(`${root}: rgb/ has no .png or .jpg images (${LAYOUT})`);
  const depthFiles = new Set(await readdir(join(root, "depth")));
  const labelFiles = hasLabels ? new Set(await readdir(join(root, "labels"))) : undefined;
  const entries = [...rgb];
  const noDepth = entries.filter(([stem]) => !depthFiles.has(`${stem}.png`)).map(([, file]) => file);
  if (noDepth.length > 0) {
    throw new FatalError(`${root}: no depth/<stem>.png for ${describeList(noDepth.map((f) => `rgb/${f}`))}`);
  }
  if (labelFiles) {
    const noLabels = entries.filter(([stem]) => !labelFiles.has(`${stem}.png`)).map(([, file]) => file);
    if (noLabels.length > 0) {
      throw new FatalError(`${root}: labels/ exists but has no <stem>.png for ${describeList(noLabels.map((f) => `rgb/${f}`))}`);
    }
  }
  const infoPath = join(root, "camera_info.yaml");
  const calibration = parseCameraInfoYaml(await readFile(infoPath, "utf8"), infoPath);
  const files: FileSample[] = entries.map(([stem, file]) => ({
    stem,
    rgbPath: join(root, "rgb", file),
    depthPath: join(root, "depth", `${stem}.png`),
    ...(hasLabels ? { labelsPath: join(root, "labels", `${stem}.png`) } : {}),
    calibration,
  }));

  return {
    kind: "folder",
    path: root,
    hasDepth: true,
    hasLabels,
    depthScale,
    describe: { frames: files.length, depthScale, labels: hasLabels, cameraInfo: infoPath },
    samples: () => fileSamples(files, { depthScale }),
    close: async () => {},
  };
}
