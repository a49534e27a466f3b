// The flying-pixel filter on the demo model's depth for the bundled sample (12 frames of the
// synthetic world, which has exact ground-truth depth): the points it removes must be mostly
// wrong ones, and it must remove few of the right ones.

import { join } from "node:path";
import { expect, it } from "vitest";
import { resolveParameters } from "../src/config/parameters.js";
import type { Image } from "../src/messages/types.js";
import { DEFAULT_MODEL_DIR, SAMPLE_BAG } from "../src/paths.js";
import { replay } from "../src/replay/replay.js";
import { readOutputBag, tempDir, typed } from "./support/cameraBag.js";

const floats = (image: Image) => new Float32Array(image.data.slice().buffer);

async function measure(threshold: number) {
  const output = join(await tempDir(), "sample.out.mcap");
  const params = resolveParameters({ model: DEFAULT_MODEL_DIR, execution_providers: ["cpu"], "pointcloud.flying_pixel_threshold": threshold });
  await replay({ input: SAMPLE_BAG, output, params, realtime: false, log: () => {}, showProgress: false });
  const truth = typed(await readOutputBag(SAMPLE_BAG), "/camera/depth/ground_truth", "sensor_msgs/msg/Image");
  const outputs = await readOutputBag(output);
  const predicted = typed(outputs, "/depthseg/depth/image", "sensor_msgs/msg/Image");
  const clouds = typed(outputs, "/depthseg/points", "sensor_msgs/msg/PointCloud2");
  expect(predicted).toHaveLength(truth.length);
  let valid = 0, wrong = 0, removed = 0, removedWrong = 0;
  for (let f = 0; f < truth.length; f++) {
    const p = floats(predicted[f]!);
    const g = floats(truth[f]!);
    // Decimation 1: point i is pixel i; z at byte 8 of each point (NaN where the filter removed it).
    const cloud = clouds[f]!;
    const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    const kept = Float32Array.from({ length: p.length }, (_, i) => view.getFloat32(i * cloud.point_step + 8, true));
    for (let i = 0; i < p.length; i++) {
      if (!(p[i]! > 0 && g[i]! > 0)) continue;
      // "Wrong": more than 10 % off the true depth.
      const isWrong = Math.abs(p[i]! - g[i]!) > 0.1 * g[i]!;
      valid++;
      if (isWrong) wrong++;
      if (Number.isNaN(kept[i]!)) {
        removed++;
        if (isWrong) removedWrong++;
      }
    }
  }
  const report = {
    pixels: valid,
    wrongShare: wrong / valid,
    removedShare: removed / valid,
    wrongShareOfRemoved: removedWrong / removed,
    wrongRemovedShare: removedWrong / wrong,
    rightRemovedShare: (removed - removedWrong) / (valid - wrong),
  };
  process.stdout.write(`flying-pixel filter on the sample, threshold ${threshold}: ${JSON.stringify(report)}\n`);
  return report;
}

it("on the synthetic sample, what it removes is mostly wrong depth (measured against ground truth)", async () => {
  for (const threshold of [0.05, 0.2]) await measure(threshold); // reported, for choosing the default
  const report = await measure(resolveParameters({}).flyingPixelThreshold);
  expect(report.removedShare).toBeGreaterThan(0);
  // What it removes is much more often wrong than depth in general, and it costs few right points.
  expect(report.wrongShareOfRemoved).toBeGreaterThan(2 * report.wrongShare);
  expect(report.rightRemovedShare).toBeLessThan(0.02);
});
