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
  const { a, b } = oracleAffine(predicted, truth, fitOn);
  const refit = predicted.map((p) => (p > 0 ? 1 / (a / p + b) : NaN));
  return absRel(refit, truth);
}

/** The least-squares affine 1/z ≈ a·(1/z_pred) + b on the valid pixels `fitOn` picks. */
function oracleAffine(predicted: Float32Array, truth: Float32Array, fitOn: (i: number) => boolean = () => true): { a: number; b: number } {
  let sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted[i]!, g = truth[i]!;
    if (!(p > 0 && g > 0) || !fitOn(i)) continue;
    const x = 1 / p, y = 1 / g;
    sx += x; sy += y; sxx += x * x; sxy += x * y; n++;
  }
  const a = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return { a, b: (sy - a * sx) / n };
}

interface Run {
  readonly absRel: number[];
  readonly oracle: number[];
  /** The oracle fitted on the true floor pixels only: the best any floor-only fit can do. */
  readonly floorOracle: number[];
  /**
   * Log of the scale the oracle's affine implies per frame (1/z = a·(s·raw + t) + b has scale
   * a·s): how much the best per-frame fit itself moves as the view changes.
   */
  readonly oracleLogScale: number[];
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
    oracleLogScale: depth.map((d, i) => Math.log(status[i]!.depth_scale * oracleAffine(d, bag.groundTruth[i]!).a)),
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
        oracleStdLogScale: std(result.oracleLogScale.slice(1)),
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

  // The true scale is constant (one affine in the graph), and with a still camera so is the
  // best per-frame fit: what moves the estimate is the image's and the anchors' noise.
  const stillSources: [string, ScaleBagOptions, (bag: ScaleBag) => Record<string, unknown>][] = [
    ["depth_image", { frames: FRAMES, seed: SEED, anchors: "depth_image", still: true }, () => ({ "scale.source": "depth_image", "scale.topic": DEPTH_CAMERA_TOPIC })],
    ["points", { frames: FRAMES, seed: SEED, anchors: "points", still: true }, () => ({ "scale.source": "points", "scale.topic": LIDAR_TOPIC })],
    ["ground_plane", { frames: FRAMES, seed: SEED, anchors: "none", still: true, level: true }, (bag) => groundPlaneParams(bag)],
  ];
  for (const [name, options, params] of stillSources) {
    it(`a still camera, ${name}: scale jitter below 1 % (std of log scale) with smoothing, no more without`, async () => {
      const bag = await bagFor(`still-${name}`, options);
      const smoothed = std(logScales(await run(bag, params(bag))));
      const raw = std(logScales(await run(bag, { ...params(bag), "scale.smoothing": 0 })));
      process.stdout.write(`still camera, ${name} anchors: std of log scale ${(100 * smoothed).toFixed(3)} % smoothed (1 s), ${(100 * raw).toFixed(3)} % per-frame fits\n`);
      expect(smoothed).toBeLessThan(0.01);
      expect(smoothed).toBeLessThanOrEqual(raw);
    });
  }

  // [bag, source, params, per-frame bound]. The node's estimate is the smoothed one; each frame's
  // own fit is held to 2 % only for the dense depth camera: with 16 LiDAR beams the per-frame
  // scale and shift trade off against each other (2.4 % in scale for the same metres: AbsRel
  // moved by < 0.1 %), which the filter's 1 s time constant averages out; 5 % bounds it.
  const corruptible: [string, "depth_image" | "points", Record<string, unknown>, number][] = [
    ["depth", "depth_image", { "scale.source": "depth_image", "scale.topic": DEPTH_CAMERA_TOPIC }, 0.02],
    ["lidar", "points", { "scale.source": "points", "scale.topic": LIDAR_TOPIC }, 0.05],
  ];
  for (const [bagName, anchors, params, perFrameBound] of corruptible) {
    it(`${anchors}: 20 % of the anchors corrupted (x0.3 … x3) move the scale by less than 2 % and the metres by less`, async () => {
      const clean = await bagFor(bagName, { frames: FRAMES, seed: SEED, anchors });
      const corrupted = await bagFor(`${bagName}-corrupt`, { frames: FRAMES, seed: SEED, anchors, corrupt: 0.2 });
      const movedBy = (a: Run, b: Run) => Math.max(...logScales(a).map((v, i) => Math.abs(v - logScales(b)[i]!)));
      const [a, b] = [await run(clean, params), await run(corrupted, params)];
      const perFrame = movedBy(await run(clean, { ...params, "scale.smoothing": 0 }), await run(corrupted, { ...params, "scale.smoothing": 0 }));
      const moved = movedBy(a, b);
      const absRelMoved = mean(b.absRel) / mean(a.absRel) - 1;
      process.stdout.write(
        `20 % corrupted ${anchors} anchors: scale moved by at most ${(100 * moved).toFixed(2)} % (smoothed; per-frame fits ${(100 * perFrame).toFixed(2)} %), AbsRel by ${(100 * absRelMoved).toFixed(2)} %\n`,
      );
      expect(moved).toBeLessThan(0.02);
      expect(perFrame).toBeLessThan(perFrameBound);
      expect(Math.abs(absRelMoved)).toBeLessThan(0.02);
    });
  }

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
