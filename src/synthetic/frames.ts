// Frames of a synthetic sequence: the camera on its scene's closed path, rendered to RGB,
// z-depth and labels, with the CameraCalibration of the pinhole camera.

import type { CameraCalibration, PinholeIntrinsics, RgbImage } from "../frame.js";
import { intrinsicsFromCalibration } from "../geometry/intrinsics.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { pathPose, type CameraPose } from "./camera.js";
import { createRenderTarget, renderView, type RenderOptions, type RenderTarget } from "./render.js";
import type { Scene } from "./scene.js";

/** Focal length of the synthetic camera as a fraction of the image width (about 64 deg horizontal FOV). */
export const FOCAL_PER_WIDTH = 0.8;

/** The distortion-free calibration of the synthetic camera at width x height: f = 0.8 * width, centred. */
export function syntheticCalibration(width: number, height: number): CameraCalibration {
  const f = FOCAL_PER_WIDTH * width;
  return pinholeCalibration(width, height, f, f, (width - 1) / 2, (height - 1) / 2);
}

export interface SyntheticFrame {
  readonly sceneSeed: number;
  readonly index: number;
  readonly pose: CameraPose;
  readonly image: RgbImage;
  /** Metres along the optical z axis (every pixel valid: the room is closed). */
  readonly depth: Float32Array;
  /** Class ids (SYNTHETIC_CLASSES). */
  readonly labels: Uint8Array;
  readonly calibration: CameraCalibration;
}

export interface FrameOptions extends RenderOptions {
  readonly calibration: CameraCalibration;
  /** Frames per loop of the closed camera path (default 100). */
  readonly framesPerLoop?: number;
  /** Reused buffers (the returned frame then views them: copy before rendering the next one). */
  readonly target?: RenderTarget;
}

/** Loop parameter of frame `index`: the path is travelled once per `framesPerLoop` frames. */
export function framePose(scene: Scene, index: number, framesPerLoop = 100): CameraPose {
  return pathPose(scene.path, index / framesPerLoop);
}

export function renderFrame(scene: Scene, index: number, options: FrameOptions): SyntheticFrame {
  const { calibration } = options;
  const intr: PinholeIntrinsics = intrinsicsFromCalibration(calibration);
  const pose = framePose(scene, index, options.framesPerLoop);
  const target = options.target ?? createRenderTarget(intr.width, intr.height);
  renderView(scene, pose, intr, target, { ...options, noiseSeed: options.noiseSeed ?? index });
  return {
    sceneSeed: scene.seed,
    index,
    pose,
    image: { width: target.width, height: target.height, data: target.rgb },
    depth: target.depth,
    labels: target.labels,
    calibration,
  };
}
