// The depth-pretraining claim in miniature (docs/science.md): `npm run science`.
//
// Encoders of one architecture pre-trained on depth, on "which classes are in view", on
// segmentation, or not at all (tools/science/pretrain_encoder.py, Debian's python3-torch); then
// `depthseg fit-head` fits a linear head on each with 1, 4, 16 and 64 labelled frames, and
// `depthseg eval` scores it on held-out scenes. Three seeds: each seed pre-trains its own encoders
// and draws its own labelled scenes. Writes docs/science/results.json and prints the table;
// tools/science/plot.py draws docs/science/miou.png from the JSON.
//
//   npm run science [-- --steps 800 --seeds 3 --work .science --out docs/science]

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { main as depthseg } from "../../src/cli.js";
import type { EvalReport } from "../../src/eval/evaluate.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PYTHON = "/usr/bin/python3";
const TASKS = ["depth", "scene_classes", "segmentation", "random"] as const;
type Task = (typeof TASKS)[number];
const FRAME_COUNTS = [1, 4, 16, 64] as const;
// Images as the encoders see them: small, so the whole experiment runs on a 2-core CPU.
const WIDTH = 64;
const HEIGHT = 48;
// Labelled pool per seed: 16 scenes × 4 frames, one scene after another, so `--frames N` takes
// whole scenes first and N = 1 is one frame of one room.
const POOL_SCENES = 16;
const POOL_FRAMES_PER_SCENE = 4;
const HELD_OUT_SCENES = 12;
const HELD_OUT_FRAMES_PER_SCENE = 4;

interface Row {
  readonly task: Task;
  readonly seed: number;
  readonly frames: number;
  readonly mIoU: number;
  readonly pixelAccuracy: number;
  readonly fitSeconds: number;
}

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "800" },
    seeds: { type: "string", default: "3" },
    work: { type: "string", default: ".science" },
    out: { type: "string", default: "docs/science" },
    "keep-encoders": { type: "boolean", default: false },
  },
});
const steps = Number(values.steps);
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
const work = resolve(ROOT, values.work);
const outDir = resolve(ROOT, values.out);

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status ?? result.signal})`);
}

async function cli(args: readonly string[]): Promise<void> {
  const code = await depthseg([...args]);
  if (code !== 0) throw new Error(`depthseg ${args.join(" ")} exited ${code}`);
}

async function synth(out: string, scenes: number, frames: number, seed: number): Promise<void> {
  if (existsSync(join(out, "scenes.json"))) return;
  run("npx", ["tsx", "tools/synth.ts", "--out", out, "--scenes", String(scenes), "--frames", String(frames), "--width", String(WIDTH), "--height", String(HEIGHT), "--seed", String(seed), "--quiet"]);
}

async function main(): Promise<void> {
  await mkdir(work, { recursive: true });
  const started = performance.now();
  // Pre-training images: scenes 3000+; labelled pools: 5000 + 100·seed; held out: scenes 9000+.
  const pretrainData = join(work, "pretrain");
  if (!existsSync(join(pretrainData, "train_rgb.npy"))) {
    run("npx", ["tsx", "tools/train/render-training-set.ts", "--out", pretrainData, "--train-scenes", "48", "--val-scenes", "1", "--frames", "16", "--width", String(WIDTH), "--height", String(HEIGHT), "--train-seed", "3000", "--val-seed", "4000"]);
  }
  const labelsYaml = join(work, "labels.yaml");
  run("npx", ["tsx", "tools/train/write-labels.ts", labelsYaml]);
  const heldOut = join(work, "held-out");
  await synth(heldOut, HELD_OUT_SCENES, HELD_OUT_FRAMES_PER_SCENE, 9000);

  const rows: Row[] = [];
  const pretrainSeconds: Record<string, number> = {};
  for (const seed of seeds) {
    const pool = join(work, `pool-seed${seed}`);
    await synth(pool, POOL_SCENES, POOL_FRAMES_PER_SCENE, 5000 + 100 * seed);
    for (const task of TASKS) {
      const encoder = join(work, "encoders", `${task}-seed${seed}`);
      if (!existsSync(join(encoder, "model.yaml"))) {
        run(PYTHON, ["tools/science/pretrain_encoder.py", "--data", pretrainData, "--task", task, "--seed", String(seed), "--steps", String(steps), "--out", encoder, "--labels-yaml", labelsYaml]);
      }
      const record = JSON.parse(await readFile(join(encoder, "pretraining.json"), "utf8")) as { train_seconds: number };
      pretrainSeconds[`${task}-seed${seed}`] = record.train_seconds;
      for (const frames of FRAME_COUNTS) {
        const head = join(work, "heads", `${task}-seed${seed}-n${frames}`);
        await rm(head, { recursive: true, force: true });
        const fitStart = performance.now();
        await cli(["fit-head", "--model", encoder, "--data", pool, "--frames", String(frames), "--out", head, "--labels", labelsYaml, "--head", "linear", "--seed", String(seed), "--quiet"]);
        const fitSeconds = (performance.now() - fitStart) / 1000;
        const reportPath = join(head, "eval.held-out.json");
        await cli(["eval", "--model", head, "--data", heldOut, "--json", reportPath]);
        const report = JSON.parse(await readFile(reportPath, "utf8")) as EvalReport;
        if (report.segmentation === undefined) throw new Error(`eval of ${head} scored no segmentation: ${report.segmentationSkipped ?? "?"}`);
        rows.push({ task, seed, frames, mIoU: report.segmentation.mIoU, pixelAccuracy: report.segmentation.pixelAccuracy, fitSeconds });
        console.log(`science: ${task} seed ${seed} ${frames} frames: mIoU ${report.segmentation.mIoU.toFixed(3)} pixel accuracy ${report.segmentation.pixelAccuracy.toFixed(3)}`);
      }
    }
  }
  await mkdir(outDir, { recursive: true });
  const summary = summarise(rows);
  const results = {
    command: "npm run science",
    steps,
    seeds,
    image: [WIDTH, HEIGHT],
    pool: { scenes: POOL_SCENES, framesPerScene: POOL_FRAMES_PER_SCENE },
    heldOut: { scenes: HELD_OUT_SCENES, framesPerScene: HELD_OUT_FRAMES_PER_SCENE, firstSceneSeed: 9000 },
    pretrainSeconds,
    minutes: (performance.now() - started) / 60000,
    rows,
    summary,
  };
  await writeFile(join(outDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${markdownTable(summary)}`);
  run(PYTHON, ["tools/science/plot.py", join(outDir, "results.json"), join(outDir, "miou.png")]);
  if (!values["keep-encoders"]) await rm(join(work, "heads"), { recursive: true, force: true });
}

