// The README's quick start, through the real CLI entry: replay of the bundled sample bag with
// the bundled model, and the same with a params file.

import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import { SAMPLE_BAG } from "../src/paths.js";
import { readOutputBag, tempDir, typed } from "./support/cameraBag.js";

function captureOutput() {
  const out = { stdout: "", stderr: "" };
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out.stdout += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((out.stderr += String(chunk)), true));
  return out;
}

describe("quick start", () => {
  afterEach(() => vi.restoreAllMocks());

  it("depthseg replay samples/sample.mcap --out ... processes every frame of the 320x240 sample", async () => {
    const dir = await tempDir();
    const output = join(dir, "nested", "sample.depthseg.mcap");
    const out = captureOutput();
    const code = await main(["replay", SAMPLE_BAG, "--out", output, "--quiet", "--summary"]);
    vi.restoreAllMocks();
    expect(code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/frames {5}read 12, processed 12, dropped 0, failed 0/);
    expect(out.stdout).toMatch(/inference\s+\d+\.\d\d\s+\d+\.\d\d/);
    const bag = await readOutputBag(output);
    const depth = typed(bag, "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth).toHaveLength(12);
    expect([depth[0]!.width, depth[0]!.height, depth[0]!.encoding]).toEqual([320, 240, "32FC1"]);
    // The sample carries ground truth (scene seed 90010, outside the demo model's training seeds):
    // the published metres must be close to it, frame by frame.
    const gt = typed(await readOutputBag(SAMPLE_BAG), "/camera/depth/ground_truth", "sensor_msgs/msg/Image");
    expect(gt).toHaveLength(12);
    for (const [i, frame] of depth.entries()) {
      expect(frame.header).toEqual(gt[i]!.header);
      const p = new Float32Array(frame.data.slice().buffer);
      const g = new Float32Array(gt[i]!.data.slice().buffer);
      let sum = 0;
      let n = 0;
      for (let k = 0; k < g.length; k++) {
        if (!(g[k]! > 0) || !Number.isFinite(p[k]!)) continue;
        sum += Math.abs(p[k]! - g[k]!) / g[k]!;
        n++;
      }
      expect(n).toBeGreaterThan(0.95 * g.length);
      expect(sum / n, `AbsRel of frame ${i}`).toBeLessThan(0.25);
    }
    expect(typed(bag, "/depthseg/points", "sensor_msgs/msg/PointCloud2")[0]).toMatchObject({ width: 320, height: 240 });
  });

  it("--params applies a params file; flags override it", async () => {
    const dir = await tempDir();
    const params = join(dir, "p.yaml");
    await writeFile(
      params,
      "depthseg:\n  ros__parameters:\n    output_namespace: /robot/perception\n    pointcloud: { decimation: 4 }\n    image_topic: /nope\n",
    );
    const output = join(dir, "o.mcap");
    const out = captureOutput();
    const code = await main([
      "replay", SAMPLE_BAG, "--out", output, "--quiet", "--params", params,
      "--image-topic", "/camera/color/image_raw/compressed",
    ]);
    vi.restoreAllMocks();
    expect(code, out.stderr).toBe(0);
    const bag = await readOutputBag(output);
    expect(typed(bag, "/robot/perception/points", "sensor_msgs/msg/PointCloud2")[0]).toMatchObject({ width: 80, height: 60 });
    expect(bag.has("/depthseg/points")).toBe(false);
  });

  it("an invalid params file exits 1 naming the parameter", async () => {
    const dir = await tempDir();
    const params = join(dir, "bad.yaml");
    await writeFile(params, "depthseg:\n  ros__parameters:\n    pointcloud: { decimation: 0 }\n");
    const out = captureOutput();
    const code = await main(["replay", SAMPLE_BAG, "--out", join(dir, "o.mcap"), "--params", params]);
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(out.stderr).toMatch(/pointcloud.decimation.*got 0/);
  });
});
