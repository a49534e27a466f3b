// The floor as the camera sees it (scale.source ground_plane): how far below the optical centre
// it lies and which way is down, in the camera optical frame (x right, y down, z forward; REP 103
// optical convention). It comes either from angles (scale.camera_height/pitch/roll) or from the
// robot's TF tree: a frame such as base_footprint whose z = 0 plane is the floor, z up (REP 103).

import type { RigidTransform } from "./staticTransforms.js";

export interface GroundPlane {
  /** Metres from the optical centre down to the floor (> 0: the camera is above it). */
  readonly height: number;
  /** World down as a unit vector in the camera optical frame. */
  readonly down: readonly [number, number, number];
}

/**
 * A camera `height` metres above the floor, its optical axis tilted `pitch` rad down from
 * horizontal and rolled `roll` rad about the axis (positive: world down appears towards +x).
 */
export function groundPlaneFromAngles(height: number, pitch: number, roll: number): GroundPlane {
  const c = Math.cos(pitch);
  return { height, down: [Math.sin(roll) * c, Math.cos(roll) * c, Math.sin(pitch)] };
}

/**
 * The floor as the z = 0 plane of a ground frame, z up: `cameraFromGround` maps ground-frame
 * coordinates into the camera optical frame (p_cam = R·p_ground + t, what
 * StaticTransforms.lookup(camera, ground) gives). Up is R·ẑ; the camera's height is the ground
 * frame's z of the camera's origin, −(R·ẑ)·t.
 */
export function groundPlaneFromTransform(cameraFromGround: RigidTransform): GroundPlane {
  const [qx, qy, qz, qw] = cameraFromGround.rotation;
  const norm = Math.hypot(qx, qy, qz, qw);
  const [x, y, z, w] = [qx / norm, qy / norm, qz / norm, qw / norm];
  // Third column of R(q): the ground frame's z axis in camera coordinates.
  const up: [number, number, number] = [2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y)];
  const [tx, ty, tz] = cameraFromGround.translation;
  return { height: -(up[0] * tx + up[1] * ty + up[2] * tz), down: [-up[0], -up[1], -up[2]] };
}

/** "h m, pitch p°, roll r°": the plane as a user set it, for log lines. */
export function describeGroundPlane(plane: GroundPlane): string {
  const [dx, dy, dz] = plane.down;
  const pitch = Math.asin(Math.max(-1, Math.min(1, dz)));
  const roll = Math.atan2(dx, dy);
  // Rounding of a level plane's quaternion must not print "-0.0°".
  const deg = (rad: number) => (Math.abs(rad) < 1e-6 ? 0 : (rad * 180) / Math.PI).toFixed(1);
  return `${plane.height.toFixed(3)} m above the floor, pitch ${deg(pitch)}°, roll ${deg(roll)}°`;
}