interface Cell {
  readonly task: Task;
  readonly frames: number;
  readonly mIoUMean: number;
  readonly mIoUStd: number;
  readonly pixelAccuracyMean: number;
  readonly pixelAccuracyStd: number;
}

function meanStd(values: readonly number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1) : 0;
  return [mean, Math.sqrt(variance)];
}

function summarise(rows: readonly Row[]): Cell[] {
  return TASKS.flatMap((task) =>
    FRAME_COUNTS.map((frames) => {
      const cell = rows.filter((r) => r.task === task && r.frames === frames);
      const [mIoUMean, mIoUStd] = meanStd(cell.map((r) => r.mIoU));
      const [pixelAccuracyMean, pixelAccuracyStd] = meanStd(cell.map((r) => r.pixelAccuracy));
      return { task, frames, mIoUMean, mIoUStd, pixelAccuracyMean, pixelAccuracyStd };
    }),
  );
}

function markdownTable(cells: readonly Cell[]): string {
  const header = `| encoder pre-trained on | ${FRAME_COUNTS.map((n) => `${n} frame${n > 1 ? "s" : ""}`).join(" | ")} |`;
  const rule = `|---|${FRAME_COUNTS.map(() => "---").join("|")}|`;
  const body = TASKS.map((task) => {
    const row = FRAME_COUNTS.map((n) => {
      const c = cells.find((x) => x.task === task && x.frames === n)!;
      return `${c.mIoUMean.toFixed(3)} ± ${c.mIoUStd.toFixed(3)} (${c.pixelAccuracyMean.toFixed(3)})`;
    });
    return `| ${task} | ${row.join(" | ")} |`;
  });
  return [header, rule, ...body].join("\n");
}

await main();
