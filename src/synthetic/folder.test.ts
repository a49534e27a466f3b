import { readFile, readdir } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { decodeCompressedImage } from "../imaging/decode.js";
import { cv, matToUint16 } from "../imaging/opencv.js";
import { parseLabels } from "../inference/labels.js";
import { SYNTHETIC_CLASSES } from "./classes.js";
import { cameraInfoYaml, depthToUint16, FolderDatasetWriter } from "./folder.js";
import { renderFrame, syntheticCalibration } from "./frames.js";
import { decodePng16, decodePngGrey, encodePng16, encodePngGrey } from "./png.js";
import { generateScene } from "./scene.js";

const IMREAD_UNCHANGED = -1;

describe("depthToUint16", () => {
  it("rounds metres * S, clamps to 65535 and writes 0 for invalid depth", () => {
    const depth = Float32Array.from([1.2344, 0.0004, 70, NaN, -1, 0, Infinity, 2.5]);
    expect([...depthToUint16(depth, 1000)]).toEqual([1234, 0, 65535, 0, 0, 0, 0, 2500]);
    expect([...depthToUint16(Float32Array.from([1.2344]), 5000)]).toEqual([6172]);
    expect(() => depthToUint16(depth, 0)).toThrow(/scale/);
  });
});

describe("grey PNG helpers", () => {
  it("16-bit and 8-bit PNGs round-trip exactly", () => {
    const d = Uint16Array.from({ length: 12 }, (_, i) => i * 5000 + 7);
    const back = decodePng16(encodePng16(d, 4, 3));
    expect([back.width, back.height]).toEqual([4, 3]);
    expect([...back.data]).toEqual([...d]);
    const g = Uint8Array.from({ length: 6 }, (_, i) => i * 40);
    const grey = decodePngGrey(encodePngGrey(g, 3, 2));
    expect([grey.width, grey.height, ...grey.data]).toEqual([3, 2, ...g]);
  });
});

describe("FolderDatasetWriter", () => {
  it("writes rgb/depth/labels PNGs, camera_info.yaml, labels.yaml and scenes.json that read back", async () => {
    for (const scale of [1000, 5000]) {
      const root = join(await mkdtemp(join(tmpdir(), "depthseg-synth-")), "data");
      const calibration = syntheticCalibration(64, 48);
      const writer = await FolderDatasetWriter.create(root, { calibration, depthScale: scale });
      const scene = generateScene(21);
      const frames = [0, 1].map((i) => renderFrame(scene, i, { calibration, framesPerLoop: 8 }));
      const stems = ["s21_f0000", "s21_f0001"];
      for (let i = 0; i < 2; i++) await writer.addFrame(stems[i]!, frames[i]!);
      await writer.finish([{ seed: 21, room: scene.room, frames: 2, framesPerLoop: 8, stems }]);

      expect((await readdir(root)).sort()).toEqual(["camera_info.yaml", "depth", "labels", "labels.yaml", "rgb", "scenes.json"]);
      for (let i = 0; i < 2; i++) {
        const frame = frames[i]!;
        const bytes = await readFile(join(root, "depth", `${stems[i]}.png`));
        const mat = cv().imdecode(bytes, IMREAD_UNCHANGED);
        expect([mat.cols, mat.rows, mat.channels, mat.depth]).toEqual([64, 48, 1, cv().CV_16U]);
        const raw = matToUint16(mat);
        let worst = 0;
        for (let p = 0; p < raw.length; p++) {
          expect(raw[p]).toBeGreaterThan(0);
          worst = Math.max(worst, Math.abs(raw[p]! / scale - frame.depth[p]!));
        }
        expect(worst).toBeLessThanOrEqual(1 / scale);

        const labels = decodePngGrey(await readFile(join(root, "labels", `${stems[i]}.png`)));
        expect(Buffer.from(labels.data).equals(Buffer.from(frame.labels))).toBe(true);
        const rgb = decodeCompressedImage("png", await readFile(join(root, "rgb", `${stems[i]}.png`)));
        expect(Buffer.from(rgb.data).equals(Buffer.from(frame.image.data))).toBe(true);
      }

      const info = parse(await readFile(join(root, "camera_info.yaml"), "utf8"));
      expect(info).toMatchObject({
        image_width: 64,
        image_height: 48,
        camera_name: "synthetic",
        camera_matrix: { rows: 3, cols: 3, data: [...calibration.k] },
        distortion_model: "plumb_bob",
        distortion_coefficients: { rows: 1, cols: 5, data: [0, 0, 0, 0, 0] },
        rectification_matrix: { rows: 3, cols: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
        projection_matrix: { rows: 3, cols: 4, data: [...calibration.p] },
      });
      expect(info.camera_matrix.data).toEqual([51.2, 0, 31.5, 0, 51.2, 23.5, 0, 0, 1]);

      const labelsYaml = parseLabels(await readFile(join(root, "labels.yaml"), "utf8"), "labels.yaml");
      expect(labelsYaml.classes.map((c) => c.name)).toEqual(SYNTHETIC_CLASSES.map((c) => c.name));
      const meta = JSON.parse(await readFile(join(root, "scenes.json"), "utf8"));
      expect(meta).toMatchObject({ width: 64, height: 48, depthScale: scale, scenes: [{ seed: 21, frames: 2, stems }] });
    }
  });

  it("refuses a frame from another camera and bad stems", async () => {
    const root = await mkdtemp(join(tmpdir(), "depthseg-synth-"));
    const writer = await FolderDatasetWriter.create(root, { calibration: syntheticCalibration(32, 24) });
    const frame = renderFrame(generateScene(1), 0, { calibration: syntheticCalibration(40, 30) });
    await expect(writer.addFrame("x", frame)).rejects.toThrow(/calibration differs/);
    await expect(writer.addFrame("../x", frame)).rejects.toThrow(/bad stem/);
  });

  it("cameraInfoYaml writes the ROS camera_calibration_parsers layout", () => {
    const text = cameraInfoYaml(syntheticCalibration(320, 240), "cam");
    expect(text.split("\n").slice(0, 7)).toEqual([
      "image_width: 320",
      "image_height: 240",
      "camera_name: cam",
      "camera_matrix:",
      "  rows: 3",
      "  cols: 3",
      "  data: [256, 0, 159.5, 0, 256, 119.5, 0, 0, 1]",
    ]);
  });
});
