// The ROS camera_info YAML format (camera_calibration_parsers, what the camera_calibration tool
// writes) → CameraCalibration:
//
//   image_width: 640
//   image_height: 480
//   camera_name: cam            (optional)
//   camera_matrix:            { rows: 3, cols: 3, data: [fx, 0, cx, 0, fy, cy, 0, 0, 1] }
//   distortion_model: plumb_bob
//   distortion_coefficients:  { rows: 1, cols: 5, data: [k1, k2, t1, t2, k3] }
//   rectification_matrix:     { rows: 3, cols: 3, data: [...] }   (optional: identity)
//   projection_matrix:        { rows: 3, cols: 4, data: [...] }   (optional: [K | 0])

import { parse } from "yaml";
import { FatalError } from "../errors.js";
import type { CameraCalibration } from "../frame.js";

export function parseCameraInfoYaml(text: string, source: string): CameraCalibration {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new FatalError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  if (!isRecord(doc)) throw new FatalError(`${source}: expected a map with image_width, image_height, camera_matrix, ...`);

  const size = (key: string): number => {
    const value = doc[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new FatalError(`${source}: ${key} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const matrix = (key: string, length: number | undefined, fallback?: number[]): number[] => {
    const value = doc[key];
    if (value === undefined || value === null) {
      if (fallback) return fallback;
      throw new FatalError(`${source}: ${key} is missing`);
    }
    if (!isRecord(value) || !Array.isArray(value["data"])) {
      throw new FatalError(`${source}: ${key} must be a map with a data list`);
    }
    const data = value["data"] as unknown[];
    if (!data.every((v): v is number => typeof v === "number" && Number.isFinite(v))) {
      throw new FatalError(`${source}: ${key}.data must hold finite numbers`);
    }
    if (length !== undefined && data.length !== length) {
      throw new FatalError(`${source}: ${key}.data has ${data.length} values, expected ${length}`);
    }
    return data;
  };

  const width = size("image_width");
  const height = size("image_height");
  const k = matrix("camera_matrix", 9);
  const d = matrix("distortion_coefficients", undefined, []);
  const r = matrix("rectification_matrix", 9, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const p = matrix("projection_matrix", 12, [k[0]!, k[1]!, k[2]!, 0, k[3]!, k[4]!, k[5]!, 0, k[6]!, k[7]!, k[8]!, 0]);
  const model = doc["distortion_model"] ?? "plumb_bob";
  if (typeof model !== "string") throw new FatalError(`${source}: distortion_model must be a string`);
  return {
    width,
    height,
    distortionModel: model,
    d,
    k,
    r,
    p,
    binningX: 0,
    binningY: 0,
    roi: { xOffset: 0, yOffset: 0, height: 0, width: 0, doRectify: false },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
