// Camera poses in the synthetic world, and the smooth closed path a scene's camera follows.
//
// World frame: x and z horizontal, y up (metres); the room spans [0, width] x [0, height] x
// [0, depth]. A pose holds the camera position and its REP 103 optical axes expressed in the
// world frame: right (optical x), down (optical y) and forward (optical z). Roll is always zero.

export type Vec3 = readonly [number, number, number];

export interface CameraPose {
  readonly position: Vec3;
  readonly right: Vec3;
  readonly down: Vec3;
  readonly forward: Vec3;
}

/** A closed path: a wobbling ellipse around (cx, cz), with smooth height, yaw and pitch changes. */
export interface CameraPath {
  readonly cx: number;
  readonly cz: number;
  readonly rx: number;
  readonly rz: number;
  /** Radius modulation 1 + sum(amp * sin(k*theta + phase)); integer k keeps the path closed. */
  readonly wobble: readonly { readonly k: number; readonly amp: number; readonly phase: number }[];
  readonly theta0: number;
  /** +1 counter-clockwise (seen from above), -1 clockwise. */
  readonly direction: 1 | -1;
  readonly height: number;
  readonly heightAmp: number;
  readonly heightFreq: number;
  readonly heightPhase: number;
  /** Heading offset from "towards the path centre", amp * sin(2*pi*freq*s + phase) (radians). */
  readonly yawAmp: number;
  readonly yawFreq: number;
  readonly yawPhase: number;
  /** Pitch (radians, positive looks up): base + amp * sin(2*pi*freq*s + phase). */
  readonly pitch: number;
  readonly pitchAmp: number;
  readonly pitchFreq: number;
  readonly pitchPhase: number;
}

const TAU = 2 * Math.PI;

/** Camera position at loop parameter s (period 1). */
export function pathPosition(path: CameraPath, s: number): Vec3 {
  const theta = path.theta0 + path.direction * TAU * s;
  let scale = 1;
  for (const w of path.wobble) scale += w.amp * Math.sin(w.k * theta + w.phase);
  const y = path.height + path.heightAmp * Math.sin(TAU * path.heightFreq * s + path.heightPhase);
  return [path.cx + path.rx * scale * Math.cos(theta), y, path.cz + path.rz * scale * Math.sin(theta)];
}

/** Camera pose at loop parameter s (period 1): on the path, looking roughly at the path centre. */
export function pathPose(path: CameraPath, s: number): CameraPose {
  const position = pathPosition(path, s);
  const towardsCentre = Math.atan2(path.cx - position[0], path.cz - position[2]);
  const yaw = towardsCentre + path.yawAmp * Math.sin(TAU * path.yawFreq * s + path.yawPhase);
  const pitch = path.pitch + path.pitchAmp * Math.sin(TAU * path.pitchFreq * s + path.pitchPhase);
  return poseFromAngles(position, yaw, pitch);
}

/**
 * Pose at `position` with heading `yaw` (radians; 0 looks along +z, pi/2 along +x) and `pitch`
 * (radians; positive looks up), zero roll.
 */
export function poseFromAngles(position: Vec3, yaw: number, pitch: number): CameraPose {
  const cp = Math.cos(pitch);
  const forward: Vec3 = [cp * Math.sin(yaw), Math.sin(pitch), cp * Math.cos(yaw)];
  // right = forward x up (horizontal), down = forward x right.
  const right: Vec3 = [-Math.cos(yaw), 0, Math.sin(yaw)];
  const down: Vec3 = [
    forward[1] * right[2] - forward[2] * right[1],
    forward[2] * right[0] - forward[0] * right[2],
    forward[0] * right[1] - forward[1] * right[0],
  ];
  return { position, right, down, forward };
}

/** Pose at `position` looking at `target` (zero roll; target must not be straight above/below). */
export function lookAtPose(position: Vec3, target: Vec3): CameraPose {
  const dx = target[0] - position[0];
  const dy = target[1] - position[1];
  const dz = target[2] - position[2];
  return poseFromAngles(position, Math.atan2(dx, dz), Math.atan2(dy, Math.hypot(dx, dz)));
}

/** World point -> optical frame of `pose` (x right, y down, z forward). */
export function worldToOptical(pose: CameraPose, p: Vec3): Vec3 {
  const d0 = p[0] - pose.position[0];
  const d1 = p[1] - pose.position[1];
  const d2 = p[2] - pose.position[2];
  const dot = (a: Vec3) => a[0] * d0 + a[1] * d1 + a[2] * d2;
  return [dot(pose.right), dot(pose.down), dot(pose.forward)];
}

/** Optical-frame point of `pose` -> world. */
export function opticalToWorld(pose: CameraPose, p: Vec3): Vec3 {
  const { position: o, right: r, down: d, forward: f } = pose;
  return [
    o[0] + r[0] * p[0] + d[0] * p[1] + f[0] * p[2],
    o[1] + r[1] * p[0] + d[1] * p[1] + f[1] * p[2],
    o[2] + r[2] * p[0] + d[2] * p[1] + f[2] * p[2],
  ];
}
