// The committed demo model (models/demo, trained by tools/train on the synthetic world) meets
// the figures on held-out scenes: AbsRel <= 0.15, delta1 >= 0.80, mIoU >= 0.50.
// Held-out scenes use seeds 1..3; training used 1000+, validation 500+ (models/demo/training.json).

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveParameters } from "../src/config/parameters.js";
import { evaluate, type EvalReport } from "../src/eval/evaluate.js";
import { loadModelBundle } from "../src/inference/bundle.js";
import { DEFAULT_MODEL_DIR } from "../src/paths.js";
import { generateScene, renderFrame, syntheticCalibration } from "../src/synthetic/index.js";
import { FolderDatasetWriter } from "../src/synthetic/folder.js";
import { tempDir } from "./support/cameraBag.js";

const HELD_OUT_SEEDS = [1, 2, 3];
const FRAMES_PER_SCENE = 4;

describe("committed demo model on held-out synthetic scenes", () => {
  let report: EvalReport;

  beforeAll(async () => {
    const dir = join(await tempDir(), "held-out");
    const calibration = syntheticCalibration(320, 240);
    const writer = await FolderDatasetWriter.create(dir, { calibration });
    for (const seed of HELD_OUT_SEEDS) {
      const scene = generateScene(seed);
      for (let f = 0; f < FRAMES_PER_SCENE; f++) {
        // Frames spread around each scene's camera loop.
        await writer.addFrame(`s${seed}_f${f}`, renderFrame(scene, f, { calibration, framesPerLoop: FRAMES_PER_SCENE }));
      }
    }
    report = await evaluate({
      data: dir,
      params: resolveParameters({ execution_providers: ["cpu"] }),
      align: "none",
      range: { min: 1e-3, max: Infinity },
      depthScale: 1000,
      ignoreIndex: 255,
      log: () => {},
    });
  }, 300_000);

  it("is the default model, metric, with the synthetic world's classes", async () => {
    const bundle = await loadModelBundle(DEFAULT_MODEL_DIR);
    expect(bundle.outputs.depth.kind).toBe("metric");
    expect(bundle.outputs.segmentation?.labels.classes.map((c) => c.name)).toEqual([
      "floor", "wall", "ceiling", "furniture", "cabinet", "cylinder",
    ]);
    expect(report.settings.model).toBe(bundle.name);
  });

  it("meets AbsRel <= 0.15, delta1 >= 0.80 and mIoU >= 0.50", () => {
    const depth = report.depth!.mean;
    const miou = report.segmentation!.mIoU;
    // Printed so CI logs carry the actual figures.
    console.log(`demo model on ${report.frames.length} held-out frames: AbsRel ${depth.absRel.toFixed(4)}, delta1 ${depth.delta1.toFixed(4)}, mIoU ${miou.toFixed(4)}`);
    expect(report.frames).toHaveLength(HELD_OUT_SEEDS.length * FRAMES_PER_SCENE);
    expect(depth.absRel).toBeLessThanOrEqual(0.15);
    expect(depth.delta1).toBeGreaterThanOrEqual(0.8);
    expect(miou).toBeGreaterThanOrEqual(0.5);
  });
});
