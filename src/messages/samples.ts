// One small, fully populated message of every type depthseg reads or writes. Values are
// exact in their wire types (float32 fields use binary fractions) so a CDR round trip can be
// compared with toEqual. Used by the round-trip tests and handy for tools.

import { packPointCloud } from "../geometry/pointcloud2.js";
import type {
  TFMessage,
  CameraInfo,
  CompressedImage,
  DiagnosticArray,
  Header,
  Image,
  LabelInfo,
  PerceptionStatus,
  PointCloud2,
  RosMessageMap,
  RosTypeName,
} from "./types.js";

export function sampleHeader(sec = 1_700_000_000, nanosec = 123_456_789, frameId = "camera_optical"): Header {
  return { stamp: { sec, nanosec }, frame_id: frameId };
}

/** 3x2 rgb8 with one byte of row padding (step 10). */
export function sampleImage(): Image {
  return {
    header: sampleHeader(),
    height: 2,
    width: 3,
    encoding: "rgb8",
    is_bigendian: 0,
    step: 10,
    data: Uint8Array.from({ length: 20 }, (_, i) => (i * 13) % 256),
  };
}

/** 2x2 32FC1 depth with one NaN. */
export function sampleDepthImage(): Image {
  const depth = new Float32Array([1.5, Number.NaN, 0.25, 20]);
  return {
    header: sampleHeader(5, 6, "depth_frame"),
    height: 2,
    width: 2,
    encoding: "32FC1",
    is_bigendian: 0,
    step: 8,
    data: new Uint8Array(depth.buffer),
  };
}

export function sampleCompressedImage(): CompressedImage {
  return { header: sampleHeader(), format: "jpeg", data: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) };
}

export function sampleCameraInfo(): CameraInfo {
  return {
    header: sampleHeader(),
    height: 480,
    width: 640,
    distortion_model: "plumb_bob",
    d: new Float64Array([-0.28, 0.07, 0.0001, -0.0002, 0]),
    k: new Float64Array([525.5, 0, 319.75, 0, 524.25, 239.5, 0, 0, 1]),
    r: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]),
    p: new Float64Array([520.125, 0, 318.5, 0, 0, 519.875, 240.25, 0, 0, 0, 1, 0]),
    binning_x: 1,
    binning_y: 2,
    roi: { x_offset: 10, y_offset: 20, height: 400, width: 600, do_rectify: true },
  };
}

/** 2x1 organised cloud in the published layout (geometry/pointcloud2.ts POINT_FIELDS): a point and a NaN point. */
export function samplePointCloud2(): PointCloud2 {
  const xyz = new Float32Array([1, 2, 3, Number.NaN, Number.NaN, Number.NaN]);
  const rgb = new Uint8Array([0xff, 0x80, 0x00, 0, 0, 0]);
  const cloud = packPointCloud(xyz, 2, 1, rgb, new Uint16Array([7, 65535]), 65535);
  return {
    header: sampleHeader(),
    height: cloud.height,
    width: cloud.width,
    fields: cloud.fields.map((f) => ({ ...f })),
    is_bigendian: false,
    point_step: cloud.pointStep,
    row_step: cloud.rowStep,
    data: cloud.data,
    is_dense: false,
  };
}

export function sampleLabelInfo(): LabelInfo {
  return {
    header: sampleHeader(),
    class_map: [
      { class_id: 0, class_name: "floor" },
      { class_id: 1, class_name: "wall" },
      { class_id: 255, class_name: "unlabeled" },
    ],
    threshold: 0.5,
  };
}

export function samplePerceptionStatus(): PerceptionStatus {
  return {
    header: sampleHeader(),
    camera: "/camera/image_raw",
    model: "depth-anything-v2-small-metric-indoor",
    trained_on: "hypersim",
    execution_provider: "cuda",
    depth_kind: "metric",
    depth_is_metric: true,
    depth_head: "indoor",
    depth_scale: 1,
    depth_shift: 0.125,
    depth_valid_fraction: 0.75,
    scale_source: "points",
    scale_anchors: 812,
    scale_inliers: 640,
    scale_residual: 0.03125,
    scale_age: 0.5,
    latency_decode_ms: 1.5,
    latency_preprocess_ms: 2.25,
    latency_inference_ms: 12.75,
    latency_postprocess_ms: 0.5,
    latency_backproject_ms: Number.NaN,
    latency_encode_ms: 0.75,
    latency_total_ms: 20.5,
    frames_processed: 41n,
    frames_dropped: 3n,
    frames_failed: 18_446_744_073_709_551_615n,
  };
}

export function sampleDiagnosticArray(): DiagnosticArray {
  return {
    header: sampleHeader(),
    status: [
      {
        level: 1,
        name: "depthseg: /camera/image_raw",
        message: "dropping frames",
        hardware_id: "gpu0",
        values: [
          { key: "rate_hz", value: "14.5" },
          { key: "dropped", value: "3" },
        ],
      },
      { level: 0, name: "depthseg: inference", message: "ok", hardware_id: "", values: [] },
    ],
  };
}

export function sampleTfMessage(): TFMessage {
  return {
    transforms: [
      {
        header: sampleHeader(),
        child_frame_id: "camera_color_optical_frame",
        transform: { translation: { x: 0.125, y: -0.5, z: 1.25 }, rotation: { x: -0.5, y: 0.5, z: -0.5, w: 0.5 } },
      },
    ],
  };
}

/** A sample of every type, keyed by ROS type name. */
export function sampleMessages(): { readonly [K in RosTypeName]: RosMessageMap[K] } {
  return {
    "sensor_msgs/msg/Image": sampleImage(),
    "sensor_msgs/msg/CompressedImage": sampleCompressedImage(),
    "sensor_msgs/msg/CameraInfo": sampleCameraInfo(),
    "sensor_msgs/msg/PointCloud2": samplePointCloud2(),
    "vision_msgs/msg/LabelInfo": sampleLabelInfo(),
    "depthseg/msg/PerceptionStatus": samplePerceptionStatus(),
    "diagnostic_msgs/msg/DiagnosticArray": sampleDiagnosticArray(),
    "tf2_msgs/msg/TFMessage": sampleTfMessage(),
  };
}
