// A distortion-free pinhole calibration, as a camera driver for a rectified stream publishes it.

import type { CameraCalibration } from "../frame.js";

export function pinholeCalibration(
  width: number,
  height: number,
  fx: number,
  fy: number,
  cx: number,
  cy: number,
): CameraCalibration {
  return {
    width,
    height,
    distortionModel: "plumb_bob",
    d: [0, 0, 0, 0, 0],
    k: [fx, 0, cx, 0, fy, cy, 0, 0, 1],
    r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    p: [fx, 0, cx, 0, 0, fy, cy, 0, 0, 0, 1, 0],
    binningX: 0,
    binningY: 0,
    roi: { xOffset: 0, yOffset: 0, height: 0, width: 0, doRectify: false },
  };
}
