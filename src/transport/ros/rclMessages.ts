// Edge between rclnodejs message objects and the message shapes the rest of depthseg uses
// (messages/types.ts, the shapes of our CDR codec). Field names are the same ROS names; what
// differs is that rclnodejs may give numeric arrays as plain arrays, and that its typed arrays
// may view native message memory. Images wait in the scheduler after the callback returns, so
// incoming arrays are copied into memory of our own.

import type * as rclnodejs from "rclnodejs";
import type { CameraInfo, CompressedImage, Header, Image, PointCloud2, RosMessageMap, TFMessage } from "../../messages/types.js";
import type { RclMessage, RclMessageTypeName } from "./rclPort.js";

type RclHeader = rclnodejs.std_msgs.msg.Header;

function headerFromRcl(header: RclHeader): Header {
  return { stamp: { sec: header.stamp.sec, nanosec: header.stamp.nanosec }, frame_id: header.frame_id };
}

function bytes(data: number[] | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data.slice() : Uint8Array.from(data);
}

function float64s(data: number[] | Float64Array): Float64Array {
  return data instanceof Float64Array ? data.slice() : Float64Array.from(data);
}

export function imageFromRcl(msg: RclMessage<"sensor_msgs/msg/Image">): Image {
  return {
    header: headerFromRcl(msg.header),
    height: msg.height,
    width: msg.width,
    encoding: msg.encoding,
    is_bigendian: msg.is_bigendian,
    step: msg.step,
    data: bytes(msg.data),
  };
}

export function pointCloud2FromRcl(msg: RclMessage<"sensor_msgs/msg/PointCloud2">): PointCloud2 {
  return {
    header: headerFromRcl(msg.header),
    height: msg.height,
    width: msg.width,
    fields: msg.fields.map((f) => ({ name: f.name, offset: f.offset, datatype: f.datatype, count: f.count })),
    is_bigendian: msg.is_bigendian,
    point_step: msg.point_step,
    row_step: msg.row_step,
    data: bytes(msg.data),
    is_dense: msg.is_dense,
  };
}

export function tfMessageFromRcl(msg: RclMessage<"tf2_msgs/msg/TFMessage">): TFMessage {
  return {
    transforms: msg.transforms.map((t) => ({
      header: headerFromRcl(t.header),
      child_frame_id: t.child_frame_id,
      transform: {
        translation: { x: t.transform.translation.x, y: t.transform.translation.y, z: t.transform.translation.z },
        rotation: { x: t.transform.rotation.x, y: t.transform.rotation.y, z: t.transform.rotation.z, w: t.transform.rotation.w },
      },
    })),
  };
}

export function compressedImageFromRcl(msg: RclMessage<"sensor_msgs/msg/CompressedImage">): CompressedImage {
  return { header: headerFromRcl(msg.header), format: msg.format, data: bytes(msg.data) };
}

export function cameraInfoFromRcl(msg: RclMessage<"sensor_msgs/msg/CameraInfo">): CameraInfo {
  return {
    header: headerFromRcl(msg.header),
    height: msg.height,
    width: msg.width,
    distortion_model: msg.distortion_model,
    d: float64s(msg.d),
    k: float64s(msg.k),
    r: float64s(msg.r),
    p: float64s(msg.p),
    binning_x: msg.binning_x,
    binning_y: msg.binning_y,
    roi: { ...msg.roi },
  };
}

/** The types the node publishes. */
export type OutputTypeName = RclMessageTypeName & keyof RosMessageMap;

/**
 * Our output messages are already in rclnodejs's shape (typed arrays, {sec, nanosec}, bigint
 * uint64); they differ only in declaring their arrays readonly, a compile-time notion. The
 * checks below prove that, field by field, for every type the node publishes.
 */
export function toRclMessage<K extends OutputTypeName>(message: RosMessageMap[K]): RclMessage<K> {
  return message as unknown as RclMessage<K>;
}

/**
 * `message` with its `data` bytes in an ArrayBuffer of their own. rclnodejs serialises a typed
 * array from the start of its buffer to the buffer's end (its message wrappers copy
 * `new Uint8Array(array.buffer)`), so a view into a larger buffer, such as a fused_io frame's
 * depth in a shared inference slot sized for a larger camera, would publish the wrong bytes.
 * Messages whose data already owns its buffer (the usual case) are returned as they are.
 */
export function withOwnedData<T>(message: T): T {
  const data = (message as { data?: unknown }).data;
  if (!(data instanceof Uint8Array)) return message;
  if (data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return message;
  return { ...message, data: data.slice() };
}

type WritableArrays<T> = T extends readonly (infer E)[]
  ? WritableArrays<E>[]
  : T extends ArrayBufferView | bigint
    ? T
    : T extends object
      ? { -readonly [P in keyof T]: WritableArrays<T[P]> }
      : T;
type Conforms<Actual extends Expected, Expected> = Actual;
type Ours<K extends OutputTypeName> = WritableArrays<RosMessageMap[K]>;
export type OutputMessagesConform = [
  Conforms<Ours<"sensor_msgs/msg/Image">, RclMessage<"sensor_msgs/msg/Image">>,
  Conforms<Ours<"sensor_msgs/msg/CameraInfo">, RclMessage<"sensor_msgs/msg/CameraInfo">>,
  Conforms<Ours<"sensor_msgs/msg/PointCloud2">, RclMessage<"sensor_msgs/msg/PointCloud2">>,
  Conforms<Ours<"vision_msgs/msg/LabelInfo">, RclMessage<"vision_msgs/msg/LabelInfo">>,
  Conforms<Ours<"depthseg/msg/PerceptionStatus">, RclMessage<"depthseg/msg/PerceptionStatus">>,
  Conforms<Ours<"diagnostic_msgs/msg/DiagnosticArray">, RclMessage<"diagnostic_msgs/msg/DiagnosticArray">>,
];
