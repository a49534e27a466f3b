import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readOutputBag, tempDir, typed } from "../../tests/support/cameraBag.js";
import { SAMPLE_FRAMES, SAMPLE_HEIGHT, SAMPLE_WIDTH, writeSampleBag } from "../../tools/make-sample-bag.js";
import { decodeCompressedImage } from "../imaging/decode.js";
import { cameraInfoToCalibration } from "../messages/camera.js";
import type { CameraInfo, CompressedImage, Image } from "../messages/types.js";
import { SAMPLE_BAG } from "../paths.js";
import { SYNTHETIC_FRAME_ID, SYNTHETIC_TOPICS, writeSyntheticBag } from "./bag.js";
import { renderFrame, syntheticCalibration } from "./frames.js";
import { generateScene } from "./scene.js";

interface BagContent {
  images: CompressedImage[];
  infos: CameraInfo[];
  depths: Image[];
  labels: Image[];
}

async function readSyntheticBag(path: string): Promise<BagContent> {
  const bag = await readOutputBag(path);
  expect([...bag.keys()].sort()).toEqual(Object.values(SYNTHETIC_TOPICS).sort());
  return {
    images: typed(bag, SYNTHETIC_TOPICS.image, "sensor_msgs/msg/CompressedImage"),
    infos: typed(bag, SYNTHETIC_TOPICS.cameraInfo, "sensor_msgs/msg/CameraInfo"),
    depths: typed(bag, SYNTHETIC_TOPICS.depth, "sensor_msgs/msg/Image"),
    labels: typed(bag, SYNTHETIC_TOPICS.labels, "sensor_msgs/msg/Image"),
  };
}

const floats = (img: Image) => new Float32Array(img.data.slice().buffer);

describe("writeSyntheticBag", () => {
  it("writes colour JPEG, CameraInfo, 32FC1 depth and mono8 labels per frame, same stamp and frame_id, 10 Hz", async () => {
    const path = join(await tempDir(), "synth.mcap");
    const calibration = syntheticCalibration(48, 36);
    await writeSyntheticBag(path, [5, 6], { calibration, frames: 2, framesPerLoop: 10 });
    const { images, infos, depths, labels } = await readSyntheticBag(path);
    for (const list of [images, infos, depths, labels]) expect(list).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      const stamp = images[i]!.header.stamp;
      expect(stamp).toEqual({ sec: 1_700_000_000, nanosec: i * 100_000_000 });
      for (const msg of [infos[i]!, depths[i]!, labels[i]!]) expect(msg.header).toEqual({ stamp, frame_id: SYNTHETIC_FRAME_ID });
      expect(images[i]!.header.frame_id).toBe(SYNTHETIC_FRAME_ID);

      const frame = renderFrame(generateScene(i < 2 ? 5 : 6), i % 2, { calibration, framesPerLoop: 10 });
      expect(depths[i]).toMatchObject({ encoding: "32FC1", width: 48, height: 36, step: 48 * 4, is_bigendian: 0 });
      expect(floats(depths[i]!)).toEqual(frame.depth);
      expect(labels[i]).toMatchObject({ encoding: "mono8", width: 48, height: 36, step: 48 });
      expect(Buffer.from(labels[i]!.data).equals(Buffer.from(frame.labels))).toBe(true);
      expect(cameraInfoToCalibration(infos[i]!)).toEqual(calibration);
      const rgb = decodeCompressedImage(images[i]!.format, images[i]!.data);
      expect([rgb.width, rgb.height]).toEqual([48, 36]);
      expect(meanAbsDiff(rgb.data, frame.image.data)).toBeLessThan(10); // JPEG of a tiny noisy image; swapped channels give ~30
    }
  });
});

describe("samples/sample.mcap", () => {
  it("is the make-sample-bag sequence: 12 frames of 320x240 with ground truth, as regenerated now", async () => {
    const committed = await readSyntheticBag(SAMPLE_BAG);
    const path = join(await tempDir(), "sample.mcap");
    await writeSampleBag(path);
    const fresh = await readSyntheticBag(path);
    expect(committed.images).toHaveLength(SAMPLE_FRAMES);
    for (let i = 0; i < SAMPLE_FRAMES; i++) {
      expect(committed.depths[i]).toMatchObject({ width: SAMPLE_WIDTH, height: SAMPLE_HEIGHT, encoding: "32FC1" });
      // Depth, labels and calibration are exact; JPEG bytes may differ between libjpeg builds.
      expect(floats(committed.depths[i]!)).toEqual(floats(fresh.depths[i]!));
      expect(Buffer.from(committed.labels[i]!.data).equals(Buffer.from(fresh.labels[i]!.data))).toBe(true);
      expect(committed.infos[i]).toEqual(fresh.infos[i]);
      const a = decodeCompressedImage(committed.images[i]!.format, committed.images[i]!.data);
      const b = decodeCompressedImage(fresh.images[i]!.format, fresh.images[i]!.data);
      expect(meanAbsDiff(a.data, b.data)).toBeLessThan(1);
    }
    const ids = new Set(committed.labels.flatMap((l) => [...l.data]));
    expect([...ids].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
