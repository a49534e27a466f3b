// The folder dataset (the input `depthseg eval --data <folder>` reads):
//
//   <root>/rgb/<stem>.png       rgb8 colour
//   <root>/depth/<stem>.png     16-bit, value = metres * depthScale (0 = invalid, clamped to 65535)
//   <root>/labels/<stem>.png    8-bit class ids
//   <root>/camera_info.yaml     ROS camera_info YAML (camera_calibration_parsers format); one camera
//   <root>/labels.yaml          the class table, in the model bundle's labels.yaml format
//   <root>/scenes.json          what was generated: seeds, room sizes, frame stems

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CameraCalibration } from "../frame.js";
import { encodePng } from "../imaging/decode.js";
import { labelsYaml, SYNTHETIC_CLASSES } from "./classes.js";
import type { SyntheticFrame } from "./frames.js";
import { encodePng16, encodePngGrey } from "./png.js";
import type { Room } from "./scene.js";

/** Millimetres: 16-bit PNG value / 1000 = metres. */
export const DEFAULT_DEPTH_SCALE = 1000;

/** round(metres * scale) per pixel, clamped to 65535; non-finite or non-positive depth -> 0 (invalid). */
export function depthToUint16(depth: Float32Array, scale: number, out: Uint16Array = new Uint16Array(depth.length)): Uint16Array {
  if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`depth scale must be > 0, got ${scale}`);
  if (out.length !== depth.length) throw new RangeError(`out has ${out.length} values, depth ${depth.length}`);
  for (let i = 0; i < depth.length; i++) {
    const z = depth[i]!;
    if (!(z > 0) || z === Infinity) {
      out[i] = 0;
      continue;
    }
    const q = Math.round(z * scale);
    out[i] = q > 65535 ? 65535 : q;
  }
  return out;
}

const fmt = (values: readonly number[]) => `[${values.map((v) => String(v)).join(", ")}]`;

/** The calibration as a ROS camera_info YAML file (as camera_calibration_parsers writes it). */
export function cameraInfoYaml(cal: CameraCalibration, cameraName: string): string {
  return [
    `image_width: ${cal.width}`,
    `image_height: ${cal.height}`,
    `camera_name: ${cameraName}`,
    "camera_matrix:",
    "  rows: 3",
    "  cols: 3",
    `  data: ${fmt(cal.k)}`,
    `distortion_model: ${cal.distortionModel}`,
    "distortion_coefficients:",
    "  rows: 1",
    `  cols: ${cal.d.length}`,
    `  data: ${fmt(cal.d)}`,
    "rectification_matrix:",
    "  rows: 3",
    "  cols: 3",
    `  data: ${fmt(cal.r)}`,
    "projection_matrix:",
    "  rows: 3",
    "  cols: 4",
    `  data: ${fmt(cal.p)}`,
    "",
  ].join("\n");
}

export interface SceneRecord {
  readonly seed: number;
  readonly room: Room;
  readonly frames: number;
  readonly framesPerLoop: number;
  readonly stems: readonly string[];
}

export interface FolderDatasetOptions {
  readonly calibration: CameraCalibration;
  /** 16-bit depth value per metre (default 1000). */
  readonly depthScale?: number;
  readonly cameraName?: string;
}

function sameCalibration(a: CameraCalibration, b: CameraCalibration): boolean {
  const eq = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.width === b.width && a.height === b.height && eq(a.k, b.k) && eq(a.d, b.d) && eq(a.p, b.p) && eq(a.r, b.r);
}

/** Writes a folder dataset frame by frame; `finish` adds scenes.json. */
export class FolderDatasetWriter {
  readonly depthScale: number;
  readonly #depth16: Uint16Array;

  private constructor(
    readonly root: string,
    readonly calibration: CameraCalibration,
    depthScale: number,
  ) {
    this.depthScale = depthScale;
    this.#depth16 = new Uint16Array(calibration.width * calibration.height);
  }

  /** Creates the folders and writes camera_info.yaml and labels.yaml. */
  static async create(root: string, options: FolderDatasetOptions): Promise<FolderDatasetWriter> {
    const depthScale = options.depthScale ?? DEFAULT_DEPTH_SCALE;
    if (!(Number.isFinite(depthScale) && depthScale > 0)) throw new RangeError(`depth scale must be > 0, got ${depthScale}`);
    for (const sub of ["rgb", "depth", "labels"]) await mkdir(join(root, sub), { recursive: true });
    await writeFile(join(root, "camera_info.yaml"), cameraInfoYaml(options.calibration, options.cameraName ?? "synthetic"));
    await writeFile(join(root, "labels.yaml"), labelsYaml());
    return new FolderDatasetWriter(root, options.calibration, depthScale);
  }

  async addFrame(stem: string, frame: SyntheticFrame): Promise<void> {
    if (!/^[\w.-]+$/.test(stem)) throw new RangeError(`bad stem "${stem}"`);
    if (!sameCalibration(frame.calibration, this.calibration)) {
      throw new RangeError(`frame ${stem}: its calibration differs from the dataset's (one camera_info.yaml per dataset)`);
    }
    const { width, height } = frame.image;
    const depth16 = depthToUint16(frame.depth, this.depthScale, this.#depth16);
    await writeFile(join(this.root, "rgb", `${stem}.png`), encodePng(frame.image));
    await writeFile(join(this.root, "depth", `${stem}.png`), encodePng16(depth16, width, height));
    await writeFile(join(this.root, "labels", `${stem}.png`), encodePngGrey(frame.labels, width, height));
  }

  /** Writes scenes.json: the generator settings and every scene's seed, room and frame stems. */
  async finish(scenes: readonly SceneRecord[]): Promise<void> {
    const meta = {
      generator: "depthseg synthetic world (src/synthetic)",
      width: this.calibration.width,
      height: this.calibration.height,
      depthScale: this.depthScale,
      classes: SYNTHETIC_CLASSES.map((c) => ({ id: c.id, name: c.name })),
      scenes: scenes.map((s) => ({
        seed: s.seed,
        room: { width: round(s.room.width), depth: round(s.room.depth), height: round(s.room.height) },
        frames: s.frames,
        framesPerLoop: s.framesPerLoop,
        stems: s.stems,
      })),
    };
    await writeFile(join(this.root, "scenes.json"), JSON.stringify(meta, null, 2) + "\n");
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
