// PNG previews a person can look at: camera image | colourised depth | colourised labels, one file
// per frame, read back from the input bag and the output bag that replay wrote, with a key below:
// the depth colour bar in metres and the class legend.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stampToNanoseconds, type RgbImage } from "../frame.js";
import { colorizeDepth, type DepthColormap } from "../imaging/colormap.js";
import { decodeCompressedImage, encodePng } from "../imaging/decode.js";
import { borrowMat, cv, keepAlive } from "../imaging/opencv.js";
import type { DepthsegParams } from "../config/parameters.js";
import { loadModelBundle, type ModelBundle } from "../inference/bundle.js";
import type { LabelClass } from "../inference/labels.js";
import { DEFAULT_MODEL_DIR } from "../paths.js";
import { colorizeMax } from "../pipeline/frameProcessor.js";
import type { ReplaySummary } from "../replay/summary.js";
import { imageToRgb } from "../messages/camera.js";
import { decodeMessage } from "../messages/cdr.js";
import type { CompressedImage, Image } from "../messages/types.js";
import { openBag } from "../transport/mcap/bagReader.js";
import { COMPRESSED_IMAGE_TYPE, IMAGE_TYPE } from "../replay/cameraTopics.js";

/** Images of equal height placed left to right. */
export function sideBySide(images: readonly RgbImage[]): RgbImage {
  const height = images[0]?.height ?? 0;
  if (images.some((image) => image.height !== height)) {
    throw new RangeError(`sideBySide: heights differ (${images.map((i) => i.height).join(", ")})`);
  }
  const width = images.reduce((sum, image) => sum + image.width, 0);
  const data = new Uint8Array(width * height * 3);
  let x = 0;
  for (const image of images) {
    const rowBytes = image.width * 3;
    for (let v = 0; v < height; v++) {
      data.set(image.data.subarray(v * rowBytes, (v + 1) * rowBytes), (v * width + x) * 3);
    }
    x += image.width;
  }
  return { width, height, data };
}

/** Images of equal width placed top to bottom. */
export function stacked(images: readonly RgbImage[]): RgbImage {
  const width = images[0]?.width ?? 0;
  if (images.some((image) => image.width !== width)) {
    throw new RangeError(`stacked: widths differ (${images.map((i) => i.width).join(", ")})`);
  }
  const height = images.reduce((sum, image) => sum + image.height, 0);
  const data = new Uint8Array(width * height * 3);
  let offset = 0;
  for (const image of images) {
    data.set(image.data, offset);
    offset += image.data.length;
  }
  return { width, height, data };
}

/** What the colours mean: the depth colour map's range (as replay drew it) and the classes. */
export interface PreviewKey {
  readonly depth: { readonly min: number; readonly max: number; readonly map: DepthColormap };
  readonly classes: readonly LabelClass[];
}

const KEY_BAR_TOP = 4;
const KEY_BAR_HEIGHT = 10;
const KEY_ROW = 14;
const KEY_FONT_SCALE = 0.35;
const KEY_MARGIN = 6;

/** A black panel with white text drawn on it by OpenCV. */
function panel(width: number, height: number, draw: (put: (text: string, x: number, y: number) => void, data: Uint8Array) => void): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const mat = borrowMat(data, height, width, cv().CV_8UC3, 3);
  const white = new (cv().Vec3)(255, 255, 255);
  draw((text, x, y) => mat.putText(text, new (cv().Point2)(x, y), cv().FONT_HERSHEY_SIMPLEX, KEY_FONT_SCALE, white, 1, cv().LINE_AA), data);
  keepAlive(data);
  return { width, height, data };
}

/** Tick spacing in metres: the smallest 1/2/5 step giving at most 6 ticks over the range. */
export function tickStep(span: number): number {
  for (let scale = 0.01; ; scale *= 10) {
    for (const step of [1, 2, 5]) if (span / (step * scale) <= 5) return step * scale;
  }
}

