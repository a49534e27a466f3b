// Folder dataset:
//   <root>/rgb/<stem>.png|jpg|jpeg      colour images
//   <root>/depth/<stem>.png             16-bit, value / depthScale = metres, 0 = no measurement
//   <root>/labels/<stem>.png            optional: 8- or 16-bit class ids (every stem, when the folder exists)
//   <root>/camera_info.yaml             ROS camera_info YAML of the rgb images
// Frames are read in natural order of their stems (frame2 before frame10).

import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { FatalError, FrameError } from "../errors.js";
import type { CameraCalibration } from "../frame.js";
import { decodeFrame } from "../messages/ingest.js";
import { parseCameraInfoYaml } from "./cameraInfoYaml.js";
import type { DatasetOptions, EvalDataset, EvalSample } from "./datasets.js";
import { checkGroundTruthSize, depthFromPng, labelsFromPng } from "./groundTruth.js";

const RGB_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);
const LAYOUT = "expected rgb/<stem>.png|jpg, depth/<stem>.png (16-bit), optional labels/<stem>.png and camera_info.yaml";

interface Entry {
  readonly stem: string;
  readonly rgbFile: string;
}

export async function openFolderDataset(root: string, options: DatasetOptions): Promise<EvalDataset> {
  const { depthScale } = options;
  if (!(Number.isFinite(depthScale) && depthScale > 0)) {
    throw new FatalError(`--depth-scale must be a positive number, got ${depthScale}`);
  }
  const missing: string[] = [];
  for (const dir of ["rgb", "depth"]) if (!(await isDirectory(join(root, dir)))) missing.push(`${dir}/`);
  if (!(await isFile(join(root, "camera_info.yaml")))) missing.push("camera_info.yaml");
  if (missing.length > 0) throw new FatalError(`${root}: no ${missing.join(", ")} (${LAYOUT})`);
  const hasLabels = await isDirectory(join(root, "labels"));

  const entries = await listRgb(join(root, "rgb"), root);
  const depthFiles = new Set(await readdir(join(root, "depth")));
  const labelFiles = hasLabels ? new Set(await readdir(join(root, "labels"))) : undefined;
  const noDepth = entries.filter((e) => !depthFiles.has(`${e.stem}.png`)).map((e) => e.rgbFile);
  if (noDepth.length > 0) {
    throw new FatalError(`${root}: no depth/<stem>.png for ${describeList(noDepth.map((f) => `rgb/${f}`))}`);
  }
  if (labelFiles) {
    const noLabels = entries.filter((e) => !labelFiles.has(`${e.stem}.png`)).map((e) => e.rgbFile);
    if (noLabels.length > 0) {
      throw new FatalError(`${root}: labels/ exists but has no <stem>.png for ${describeList(noLabels.map((f) => `rgb/${f}`))}`);
    }
  }
  const infoPath = join(root, "camera_info.yaml");
  const calibration = parseCameraInfoYaml(await readFile(infoPath, "utf8"), infoPath);

  return {
    kind: "folder",
    path: root,
    hasLabels,
    describe: { frames: entries.length, depthScale, labels: hasLabels, cameraInfo: infoPath },
    samples: () => samples(root, entries, calibration, depthScale, hasLabels),
    close: async () => {},
  };
}

async function* samples(
  root: string,
  entries: readonly Entry[],
  calibration: CameraCalibration,
  depthScale: number,
  hasLabels: boolean,
): AsyncGenerator<EvalSample> {
  for (const [index, entry] of entries.entries()) {
    const rgbPath = `rgb/${entry.rgbFile}`;
    const data = new Uint8Array(await readFile(join(root, "rgb", entry.rgbFile)));
    const format = extname(entry.rgbFile).toLowerCase() === ".png" ? "png" : "jpeg";
    let frame;
    try {
      ({ frame } = decodeFrame(
        {
          cameraTopic: rgbPath,
          stamp: { sec: index, nanosec: 0 },
          frameId: "camera",
          image: { encoding: "compressed", message: { header: { stamp: { sec: index, nanosec: 0 }, frame_id: "camera" }, format, data } },
          receivedAt: 0,
        },
        calibration,
      ));
    } catch (error) {
      // The FrameError names the file (as its "topic"); the stamp (its index) means nothing here.
      if (error instanceof FrameError) throw new FatalError(`${join(root, rgbPath)}: ${error.reason}: ${error.detail}`);
      throw error;
    }
    const depthPath = join(root, "depth", `${entry.stem}.png`);
    const depth = depthFromPng(new Uint8Array(await readFile(depthPath)), depthScale, depthPath);
    checkGroundTruthSize(depthPath, frame, "depth", depth.width, depth.height);
    let gtLabels: Uint16Array | undefined;
    if (hasLabels) {
      const labelsPath = join(root, "labels", `${entry.stem}.png`);
      const labels = labelsFromPng(new Uint8Array(await readFile(labelsPath)), labelsPath);
      checkGroundTruthSize(labelsPath, frame, "labels", labels.width, labels.height);
      gtLabels = labels.labels;
    }
    yield { stem: entry.stem, frame, gtDepth: depth.depth, ...(gtLabels ? { gtLabels } : {}) };
  }
}

async function listRgb(dir: string, root: string): Promise<Entry[]> {
  const byStem = new Map<string, string>();
  for (const file of await readdir(dir)) {
    const ext = extname(file);
    if (!RGB_EXTENSIONS.has(ext.toLowerCase())) continue;
    const stem = file.slice(0, -ext.length);
    const other = byStem.get(stem);
    if (other) throw new FatalError(`${root}: rgb/${other} and rgb/${file} have the same stem "${stem}"`);
    byStem.set(stem, file);
  }
  if (byStem.size === 0) throw new FatalError(`${root}: rgb/ has no .png or .jpg images (${LAYOUT})`);
  const collator = new Intl.Collator("en", { numeric: true });
  return [...byStem].map(([stem, rgbFile]) => ({ stem, rgbFile })).sort((a, b) => collator.compare(a.stem, b.stem));
}

function describeList(items: readonly string[]): string {
  const shown = items.slice(0, 5).join(", ");
  return items.length > 5 ? `${shown} and ${items.length - 5} more` : shown;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
