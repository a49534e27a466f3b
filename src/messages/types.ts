// TypeScript shapes of the ROS 2 messages depthseg reads and writes, exactly as
// @foxglove/rosmsg2-serialization decodes them: ROS field names (snake_case), time as
// {sec, nanosec}, uint8[] as Uint8Array, float64[] (fixed or not) as Float64Array,
// uint64 as bigint. The writer also accepts these shapes unchanged.
//
// Decoded uint8[] fields (Image.data, PointCloud2.data, ...) are views into the bytes that
// were decoded, not copies: keep the source buffer alive and unmodified while using them.

/** builtin_interfaces/msg/Time */
export interface Time {
  readonly sec: number;
  readonly nanosec: number;
}

/** std_msgs/msg/Header */
export interface Header {
  readonly stamp: Time;
  readonly frame_id: string;
}

/** sensor_msgs/msg/Image */
export interface Image {
  readonly header: Header;
  readonly height: number;
  readonly width: number;
  readonly encoding: string;
  /** uint8 in the .msg (not bool): 0 little-endian, 1 big-endian. */
  readonly is_bigendian: number;
  /** Full row length in bytes, padding included. */
  readonly step: number;
  readonly data: Uint8Array;
}

/** sensor_msgs/msg/CompressedImage */
export interface CompressedImage {
  readonly header: Header;
  /** e.g. "jpeg", "png", or "rgb8; jpeg compressed bgr8" as image_transport writes it. */
  readonly format: string;
  readonly data: Uint8Array;
}

/** sensor_msgs/msg/RegionOfInterest */
export interface RegionOfInterestMsg {
  readonly x_offset: number;
  readonly y_offset: number;
  readonly height: number;
  readonly width: number;
  readonly do_rectify: boolean;
}

/** sensor_msgs/msg/CameraInfo */
export interface CameraInfo {
  readonly header: Header;
  readonly height: number;
  readonly width: number;
  readonly distortion_model: string;
  readonly d: Float64Array;
  /** float64[9], row-major 3x3. */
  readonly k: Float64Array;
  /** float64[9], row-major 3x3. */
  readonly r: Float64Array;
  /** float64[12], row-major 3x4. */
  readonly p: Float64Array;
  readonly binning_x: number;
  readonly binning_y: number;
  readonly roi: RegionOfInterestMsg;
}

/** sensor_msgs/msg/PointField datatype constants. */
export const PointFieldType = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  FLOAT32: 7,
  FLOAT64: 8,
} as const;
export type PointFieldDatatype = (typeof PointFieldType)[keyof typeof PointFieldType];

/** sensor_msgs/msg/PointField */
export interface PointField {
  readonly name: string;
  readonly offset: number;
  readonly datatype: number;
  readonly count: number;
}

/** sensor_msgs/msg/PointCloud2 */
export interface PointCloud2 {
  readonly header: Header;
  readonly height: number;
  readonly width: number;
  readonly fields: readonly PointField[];
  readonly is_bigendian: boolean;
  readonly point_step: number;
  readonly row_step: number;
  readonly data: Uint8Array;
  readonly is_dense: boolean;
}

/** vision_msgs/msg/VisionClass */
export interface VisionClass {
  readonly class_id: number;
  readonly class_name: string;
}

/** vision_msgs/msg/LabelInfo */
export interface LabelInfo {
  readonly header: Header;
  readonly class_map: readonly VisionClass[];
  readonly threshold: number;
}

/** depthseg/msg/PerceptionStatus (msg/PerceptionStatus.msg). */
export interface PerceptionStatus {
  readonly header: Header;
  readonly camera: string;
  readonly model: string;
  readonly trained_on: string;
  readonly execution_provider: string;
  readonly depth_kind: string;
  readonly depth_is_metric: boolean;
  readonly depth_head: string;
  readonly depth_scale: number;
  readonly depth_shift: number;
  readonly depth_valid_fraction: number;
  readonly scale_source: string;
  readonly scale_anchors: number;
  readonly scale_inliers: number;
  readonly scale_residual: number;
  readonly scale_age: number;
  readonly latency_decode_ms: number;
  readonly latency_preprocess_ms: number;
  readonly latency_inference_ms: number;
  readonly latency_postprocess_ms: number;
  readonly latency_backproject_ms: number;
  readonly latency_encode_ms: number;
  readonly latency_total_ms: number;
  readonly frames_processed: bigint;
  readonly frames_dropped: bigint;
  readonly frames_failed: bigint;
}

/** diagnostic_msgs/msg/KeyValue */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** diagnostic_msgs/msg/DiagnosticStatus level constants. */
export const DiagnosticLevel = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;

/** diagnostic_msgs/msg/DiagnosticStatus */
export interface DiagnosticStatus {
  /** `byte` in the .msg, decoded as a number 0..3 (see DiagnosticLevel). */
  readonly level: number;
  readonly name: string;
  readonly message: string;
  readonly hardware_id: string;
  readonly values: readonly KeyValue[];
}

/** diagnostic_msgs/msg/DiagnosticArray */
export interface DiagnosticArray {
  readonly header: Header;
  readonly status: readonly DiagnosticStatus[];
}

/** geometry_msgs/msg/TransformStamped */
export interface TransformStamped {
  readonly header: Header;
  readonly child_frame_id: string;
  readonly transform: {
    readonly translation: { readonly x: number; readonly y: number; readonly z: number };
    readonly rotation: { readonly x: number; readonly y: number; readonly z: number; readonly w: number };
  };
}

/** tf2_msgs/msg/TFMessage (/tf, /tf_static) */
export interface TFMessage {
  readonly transforms: readonly TransformStamped[];
}

/** Every ROS type depthseg reads or writes, by its ROS 2 name as rosbag2 records it. */
export interface RosMessageMap {
  "sensor_msgs/msg/Image": Image;
  "sensor_msgs/msg/CompressedImage": CompressedImage;
  "sensor_msgs/msg/CameraInfo": CameraInfo;
  "sensor_msgs/msg/PointCloud2": PointCloud2;
  "vision_msgs/msg/LabelInfo": LabelInfo;
  "depthseg/msg/PerceptionStatus": PerceptionStatus;
  "diagnostic_msgs/msg/DiagnosticArray": DiagnosticArray;
  "tf2_msgs/msg/TFMessage": TFMessage;
}
export type RosTypeName = keyof RosMessageMap;