/**
 * The depth colour bar: x from KEY_MARGIN to width - KEY_MARGIN runs min..max metres, coloured
 * exactly as depth/colorized (colorizeDepth), with ticks labelled in metres.
 */
export function depthColourBar(width: number, height: number, depth: PreviewKey["depth"]): RgbImage {
  const barWidth = Math.max(1, width - 2 * KEY_MARGIN);
  const metres = Float32Array.from({ length: barWidth }, (_, x) => depth.min + ((depth.max - depth.min) * x) / Math.max(1, barWidth - 1));
  const row = colorizeDepth(metres, barWidth, 1, { min: depth.min, max: depth.max, map: depth.map });
  return panel(width, height, (put, data) => {
    for (let y = KEY_BAR_TOP; y < KEY_BAR_TOP + KEY_BAR_HEIGHT && y < height; y++) data.set(row, (y * width + KEY_MARGIN) * 3);
    const step = tickStep(depth.max - depth.min);
    for (let m = Math.ceil(depth.min / step) * step; m <= depth.max + 1e-9; m += step) {
      const x = KEY_MARGIN + Math.round(((m - depth.min) / (depth.max - depth.min)) * (barWidth - 1));
      const label = `${Number(m.toFixed(2))}${m + step > depth.max + 1e-9 ? " m" : ""}`;
      put(label, Math.min(Math.max(0, x - 4), width - 8 * label.length), KEY_BAR_TOP + KEY_BAR_HEIGHT + KEY_ROW);
    }
  });
}

/** Legend rows: each class a KEY_BAR_HEIGHT swatch of its colour and its name, wrapped to `width`. */
function legendLayout(width: number, classes: readonly LabelClass[]): { x: number; y: number; cls: LabelClass }[] {
  const placed: { x: number; y: number; cls: LabelClass }[] = [];
  let x = KEY_MARGIN;
  let y = KEY_BAR_TOP;
  for (const cls of classes) {
    const entry = KEY_BAR_HEIGHT + 4 + 7 * cls.name.length + 10;
    if (x > KEY_MARGIN && x + entry > width) {
      x = KEY_MARGIN;
      y += KEY_ROW + 2;
    }
    placed.push({ x, y, cls });
    x += entry;
  }
  return placed;
}

export function classLegend(width: number, height: number, classes: readonly LabelClass[]): RgbImage {
  return panel(width, height, (put, data) => {
    for (const { x, y, cls } of legendLayout(width, classes)) {
      for (let v = y; v < y + KEY_BAR_HEIGHT && v < height; v++) {
        for (let u = x; u < x + KEY_BAR_HEIGHT && u < width; u++) data.set(cls.color, (v * width + u) * 3);
      }
      put(cls.name, x + KEY_BAR_HEIGHT + 4, y + KEY_BAR_HEIGHT);
    }
  });
}

/** Height of the key row under panels of these widths. */
function keyHeight(labelsWidth: number, classes: readonly LabelClass[]): number {
  const legendBottom = Math.max(0, ...legendLayout(labelsWidth, classes).map((p) => p.y + KEY_ROW));
  return Math.max(KEY_BAR_TOP + KEY_BAR_HEIGHT + KEY_ROW + 4, legendBottom + 4);
}

/** camera | depth | labels with the key under them (the colour bar under depth, the legend under labels). */
export function previewImage(camera: RgbImage, depth: RgbImage, labels: RgbImage | undefined, key: PreviewKey): RgbImage {
  const views = labels ? [camera, depth, labels] : [camera, depth];
  const height = keyHeight(labels?.width ?? 0, key.classes);
  const under = [
    panel(camera.width, height, (put) => put("camera | depth | labels", KEY_MARGIN, KEY_BAR_TOP + KEY_BAR_HEIGHT)),
    depthColourBar(depth.width, height, key.depth),
    ...(labels ? [classLegend(labels.width, height, key.classes)] : []),
  ];
  return stacked([sideBySide(views), sideBySide(under)]);
}

