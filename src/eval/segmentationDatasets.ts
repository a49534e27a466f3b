// Segmentation-only datasets: colour images and class-id label maps, no depth.
//
// --layout images-labels (CamVid as SegNet ships it, Mapillary Vistas, any images + label maps):
//   <root>/images/<stem>.png|jpg|jpeg
//   <root>/labels/<stem>.png     class ids: 8- or 16-bit grey, or a palette PNG whose palette index is
//                                the class (Mapillary); for Mapillary Vistas' own folders, with no labels/,
//                                v2.0/labels/ (else v1.2/labels/) is read: --data mapillary/validation
//
// --layout cityscapes:
//   <root>/leftImg8bit/<split>/<city>/<name>_leftImg8bit.png
//   <root>/gtFine/<split>/<city>/<name>_gtFine_labelTrainIds.png   train ids 0-18, 255 = ignore
//   (--split, default val; labelTrainIds are made by cityscapesscripts' createTrainIdLabelImgs)

import { join } from "node:path";
import { FatalError } from "../errors.js";
import type { DatasetOptions, EvalDataset } from "./datasets.js";
import { describeList, fileSamples, imagesByStem, isDirectory, isFile, walkFiles, type FileSample } from "./datasetFiles.js";

/** Mapillary Vistas' label folders, newest first. */
const MAPILLARY_LABEL_DIRS = ["v2.0/labels", "v1.2/labels"] as const;

export async function openImagesLabelsDataset(root: string, options: DatasetOptions): Promise<EvalDataset> {
  if (!(await isDirectory(join(root, "images")))) throw new FatalError(`${root}: no images/ (images-labels layout: images/<stem>.jpg, labels/<stem>.png)`);
  let labelsDir: string | undefined = "labels";
  if (!(await isDirectory(join(root, labelsDir)))) {
    labelsDir = undefined;
    for (const dir of MAPILLARY_LABEL_DIRS) {
      if (await isDirectory(join(root, dir))) {
        labelsDir = dir;
        break;
      }
    }
  }
  if (!labelsDir) throw new FatalError(`${root}: no labels/ (nor Mapillary's ${MAPILLARY_LABEL_DIRS.join(", ")})`);
  if (labelsDir !== "labels") options.log?.(`${root}: labels from ${labelsDir}/ (Mapillary Vistas)`);
  const images = await imagesByStem(join(root, "images"), "images");
  if (images.size === 0) throw new FatalError(`${root}: images/ has no .png or .jpg images`);
  const files: FileSample[] = [];
  const missing: string[] = [];
  for (const [stem, file] of images) {
    const labelsPath = join(root, labelsDir, `${stem}.png`);
    if (!(await isFile(labelsPath))) missing.push(`images/${file}`);
    files.push({ stem, rgbPath: join(root, "images", file), labelsPath });
  }
  if (missing.length > 0) throw new FatalError(`${root}: no ${labelsDir}/<stem>.png for ${describeList(missing)}`);
  return segmentationDataset("images-labels", root, files, { labels: `${labelsDir}/` });
}

const CITYSCAPES_IMAGE = /_leftImg8bit\.png$/;

export async function openCityscapesDataset(root: string, options: DatasetOptions): Promise<EvalDataset> {
  const split = options.split ?? "val";
  const imageRoot = join(root, "leftImg8bit", split);
  if (!(await isDirectory(imageRoot))) throw new FatalError(`${root}: no leftImg8bit/${split}/ (Cityscapes layout; --split names the split)`);
  const images = (await walkFiles(imageRoot)).filter((f) => CITYSCAPES_IMAGE.test(f));
  if (images.length === 0) throw new FatalError(`${imageRoot}: no <city>/*_leftImg8bit.png`);
  const files: FileSample[] = [];
  const missing: string[] = [];
  for (const image of images) {
    const labels = join(root, "gtFine", split, image.replace(CITYSCAPES_IMAGE, "_gtFine_labelTrainIds.png"));
    if (!(await isFile(labels))) missing.push(image);
    files.push({ stem: image.replace(CITYSCAPES_IMAGE, ""), rgbPath: join(imageRoot, image), labelsPath: labels });
  }
  if (missing.length > 0) {
    throw new FatalError(
      `${root}: no gtFine/${split}/<city>/*_gtFine_labelTrainIds.png for ${describeList(missing)} ` +
        "(create them with cityscapesscripts' createTrainIdLabelImgs)",
    );
  }
  return segmentationDataset("cityscapes", root, files, { split });
}

function segmentationDataset(
  kind: "images-labels" | "cityscapes",
  root: string,
  files: readonly FileSample[],
  describe: Record<string, string>,
): EvalDataset {
  return {
    kind,
    path: root,
    hasDepth: false,
    hasLabels: true,
    depthScale: null,
    describe: { frames: files.length, ...describe, depth: false },
    samples: () => fileSamples(files, undefined),
    close: async () => {},
  };
}
