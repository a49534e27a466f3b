// Scale recovery end to end: a relative (disparity) bundle whose true affine is unknown to the
// node, replayed over synthetic sequences (exact ground-truth depth) with each anchor source.
// The metres after recovery are compared with what an oracle gets: the least-squares affine
// in inverse depth fitted on the full ground truth of each frame.

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveParameters } from "../src/config/parameters.js";
import type { Image, PerceptionStatus } from "../src/messages/types.js";
import { replay } from "../src/replay/replay.js";
import { formatSummary } from "../src/replay/summary.js";
import { CLASS_FLOOR } from "../src/synthetic/classes.js";
import { readOutputBag, tempDir, typed } from "./support/cameraBag.js";
import { writeRelativeBundle, type RelativeBundle } from "./support/relativeBundle.js";
import { DEPTH_CAMERA_TOPIC, GROUND_FRAME, LIDAR_TOPIC, writeScaleBag, type ScaleBag, type ScaleBagOptions } from "./support/scaleBags.js";

const floats = (image: Image) => new Float32Array(image.data.slice().buffer);

/** AbsRel of `predicted` against `truth` where both are valid. */
function absRel(predicted: Float32Array, truth: Float32Array): number {
  let sum = 0, n = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted[i]!, g = truth[i]!;
    if (p > 0 && g > 0) {
      sum += Math.abs(p - g) / g;
      n++;
    }
  }
  return sum / n;
}

/**
 * AbsRel (over the whole image) after the least-squares affine 1/z ≈ a·(1/z_pred) + b on every
 * valid pixel of the ground truth, or only on those `fitOn` picks.
 */
function oracleAbsRel(predicted: Float32Array, truth: Float32Array, fitOn: (i: number) => boolean = () => true): number {
  let sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted[i]!, g = truth[i]!;
    if (!(p > 0 && g > 0) || !fitOn(i)) continue;
    const x = 1 / p, y = 1 / g;
    sx += x; sy += y; sxx += x * x; sxy += x * y; n++;
  }
  const a = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const b = (sy - a * sx) / n;
  const refit = predicted.map((p) => (p > 0 ? 1 / (a / p + b) : NaN));
  return absRel(refit, truth);
}

interface Run {
  readonly absRel: number[];
  readonly oracle: number[];
  /** The oracle fitted on the true floor pixels only: the best any floor-only fit can do. */
  readonly floorOracle: number[];
  readonly status: PerceptionStatus[];
  readonly summary: string;
}

let bundle: RelativeBundle;

