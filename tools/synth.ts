// Generates synthetic indoor data (src/synthetic): a folder dataset or rosbag2 MCAP with RGB,
// ground-truth metric depth (z along the optical axis) and labels, and the camera calibration.
//
//   npx tsx tools/synth.ts --out <dir|file.mcap> [--format folder|mcap] --scenes N --frames M
//                          --width W --height H --seed S [--depth-scale 1000] [--frames-per-loop L]
//                          [--jpeg-quality 90] [--no-shadows] [--quiet]
//
// Scenes are numbered from the seed: scene k uses seed S + k. Every scene's camera makes one loop
// of its path over L frames (default M, so a scene's M frames are spread around the whole room).
//
// folder: one flat dataset for all scenes (one camera_info.yaml, so one camera): rgb/<stem>.png,
//   depth/<stem>.png (16-bit, metres * depth scale), labels/<stem>.png (8-bit), camera_info.yaml,
//   labels.yaml, scenes.json; stems are s<scene seed>_f<frame, 4 digits>, e.g. s1_f0003.
// mcap: <out> ending in .mcap: one bag with all scenes one after the other; otherwise a folder
//   with one bag per scene, scene_<scene seed>.mcap. Topics: see src/synthetic/bag.ts.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeSyntheticBag } from "../src/synthetic/bag.js";
import { DEFAULT_DEPTH_SCALE, FolderDatasetWriter, type SceneRecord } from "../src/synthetic/folder.js";
import { renderFrame, syntheticCalibration } from "../src/synthetic/frames.js";
import { createRenderTarget } from "../src/synthetic/render.js";
import { generateScene } from "../src/synthetic/scene.js";

const USAGE =
  "usage: npx tsx tools/synth.ts --out <dir|file.mcap> [--format folder|mcap] --scenes N --frames M " +
  "--width W --height H --seed S [--depth-scale 1000] [--frames-per-loop L] [--jpeg-quality 90] [--no-shadows] [--quiet]";

export interface SynthOptions {
  readonly out: string;
  readonly format: "folder" | "mcap";
  readonly scenes: number;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  readonly depthScale: number;
  readonly framesPerLoop: number;
  readonly jpegQuality: number;
  readonly shadows: boolean;
  readonly quiet: boolean;
}

export function frameStem(sceneSeed: number, frame: number): string {
  return `s${sceneSeed}_f${String(frame).padStart(4, "0")}`;
}

function integer(name: string, text: string | undefined, min: number, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required\n${USAGE}`);
    return fallback;
  }
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${text}"`);
  return n;
}

export function parseSynthArgs(argv: readonly string[]): SynthOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: "string" },
      format: { type: "string", default: "folder" },
      scenes: { type: "string" },
      frames: { type: "string" },
      width: { type: "string" },
      height: { type: "string" },
      seed: { type: "string" },
      "depth-scale": { type: "string" },
      "frames-per-loop": { type: "string" },
      "jpeg-quality": { type: "string" },
      "no-shadows": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (!values.out) throw new Error(`--out is required\n${USAGE}`);
  if (values.format !== "folder" && values.format !== "mcap") throw new Error(`--format must be folder or mcap, got "${values.format}"`);
  const frames = integer("frames", values.frames, 1);
  const depthScale = values["depth-scale"] === undefined ? DEFAULT_DEPTH_SCALE : Number(values["depth-scale"]);
  if (!(Number.isFinite(depthScale) && depthScale > 0)) throw new Error(`--depth-scale must be > 0, got "${values["depth-scale"]}"`);
  const jpegQuality = integer("jpeg-quality", values["jpeg-quality"], 1, 90);
  if (jpegQuality > 100) throw new Error(`--jpeg-quality must be at most 100, got ${jpegQuality}`);
  return {
    out: values.out,
    format: values.format,
    scenes: integer("scenes", values.scenes, 1),
    frames,
    width: integer("width", values.width, 2),
    height: integer("height", values.height, 2),
    seed: integer("seed", values.seed, 0),
    depthScale,
    framesPerLoop: integer("frames-per-loop", values["frames-per-loop"], 1, frames),
    jpegQuality,
    shadows: !values["no-shadows"],
    quiet: values.quiet,
  };
}

export async function runSynth(o: SynthOptions): Promise<void> {
  const calibration = syntheticCalibration(o.width, o.height);
  const log = (line: string) => {
    if (!o.quiet) process.stderr.write(line + "\n");
  };
  const started = performance.now();
  if (o.format === "folder") {
    const writer = await FolderDatasetWriter.create(o.out, { calibration, depthScale: o.depthScale });
    const target = createRenderTarget(o.width, o.height);
    const records: SceneRecord[] = [];
    for (let k = 0; k < o.scenes; k++) {
      const scene = generateScene(o.seed + k);
      const stems: string[] = [];
      for (let m = 0; m < o.frames; m++) {
        const frame = renderFrame(scene, m, { calibration, framesPerLoop: o.framesPerLoop, target, shadows: o.shadows });
        const stem = frameStem(scene.seed, m);
        await writer.addFrame(stem, frame);
        stems.push(stem);
      }
      records.push({ seed: scene.seed, room: scene.room, frames: o.frames, framesPerLoop: o.framesPerLoop, stems });
      log(`scene ${scene.seed}: ${o.frames} frames (${k + 1}/${o.scenes}, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
    await writer.finish(records);
    log(`wrote ${o.scenes * o.frames} frames to ${o.out}`);
    return;
  }
  const bagOptions = { calibration, frames: o.frames, framesPerLoop: o.framesPerLoop, jpegQuality: o.jpegQuality, shadows: o.shadows };
  const seeds = Array.from({ length: o.scenes }, (_, k) => o.seed + k);
  if (o.out.endsWith(".mcap")) {
    await writeSyntheticBag(o.out, seeds, bagOptions);
    log(`wrote ${o.scenes * o.frames} frames to ${o.out}`);
  } else {
    await mkdir(o.out, { recursive: true });
    for (const seed of seeds) {
      const path = join(o.out, `scene_${seed}.mcap`);
      await writeSyntheticBag(path, [seed], bagOptions);
      log(`scene ${seed}: ${o.frames} frames -> ${path}`);
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  try {
    await runSynth(parseSynthArgs(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`synth: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
