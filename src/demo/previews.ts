// PNG previews a person can look at: camera image | colourised depth | colourised labels, one file
// per frame, read back from the input bag and the output bag that replay wrote.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stampToNanoseconds, type RgbImage } from "../frame.js";
import { decodeCompressedImage, encodePng } from "../imaging/decode.js";
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

export interface PreviewSources {
  readonly inputBag: string;
  readonly imageTopic: string;
  readonly outputBag: string;
  /** Output namespace replay wrote under, e.g. "/depthseg". */
  readonly namespace: string;
}

/** Writes `<outDir>/frame_<n>.png` for every frame with all three views; returns the paths. */
export async function writePreviews(sources: PreviewSources, outDir: string): Promise<string[]> {
  const cameraImages = await readImages(sources.inputBag, [sources.imageTopic]);
  const depthTopic = `${sources.namespace}/depth/colorized`;
  const labelsTopic = `${sources.namespace}/segmentation/colorized`;
  const outputs = await readImages(sources.outputBag, [depthTopic, labelsTopic]);
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const [stamp, camera] of cameraImages.get(sources.imageTopic) ?? []) {
    const depth = outputs.get(depthTopic)?.get(stamp);
    const labels = outputs.get(labelsTopic)?.get(stamp);
    if (!depth) continue; // a frame that failed or was dropped has no outputs
    const views = labels ? [camera, depth, labels] : [camera, depth];
    const path = join(outDir, `frame_${String(written.length).padStart(4, "0")}.png`);
    await writeFile(path, encodePng(sideBySide(views)));
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
