// Domain types that cross stage boundaries. They mirror the ROS fields they come from but
// carry no ROS message machinery, so kernels and the pipeline never import messages/.

import type { GroundPlane } from "./geometry/groundPlane.js";

/** ROS 2 builtin_interfaces/Time. */
export interface Stamp {
  readonly sec: number;
  readonly nanosec: number;
}

/** Interleaved 8-bit RGB, row-major, tightly packed (length = width * height * 3). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Everything in a sensor_msgs/CameraInfo except its header, in ROS field order and naming. */
export interface CameraCalibration {
  readonly width: number;
  readonly height: number;
  readonly distortionModel: string;
  /** Distortion coefficients (plumb_bob: k1 k2 t1 t2 k3). */
  readonly d: readonly number[];
  /** 3x3 row-major intrinsic matrix of the raw (distorted) image. */
  readonly k: readonly number[];
  /** 3x3 row-major rectification rotation. */
  readonly r: readonly number[];
  /** 3x4 row-major projection matrix of the rectified image. */
  readonly p: readonly number[];
  readonly binningX: number;
  readonly binningY: number;
  readonly roi: RegionOfInterest;
}

export interface RegionOfInterest {
  readonly xOffset: number;
  readonly yOffset: number;
  readonly height: number;
  readonly width: number;
  readonly doRectify: boolean;
}

/** Pinhole parameters used for back-projection, in pixels of an image of width x height. */
export interface PinholeIntrinsics {
  readonly width: number;
  readonly height: number;
  readonly fx: number;
  readonly fy: number;
  readonly cx: number;
  readonly cy: number;
}

/** The one thing ingest hands to the pipeline: a decoded image paired with its calibration. */
export interface Frame {
  /** Topic the image came from; identifies the camera. */
  readonly cameraTopic: string;
  readonly stamp: Stamp;
  readonly frameId: string;
  readonly image: RgbImage;
  readonly calibration: CameraCalibration;
  /** Derived from calibration (P when non-zero, else K), validated non-degenerate. */
  readonly intrinsics: PinholeIntrinsics;
  /**
   * Pixel indices with no scene content (the black border left by rectification); their depth is
   * published as NaN and their label as unlabelled. Absent or empty: every pixel is real.
   */
  readonly uncovered?: Int32Array;
  /** Metres measured by another sensor for this frame (`scale.source` depth_image or points), paired by stamp. */
  readonly anchors?: AnchorMeasurement;
  /** scale.source ground_plane with scale.ground_frame: the floor from the TF tree, when it links that frame to this one. */
  readonly groundPlane?: GroundPlane;
}

/** A metric measurement that comes with a frame, in the camera's geometry (scale recovery). */
export type AnchorMeasurement =
  | {
      /** Depth registered to the camera image (same field of view, any resolution); metres, NaN or ≤ 0 = none. */
      readonly kind: "depth_image";
      readonly width: number;
      readonly height: number;
      readonly depth: Float32Array;
    }
  | {
      /** Points in the camera optical frame (x right, y down, z forward), xyz interleaved, metres. */
      readonly kind: "points";
      readonly points: Float32Array;
    };

export type DepthKind = "metric" | "relative_disparity" | "relative_depth";

/** Stage names used for latency accounting, in pipeline order. */
export const STAGES = [
  "decode",
  "preprocess",
  "inference",
  "postprocess",
  "backproject",
  "encode",
] as const;
export type StageName = (typeof STAGES)[number];
export type StageTimings = Partial<Record<StageName, number>>;

export function stampToNanoseconds(stamp: Stamp): bigint {
  return BigInt(stamp.sec) * 1_000_000_000n + BigInt(stamp.nanosec);
}

/** Inverse of stampToNanoseconds for times ≥ 0 (an MCAP log time, for instance). */
export function nanosecondsToStamp(ns: bigint): Stamp {
  return { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
}

export function formatStamp(stamp: Stamp): string {
  return `${stamp.sec}.${String(stamp.nanosec).padStart(9, "0")}`;
}
