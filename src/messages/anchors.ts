// Anchor messages for scale recovery (scale.source depth_image / points) → metres in the
// camera's geometry. Bad messages throw FrameError("bad_message") naming what is wrong.

import type { AnchorMeasurement } from "../frame.js";
import { FrameError } from "../errors.js";
import { POINT_FIELD_FLOAT32 } from "../geometry/pointcloud2.js";
import type { StaticTransforms } from "../geometry/staticTransforms.js";
import type { Image, PointCloud2, TFMessage } from "./types.js";

/** Each transform of a /tf_static message into the tree (a later one for a child replaces it, as in tf2). */
export function addStaticTransforms(transforms: StaticTransforms, tf: TFMessage): void {
  for (const t of tf.transforms) {
    const { translation: p, rotation: q } = t.transform;
    transforms.set(t.header.frame_id, t.child_frame_id, { translation: [p.x, p.y, p.z], rotation: [q.x, q.y, q.z, q.w] });
  }
}

/** A registered depth image (16UC1 millimetres, 0 = none, as RealSense/OpenNI; or 32FC1 metres) in metres, NaN = none. */
export function depthImageAnchors(image: Image): Extract<AnchorMeasurement, { kind: "depth_image" }> {
  const { width, height, step, encoding } = image;
  const bytesPerPixel = encoding === "16UC1" || encoding === "mono16" ? 2 : encoding === "32FC1" ? 4 : 0;
  if (bytesPerPixel === 0) {
    throw new FrameError("bad_message", `depth image encoding "${encoding}": scale.source depth_image reads 16UC1 (mm) or 32FC1 (m)`);
  }
  if (step < width * bytesPerPixel || image.data.length < step * height) {
    throw new FrameError("bad_message", `depth image ${width}x${height} ${encoding}: step ${step} and ${image.data.length} data bytes do not hold it`);
  }
  const view = new DataView(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const little = !image.is_bigendian;
  const depth = new Float32Array(width * height);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const at = v * step + u * bytesPerPixel;
      const z = bytesPerPixel === 2 ? view.getUint16(at, little) / 1000 : view.getFloat32(at, little);
      depth[v * width + u] = z > 0 && z < Infinity ? z : NaN;
    }
  }
  return { kind: "depth_image", width, height, depth };
}

/** x y z (float32 fields) of every point of a cloud, in its own frame (header.frame_id). */
export function cloudPoints(cloud: PointCloud2): Float32Array {
  const offsets = ["x", "y", "z"].map((name) => {
    const field = cloud.fields.find((f) => f.name === name);
    if (!field) throw new FrameError("bad_message", `PointCloud2 has no "${name}" field (fields: ${cloud.fields.map((f) => f.name).join(", ")})`);
    if (field.datatype !== POINT_FIELD_FLOAT32) throw new FrameError("bad_message", `PointCloud2 field "${name}" is datatype ${field.datatype}, not FLOAT32 (7)`);
    if (field.offset + 4 > cloud.point_step) throw new FrameError("bad_message", `PointCloud2 field "${name}" at ${field.offset} lies outside point_step ${cloud.point_step}`);
    return field.offset;
  }) as [number, number, number];
  const { width, height, point_step: pointStep, row_step: rowStep } = cloud;
  if (rowStep < width * pointStep || cloud.data.length < rowStep * height) {
    throw new FrameError("bad_message", `PointCloud2 ${width}x${height}: row_step ${rowStep}, point_step ${pointStep} and ${cloud.data.length} data bytes do not hold it`);
  }
  const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
  const little = !cloud.is_bigendian;
  const points = new Float32Array(width * height * 3);
  let k = 0;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const at = row * rowStep + col * pointStep;
      points[k++] = view.getFloat32(at + offsets[0], little);
      points[k++] = view.getFloat32(at + offsets[1], little);
      points[k++] = view.getFloat32(at + offsets[2], little);
    }
  }
  return points;
}
