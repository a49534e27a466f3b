// Byte layout of the organised sensor_msgs/PointCloud2 we publish (backProjectCloud in
// backproject.ts writes it), and the two-pass packer for callers that already hold x y z.

/** sensor_msgs/PointField datatypes used here. */
export const POINT_FIELD_UINT32 = 6;
export const POINT_FIELD_FLOAT32 = 7;

export interface PointFieldLayout {
  readonly name: string;
  readonly offset: number;
  readonly datatype: number;
  readonly count: number;
}

/**
 * x y z (float32), rgb (float32 whose bits are 0x00RRGGBB, as PCL/rviz read it), label (uint32):
 * 4-byte fields packed without padding, 20 bytes a point.
 *
 * Why this layout: PCL's label point types hold `std::uint32_t label` (PointXYZL, PointXYZRGBL,
 * PointCloudLibrary/pcl common/include/pcl/impl/point_types.hpp), and pcl::fromROSMsg
 * (pcl_conversions → pcl::fromPCLPointCloud2, common/include/pcl/conversions.h) copies a field
 * only when pcl::FieldMatches (common/include/pcl/PCLPointField.h) finds the same name, datatype
 * and count; a uint16 label matched nothing and was left 0 (PCL 1.15 casts it instead, with a
 * warning). `rgb` float32 matches PointXYZRGB's rgb and, by the rgb/rgba specialisation of
 * FieldMatches, PointXYZRGBL's uint32 rgba. The copy goes field by field from each field's own
 * offset, so PCL's padded 32-byte struct need not be mirrored: this is the packed layout PCL itself
 * writes to PCD files for PointXYZRGBL (PCD has no offsets; fields follow each other), and rviz,
 * sensor_msgs_py's read_points (numpy, Open3D) read fields by offset and datatype too. Packed,
 * a cloud is 20 bytes a point instead of 32: 6.1 MB instead of 9.8 MB at 640x480.
 */
export const POINT_FIELDS: readonly PointFieldLayout[] = Object.freeze([
  { name: "x", offset: 0, datatype: POINT_FIELD_FLOAT32, count: 1 },
  { name: "y", offset: 4, datatype: POINT_FIELD_FLOAT32, count: 1 },
  { name: "z", offset: 8, datatype: POINT_FIELD_FLOAT32, count: 1 },
  { name: "rgb", offset: 12, datatype: POINT_FIELD_FLOAT32, count: 1 },
  { name: "label", offset: 16, datatype: POINT_FIELD_UINT32, count: 1 },
]);
export const POINT_STEP = 20;

export interface PackedPointCloud {
  readonly fields: readonly PointFieldLayout[];
  readonly pointStep: number;
  readonly rowStep: number;
  readonly width: number;
  readonly height: number;
  /** Little-endian point records, pointStep bytes each, row-major. */
  readonly data: Uint8Array;
  readonly isBigendian: false;
  /** Organised clouds keep NaN points in place. */
  readonly isDense: false;
}

// Typed-array views write in host byte order; the layout promises little-endian. Every platform
// Node 20 ships for (x86-64, arm64) is little-endian, so check once rather than per point.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Packs organised points into PointCloud2 bytes in one pass. `rgb` (3 bytes per point) and
 * `labels` must be on the same grid as `xyz`; a missing `rgb` gives black (rgb bits 0) and a
 * missing `labels` gives `unlabelled` everywhere, so the field layout never changes.
 * `out` (width·height·POINT_STEP bytes, 4-byte aligned) is reused when given; every byte of it is
 * written.
 */
export function packPointCloud(
  xyz: Float32Array,
  width: number,
  height: number,
  rgb: Uint8Array | undefined,
  labels: Uint16Array | undefined,
  unlabelled: number,
  out?: Uint8Array,
): PackedPointCloud {
  if (!HOST_LITTLE_ENDIAN) throw new Error("packPointCloud: big-endian hosts are not supported");
  const count = width * height;
  if (xyz.length !== count * 3) throw new RangeError(`packPointCloud: xyz has ${xyz.length} floats, need ${count * 3}`);
  if (rgb && rgb.length !== count * 3) throw new RangeError(`packPointCloud: rgb has ${rgb.length} bytes, need ${count * 3}`);
  if (labels && labels.length !== count) throw new RangeError(`packPointCloud: labels has ${labels.length}, need ${count}`);
  if (!(Number.isInteger(unlabelled) && unlabelled >= 0 && unlabelled <= 0xffff)) {
    throw new RangeError(`packPointCloud: unlabelled must be a uint16, got ${unlabelled}`);
  }

  const bytes = out ?? new Uint8Array(count * POINT_STEP);
  if (bytes.length !== count * POINT_STEP) {
    throw new RangeError(`packPointCloud: out has ${bytes.length} bytes, need ${count * POINT_STEP}`);
  }
  if (bytes.byteOffset % 4 !== 0) throw new RangeError("packPointCloud: out must start at a multiple of 4 bytes");
  // Two aligned views of one buffer: a point is 5 words (x y z rgb label).
  const f32 = new Float32Array(bytes.buffer, bytes.byteOffset, count * 5);
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, count * 5);
  for (let i = 0, s = 0, w = 0; i < count; i++, s += 3, w += 5) {
    f32[w] = xyz[s]!;
    f32[w + 1] = xyz[s + 1]!;
    f32[w + 2] = xyz[s + 2]!;
    // Written as integer bits: the value is a float32 denormal and must not pass through a float.
    u32[w + 3] = rgb ? (rgb[s]! << 16) | (rgb[s + 1]! << 8) | rgb[s + 2]! : 0;
    // Label ids are uint16 (the label image's range); the field is uint32, as PCL's.
    u32[w + 4] = labels ? labels[i]! : unlabelled;
  }
  return {
    fields: POINT_FIELDS,
    pointStep: POINT_STEP,
    rowStep: POINT_STEP * width,
    width,
    height,
    data: bytes,
    isBigendian: false,
    isDense: false,
  };
}
