// Bags for the scale-recovery tests: a synthetic sequence (exact depth) with the anchors a robot
// would have: a holey, noisy depth camera registered to the colour camera (16UC1 mm), or a
// 16-beam LiDAR in its own frame with /tf_static. The camera can keep a constant height and
// pitch above the floor (for scale.source ground_plane).

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { mulberry32 } from "../../src/synthetic/prng.js";
import { header } from "../../src/messages/outputs.js";
import type { Image, PointCloud2, TFMessage } from "../../src/messages/types.js";
import { BagWriter } from "../../src/transport/mcap/bagWriter.js";
import {
  SYNTHETIC_FRAME_ID,
  createRenderTarget,
  frameStamp,
  generateScene,
  renderFrame,
  syntheticCalibration,
  writeFrameMessages,
} from "../../src/synthetic/index.js";

export const DEPTH_CAMERA_TOPIC = "/camera/aligned_depth_to_color/image_raw";
export const LIDAR_TOPIC = "/lidar/points";
export const LIDAR_FRAME = "lidar";
export const BASE_FRAME = "base_link";
/** The floor's frame (REP 105 base_footprint: on the ground, z up). */
export const GROUND_FRAME = "base_footprint";
/** Camera optical centre and LiDAR origin in base_link (x forward, y left, z up). */
export const CAMERA_IN_BASE: readonly [number, number, number] = [0.1, 0.0, 0.3];
export const LIDAR_IN_BASE: readonly [number, number, number] = [0.05, 0.02, 0.45];
/** REP 103 optical frame in a body frame: x_base = z_opt, y_base = -x_opt, z_base = -y_opt. */
export const OPTICAL_IN_BASE_ROTATION: readonly [number, number, number, number] = [-0.5, 0.5, -0.5, 0.5];

export interface ScaleBagOptions {
  readonly frames: number;
  readonly seed: number;
  readonly width?: number;
  readonly height?: number;
  readonly anchors: "depth_image" | "points" | "none";
  /** Share of anchors given a wrong depth (×0.3 … ×3). */
  readonly corrupt?: number;
  /** Frames written without their anchor message. */
  readonly withoutAnchors?: (index: number) => boolean;
  /** Camera at a constant height and pitch (path height and pitch modulation off). */
  readonly level?: boolean;
  /** The camera stands still: every frame is the first view (only the image's and the anchors' noise change). */
  readonly still?: boolean;
  /**
   * With `level`: /tf_static places the camera above the floor frame GROUND_FRAME (z = 0 the
   * floor, z up) through base_link, pitched as the camera is (for scale.ground_frame).
   */
  readonly groundTf?: boolean;
}

export interface ScaleBag {
  readonly path: string;
  /** Metres at camera resolution, per frame. */
  readonly groundTruth: Float32Array[];
  /** Class ids (src/synthetic/classes.ts) at camera resolution, per frame. */
  readonly groundTruthLabels: Uint8Array[];
  readonly width: number;
  readonly height: number;
  /** Of the level camera: metres above the floor, and downward pitch (rad). */
  readonly cameraHeight: number;
  readonly cameraPitch: number;
  /** Anchors written per frame. */
  readonly anchorCounts: number[];
}

/** Elevations of a 16-beam LiDAR (±15°, 2° apart), as a VLP-16. */
const BEAM_ELEVATIONS_DEG = Array.from({ length: 16 }, (_, i) => -15 + 2 * i);