export interface PreviewSources {
  readonly inputBag: string;
  readonly imageTopic: string;
  readonly outputBag: string;
  /** Output namespace replay wrote under, e.g. "/depthseg". */
  readonly namespace: string;
  readonly key: PreviewKey;
}

/** Writes `<outDir>/frame_<n>.png` for every frame with all three views; returns the paths. */
export async function writePreviews(sources: PreviewSources, outDir: string): Promise<string[]> {
  // The camera as the output passed it through; else from the input bag.
  const fromOutput = await readImages(sources.outputBag, [sources.imageTopic]);
  const cameraImages = fromOutput.size > 0 ? fromOutput : await readImages(sources.inputBag, [sources.imageTopic]);
  const depthTopic = `${sources.namespace}/depth/colorized`;
  const labelsTopic = `${sources.namespace}/segmentation/colorized`;
  const outputs = await readImages(sources.outputBag, [depthTopic, labelsTopic]);
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const [stamp, camera] of cameraImages.get(sources.imageTopic) ?? []) {
    const depth = outputs.get(depthTopic)?.get(stamp);
    const labels = outputs.get(labelsTopic)?.get(stamp);
    if (!depth) continue; // a frame that failed or was dropped has no outputs
    const path = join(outDir, `frame_${String(written.length).padStart(4, "0")}.png`);
    await writeFile(path, encodePng(previewImage(camera, depth, labels, sources.key)));
    written.push(path);
  }
  return written;
}

/** Every Image/CompressedImage on `topics`, decoded to RGB, by topic then stamp (ns). */
async function readImages(path: string, topics: readonly string[]): Promise<Map<string, Map<bigint, RgbImage>>> {
  const bag = await openBag(path);
  const byTopic = new Map<string, Map<bigint, RgbImage>>();
  try {
    const present = topics.filter((topic) => bag.topics.some((t) => t.topic === topic));
    for await (const message of bag.messages(present)) {
      let image: RgbImage;
      let stamp: bigint;
      if (message.schemaName === COMPRESSED_IMAGE_TYPE) {
        const compressed = decodeMessage<CompressedImage>(COMPRESSED_IMAGE_TYPE, message.data);
        image = decodeCompressedImage(compressed.format, compressed.data);
        stamp = stampToNanoseconds(compressed.header.stamp);
      } else if (message.schemaName === IMAGE_TYPE) {
        const raw = decodeMessage<Image>(IMAGE_TYPE, message.data);
        image = imageToRgb(raw);
        stamp = stampToNanoseconds(raw.header.stamp);
      } else continue;
      const forTopic = byTopic.get(message.topic) ?? new Map<bigint, RgbImage>();
      forTopic.set(stamp, image);
      byTopic.set(message.topic, forTopic);
    }
  } finally {
    await bag.close();
  }
  return byTopic;
}

/** The key of what replay drew: its colour-map range (as FrameProcessor computes it) and the bundle's classes. */
export function previewKey(params: DepthsegParams, bundle: ModelBundle): PreviewKey {
  return {
    depth: { min: params.colorizeMin, max: colorizeMax(params, bundle.outputs.depth.maxDepth), map: params.colormap },
    classes: bundle.outputs.segmentation?.labels.classes ?? [],
  };
}

/** Previews of a finished replay (`depthseg replay --previews`, `depthseg demo`): one PNG per processed frame. */
export async function writeReplayPreviews(summary: ReplaySummary, params: DepthsegParams, outDir: string): Promise<string[]> {
  const bundle = await loadModelBundle(params.model || DEFAULT_MODEL_DIR);
  return writePreviews(
    {
      inputBag: summary.input,
      imageTopic: summary.imageTopic,
      outputBag: summary.output,
      namespace: params.outputNamespace,
      key: previewKey(params, bundle),
    },
    outDir,
  );
}