async function run(bag: ScaleBag, params: Record<string, unknown>): Promise<Run> {
  const output = join(await tempDir(), "out.mcap");
  const log: string[] = [];
  const summary = await replay({
    input: bag.path,
    output,
    params: resolveParameters({ model: bundle.dir, execution_providers: ["cpu"], ...params }),
    realtime: false,
    log: (line) => log.push(line),
    showProgress: false,
  });
  const outputs = await readOutputBag(output);
  const depth = typed(outputs, "/depthseg/depth/image", "sensor_msgs/msg/Image").map(floats);
  const status = typed(outputs, "/depthseg/status", "depthseg/msg/PerceptionStatus");
  expect(depth).toHaveLength(bag.groundTruth.length);
  return {
    absRel: depth.map((d, i) => absRel(d, bag.groundTruth[i]!)),
    oracle: depth.map((d, i) => oracleAbsRel(d, bag.groundTruth[i]!)),
    floorOracle: depth.map((d, i) => oracleAbsRel(d, bag.groundTruth[i]!, (k) => bag.groundTruthLabels[i]![k] === CLASS_FLOOR)),
    status,
    summary: formatSummary(summary) + "\n" + log.join("\n"),
  };
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const std = (values: readonly number[]) => {
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
};

const FRAMES = 16;
const bags = new Map<string, ScaleBag>();
async function bagFor(name: string, options: ScaleBagOptions): Promise<ScaleBag> {
  let bag = bags.get(name);
  if (!bag) bags.set(name, (bag = await writeScaleBag(join(await tempDir(), `${name}.mcap`), options)));
  return bag;
}

beforeAll(async () => {
  // An affine unknown to the node, different per run (printed, to reproduce a failure).
  // alpha ≥ 1.5 keeps 1/raw off metres by at least a third (the "without anchors" test).
  const alpha = 1.5 + 1.5 * Math.random();
  const beta = 0.2 * Math.random();
  process.stdout.write(`relative test bundle: raw = ${alpha.toFixed(4)} / z + ${beta.toFixed(4)}\n`);
  bundle = await writeRelativeBundle(join(await tempDir(), "relative"), alpha, beta);
});

/** The synthetic world's classes whose surfaces stand vertically on the floor. */
const SYNTHETIC_UPRIGHT = ["wall", "cabinet", "cylinder"];
const groundPlaneParams = (bag: ScaleBag) => ({ "scale.source": "ground_plane", "scale.camera_height": bag.cameraHeight, "scale.camera_pitch": bag.cameraPitch });

const logScales = (run: Run) => run.status.map((s) => Math.log(s.depth_scale));

describe("scale recovery of a relative model, replayed with anchors", () => {
  const SEED = 7;
  // [source, bag, params, AbsRel bound as a multiple of the oracle's]. ground_plane takes the
  // synthetic world's upright classes (walls, cabinets, pillars) as well as the floor: with the
  // floor alone it cannot reach 10 % (see the floor-only test below).
  const sources: [string, () => Promise<ScaleBag>, (bag: ScaleBag) => Record<string, unknown>, number][] = [
    ["depth_image", () => bagFor("depth", { frames: FRAMES, seed: SEED, anchors: "depth_image" }),
      () => ({ "scale.source": "depth_image", "scale.topic": DEPTH_CAMERA_TOPIC }), 1.1],
    ["points", () => bagFor("lidar", { frames: FRAMES, seed: SEED, anchors: "points" }),
      () => ({ "scale.source": "points", "scale.topic": LIDAR_TOPIC }), 1.1],
    ["ground_plane", () => bagFor("level", { frames: FRAMES, seed: SEED, anchors: "none", level: true }),
      (bag) => ({ ...groundPlaneParams(bag), "scale.upright_classes": SYNTHETIC_UPRIGHT }), 1.1],
  ];

  for (const [name, makeBag, params, bound] of sources) {
    it(`${name}: AbsRel within ${Math.round(100 * (bound - 1))} % of the oracle least-squares fit on full ground truth`, async () => {
      const bag = await makeBag();
      const result = await run(bag, params(bag));
      const report = {
        absRel: mean(result.absRel),
        oracle: mean(result.oracle),
        floorOracle: mean(result.floorOracle),
        stdLogScale: std(logScales(result).slice(1)),
        inliers: mean(result.status.map((s) => s.scale_inliers)),
        anchors: mean(result.status.map((s) => s.scale_anchors)),
      };
      process.stdout.write(`${name}: ${JSON.stringify(report)}\n${result.summary}\n`);
      expect(result.status.every((s) => s.scale_source === name && s.depth_is_metric && s.scale_age === 0)).toBe(true);
      expect(report.absRel).toBeLessThan(bound * report.oracle);
      // Without recovery (depth.scale 1, shift 0) the metres are far off.
      expect(report.absRel).toBeLessThan(0.1);
      expect(result.summary).toMatch(new RegExp(`scale +${name}.*: fitted ${FRAMES}, held 0, no estimate 0`));
      expect(result.summary).toMatch(/scale median [0-9.]+ \([0-9.]+ … [0-9.]+, std of log [0-9.]+ %\)/);
    });
  }

  it("ground_plane on the floor alone: as good as the best fit on the true floor pixels, short of the whole-image oracle", async () => {
    const bag = await bagFor("level", { frames: FRAMES, seed: SEED, anchors: "none", level: true });
    const result = await run(bag, { ...groundPlaneParams(bag), "scale.upright_classes": [] });
    const report = { absRel: mean(result.absRel), oracle: mean(result.oracle), floorOracle: mean(result.floorOracle) };
    process.stdout.write(`ground_plane, floor only: ${JSON.stringify(report)}\n`);
    expect(result.status.every((s) => s.depth_is_metric)).toBe(true);
    // Its anchors are right (plane depths equal the true depths) but the floor only: the
    // least-squares fit on the true floor pixels is itself well above the whole-image oracle.
    expect(report.absRel).toBeLessThan(1.05 * report.floorOracle);
    expect(report.floorOracle).toBeGreaterThan(1.1 * report.oracle);
  });

  it("ground_plane with scale.ground_frame: the floor from the bag's /tf_static gives the fit of the angle parameters", async () => {
    const bag = await bagFor("levelTf", { frames: FRAMES, seed: SEED, anchors: "none", level: true, groundTf: true });
    const fromParams = await run(bag, { ...groundPlaneParams(bag), "scale.upright_classes": SYNTHETIC_UPRIGHT });
    const fromTf = await run(bag, { "scale.source": "ground_plane", "scale.ground_frame": GROUND_FRAME, "scale.upright_classes": SYNTHETIC_UPRIGHT });
    expect(fromTf.summary).toMatch(/the floor \("base_footprint" z = 0\) placed in "[^"]+" with \/tf_static: [0-9.]+ m above the floor, pitch [0-9.-]+°, roll 0.0°/);
    expect(fromTf.status.every((s) => s.depth_is_metric && s.scale_source === "ground_plane")).toBe(true);
    for (let i = 0; i < FRAMES; i++) {
      // The same plane to float64 rounding: the same anchors, inliers and fit.
      expect(fromTf.status[i]!.scale_inliers).toBe(fromParams.status[i]!.scale_inliers);
      expect(fromTf.status[i]!.depth_scale).toBeCloseTo(fromParams.status[i]!.depth_scale, 6);
    }
    expect(mean(fromTf.absRel)).toBeCloseTo(mean(fromParams.absRel), 6);
  });

  it("without anchors the relative output is not metres (what the tests above recover)", async () => {
    const bag = await bagFor("depth", { frames: FRAMES, seed: SEED, anchors: "depth_image" });
    const result = await run(bag, {});
    process.stdout.write(`no scale recovery (depth.scale 1, depth.shift 0): AbsRel ${mean(result.absRel).toFixed(3)}\n`);
    expect(result.status.every((s) => s.scale_source === "fixed" && !s.depth_is_metric)).toBe(true);
    expect(mean(result.absRel)).toBeGreaterThan(0.3);
  });

  it("a still camera: scale jitter below 1 % (std of log scale) with smoothing, more without", async () => {
    const bag = await bagFor("still", { frames: FRAMES, seed: SEED, anchors: "points", still: true });
    const params = { "scale.source": "points", "scale.topic": LIDAR_TOPIC };
    const smoothed = std(logScales(await run(bag, params)));
    const raw = std(logScales(await run(bag, { ...params, "scale.smoothing": 0 })));
    process.stdout.write(`still camera, LiDAR anchors: std of log scale ${(100 * smoothed).toFixed(3)} % smoothed (1 s), ${(100 * raw).toFixed(3)} % per-frame fits\n`);
    expect(smoothed).toBeLessThan(0.01);
    expect(smoothed).toBeLessThan(raw);
  });

  it("20 % of the anchors corrupted (x0.3 … x3) move the scale by less than 2 %", async () => {
    const clean = await bagFor("depth", { frames: FRAMES, seed: SEED, anchors: "depth_image" });
    const corrupted = await bagFor("corrupt", { frames: FRAMES, seed: SEED, anchors: "depth_image", corrupt: 0.2 });
    const params = { "scale.source": "depth_image", "scale.topic": DEPTH_CAMERA_TOPIC, "scale.smoothing": 0 };
    const a = logScales(await run(clean, params));
    const b = logScales(await run(corrupted, params));
    const moved = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    process.stdout.write(`20 % corrupted depth anchors: scale moved by at most ${(100 * moved).toFixed(2)} % (per-frame fits)\n`);
    expect(moved).toBeLessThan(0.02);
  });

  it("anchors missing for a while: the last estimate is kept and flagged, and replaced when they return", async () => {
    const gap = (i: number) => i >= 6 && i < 10;
    const bag = await bagFor("gap", { frames: FRAMES, seed: SEED, anchors: "points", withoutAnchors: gap });
    const result = await run(bag, { "scale.source": "points", "scale.topic": LIDAR_TOPIC });
    const rows = result.status.map((s) => [s.depth_is_metric, s.scale_anchors > 0, Number(s.scale_age.toFixed(2))]);
    expect(rows).toEqual(
      Array.from({ length: FRAMES }, (_, i) => (gap(i) ? [false, false, Number((0.1 * (i - 5)).toFixed(2))] : [true, true, 0])),
    );
    for (let i = 6; i < 10; i++) {
      expect(result.status[i]!.depth_scale).toBe(result.status[5]!.depth_scale);
      expect(result.status[i]!.depth_shift).toBe(result.status[5]!.depth_shift);
    }
    expect(result.status[10]!.depth_scale).not.toBe(result.status[5]!.depth_scale);
    // Held frames still carry the held estimate's metres.
    expect(mean(result.absRel.slice(6, 10))).toBeLessThan(1.2 * mean(result.oracle.slice(6, 10)));
    process.stdout.write(result.summary + "\n");
    expect(result.summary).toMatch(/scale +points on \/lidar\/points: fitted 12, held 4, no estimate 0/);
  });
});