export async function writeScaleBag(path: string, options: ScaleBagOptions): Promise<ScaleBag> {
  const width = options.width ?? 160;
  const height = options.height ?? 120;
  const calibration = syntheticCalibration(width, height);
  const k = calibration.k;
  const fx = k[0]!, cx = k[2]!, fy = k[4]!, cy = k[5]!;
  const base = generateScene(options.seed);
  const scene = options.level ? { ...base, path: { ...base.path, heightAmp: 0, pitchAmp: 0 } } : base;
  const random = mulberry32(options.seed * 7919 + 17);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // Its own stream, so a corrupted bag has the clean bag's noise and dropouts: only the corruption differs.
  const corruptRandom = mulberry32(options.seed * 104729 + 5);
  const corrupt = (z: number) => (corruptRandom() < (options.corrupt ?? 0) ? z * Math.exp(Math.log(0.3) + corruptRandom() * Math.log(10)) : z);

  await mkdir(dirname(path), { recursive: true });
  const writer = await BagWriter.create(path);
  const groundTruth: Float32Array[] = [];
  const groundTruthLabels: Uint8Array[] = [];
  const anchorCounts: number[] = [];
  const target = createRenderTarget(width, height);
  try {
    const first = frameStamp(0);
    if (options.anchors === "points") {
      const tf: TFMessage = {
        transforms: [
          {
            header: header(first.stamp, BASE_FRAME),
            child_frame_id: SYNTHETIC_FRAME_ID,
            transform: { translation: xyz(CAMERA_IN_BASE), rotation: quaternion(OPTICAL_IN_BASE_ROTATION) },
          },
          {
            header: header(first.stamp, BASE_FRAME),
            child_frame_id: LIDAR_FRAME,
            transform: { translation: xyz(LIDAR_IN_BASE), rotation: { x: 0, y: 0, z: 0, w: 1 } },
          },
        ],
      };
      await writer.write("/tf_static", "tf2_msgs/msg/TFMessage", first.ns, tf);
    }
    if (options.groundTf) {
      if (!options.level) throw new Error("writeScaleBag: groundTf needs a level camera (constant height and pitch)");
      // base_link pitched down by the camera's pitch (about +y: x towards -z), raised so that the
      // optical centre, CAMERA_IN_BASE from it, is at the path's height.
      const pitch = -scene.path.pitch;
      const baseHeight = scene.path.height + Math.sin(pitch) * CAMERA_IN_BASE[0] - Math.cos(pitch) * CAMERA_IN_BASE[2];
      const tf: TFMessage = {
        transforms: [
          {
            header: header(first.stamp, GROUND_FRAME),
            child_frame_id: BASE_FRAME,
            transform: { translation: { x: 0, y: 0, z: baseHeight }, rotation: { x: 0, y: Math.sin(pitch / 2), z: 0, w: Math.cos(pitch / 2) } },
          },
          {
            header: header(first.stamp, BASE_FRAME),
            child_frame_id: SYNTHETIC_FRAME_ID,
            transform: { translation: xyz(CAMERA_IN_BASE), rotation: quaternion(OPTICAL_IN_BASE_ROTATION) },
          },
        ],
      };
      await writer.write("/tf_static", "tf2_msgs/msg/TFMessage", first.ns, tf);
    }
    for (let index = 0; index < options.frames; index++) {
      // A still camera sees the same view with new sensor noise each frame.
      const frame = renderFrame(scene, options.still ? 0 : index, { calibration, framesPerLoop: 100, target, shadows: true, noiseSeed: index });
      const truth = Float32Array.from(frame.depth);
      groundTruth.push(truth);
      groundTruthLabels.push(Uint8Array.from(frame.labels));
      await writeFrameMessages(writer, frame, index);
      const { stamp, ns } = frameStamp(index);
      if (options.anchors === "none" || options.withoutAnchors?.(index)) {
        anchorCounts.push(0);
        continue;
      }
      if (options.anchors === "depth_image") {
        // A RealSense-like depth: 0.4 … 6 m, 1 % noise, a dead band on the left (the stereo
        // shadow), 40 % random dropouts, millimetres.
        const mm = new Uint16Array(width * height);
        let count = 0;
        for (let v = 0; v < height; v++) {
          for (let u = 0; u < width; u++) {
            const z = truth[v * width + u]!;
            if (u < width / 8 || z < 0.4 || z > 6 || random() < 0.4) continue;
            mm[v * width + u] = Math.round(1000 * corrupt(z * (1 + 0.01 * gauss())));
            count++;
          }
        }
        anchorCounts.push(count);
        const image: Image = {
          header: header(stamp, SYNTHETIC_FRAME_ID),
          height,
          width,
          encoding: "16UC1",
          is_bigendian: 0,
          step: width * 2,
          data: new Uint8Array(mm.buffer),
        };
        await writer.write(DEPTH_CAMERA_TOPIC, "sensor_msgs/msg/Image", ns, image);
      } else {
        // 16 beams, one return every 4 columns, 2 cm range noise, in the LiDAR's own frame.
        const points: number[] = [];
        for (const elevation of BEAM_ELEVATIONS_DEG) {
          const v = Math.round(cy - fy * Math.tan((elevation * Math.PI) / 180));
          if (v < 0 || v >= height) continue;
          for (let u = 0; u < width; u += 4) {
            const trueZ = truth[v * width + u]!;
            const x = ((u - cx) / fx) * trueZ, y = ((v - cy) / fy) * trueZ;
            const range = Math.hypot(x, y, trueZ);
            const k = corrupt(range + 0.02 * gauss()) / range;
            // Optical → base_link → lidar (lidar axes are base_link's).
            points.push(
              k * trueZ + CAMERA_IN_BASE[0] - LIDAR_IN_BASE[0],
              -k * x + CAMERA_IN_BASE[1] - LIDAR_IN_BASE[1],
              -k * y + CAMERA_IN_BASE[2] - LIDAR_IN_BASE[2],
            );
          }
        }
        anchorCounts.push(points.length / 3);
        await writer.write(LIDAR_TOPIC, "sensor_msgs/msg/PointCloud2", ns, lidarCloud(stamp, points));
      }
    }
  } finally {
    await writer.close();
  }
  return {
    path,
    groundTruth,
    groundTruthLabels,
    width,
    height,
    cameraHeight: scene.path.height,
    cameraPitch: -scene.path.pitch,
    anchorCounts,
  };
}

/** x y z float32 and 4 bytes of intensity padding, as LiDAR drivers lay points out. */
export function lidarCloud(stamp: { sec: number; nanosec: number }, points: readonly number[]): PointCloud2 {
  const count = points.length / 3;
  const data = new Uint8Array(count * 16);
  const view = new DataView(data.buffer);
  for (let i = 0; i < count; i++) {
    view.setFloat32(i * 16, points[3 * i]!, true);
    view.setFloat32(i * 16 + 4, points[3 * i + 1]!, true);
    view.setFloat32(i * 16 + 8, points[3 * i + 2]!, true);
    view.setFloat32(i * 16 + 12, 100, true);
  }
  return {
    header: header(stamp, LIDAR_FRAME),
    height: 1,
    width: count,
    fields: [
      { name: "x", offset: 0, datatype: 7, count: 1 },
      { name: "y", offset: 4, datatype: 7, count: 1 },
      { name: "z", offset: 8, datatype: 7, count: 1 },
      { name: "intensity", offset: 12, datatype: 7, count: 1 },
    ],
    is_bigendian: false,
    point_step: 16,
    row_step: 16 * count,
    data,
    is_dense: true,
  };
}

function xyz(v: readonly [number, number, number]) {
  return { x: v[0], y: v[1], z: v[2] };
}

function quaternion(q: readonly [number, number, number, number]) {
  return { x: q[0], y: q[1], z: q[2], w: q[3] };
}
