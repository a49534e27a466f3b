// Writes samples/sample.mcap, the input of the README's quick start: a short sequence from the
// synthetic world (src/synthetic), 12 frames of 320x240 at 10 Hz, with
//   /camera/color/image_raw/compressed   sensor_msgs/msg/CompressedImage  JPEG (quality 85)
//   /camera/color/camera_info            sensor_msgs/msg/CameraInfo
//   /camera/depth/ground_truth           sensor_msgs/msg/Image 32FC1, metres along the optical z axis
//   /camera/labels/ground_truth          sensor_msgs/msg/Image mono8, SYNTHETIC_CLASSES ids
// all four with the same stamp and frame_id per frame. Deterministic (same bytes every run).
// Run: npx tsx tools/make-sample-bag.ts

import { join } from "node:path";
import type { RgbImage } from "../src/frame.js";
import { PACKAGE_ROOT } from "../src/paths.js";
import { SYNTHETIC_TOPICS, writeSyntheticBag } from "../src/synthetic/bag.js";
import { renderFrame, syntheticCalibration } from "../src/synthetic/frames.js";
import { generateScene, type Scene } from "../src/synthetic/scene.js";

/** The sample's scene. Keep it out of training data (it is the demo's held-out scene). */
export const SAMPLE_SCENE_SEED = 90010;
export const SAMPLE_WIDTH = 320;
export const SAMPLE_HEIGHT = 240;
export const SAMPLE_FRAMES = 12;
/** The camera moves an eighth of its loop around the room over the sample's 12 frames. */
export const SAMPLE_FRAMES_PER_LOOP = 96;
export const SAMPLE_JPEG_QUALITY = 85;
export const SAMPLE_IMAGE_TOPIC = SYNTHETIC_TOPICS.image;
export const SAMPLE_INFO_TOPIC = SYNTHETIC_TOPICS.cameraInfo;

let sampleScene: Scene | undefined;

/**
 * Frame `index` of the sample's camera path, rendered at width x height (default 640x480, the
 * size bench/pipeline.bench.ts feeds the pipeline).
 */
export function drawScene(index: number, width = 640, height = 480): RgbImage {
  sampleScene ??= generateScene(SAMPLE_SCENE_SEED);
  return renderFrame(sampleScene, index, {
    calibration: syntheticCalibration(width, height),
    framesPerLoop: SAMPLE_FRAMES_PER_LOOP,
  }).image;
}

export async function writeSampleBag(path: string): Promise<void> {
  await writeSyntheticBag(path, [SAMPLE_SCENE_SEED], {
    calibration: syntheticCalibration(SAMPLE_WIDTH, SAMPLE_HEIGHT),
    frames: SAMPLE_FRAMES,
    framesPerLoop: SAMPLE_FRAMES_PER_LOOP,
    jpegQuality: SAMPLE_JPEG_QUALITY,
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  const path = join(PACKAGE_ROOT, "samples", "sample.mcap");
  await writeSampleBag(path);
  console.log(`wrote ${path}`);
}
