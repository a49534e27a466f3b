// Emit side: typed arrays -> ROS messages. Pure. Pixel buffers are wrapped as byte views
// whenever their memory already has the wire layout (little-endian host), not copied.

import type { DepthKind, Stamp, StageName, StageTimings } from "../frame.js";
import {
  DiagnosticLevel,
  PointFieldType,
  type DiagnosticArray,
  type Header,
  type Image,
  type LabelInfo,
  type PerceptionStatus,
  type PointCloud2,
} from "./types.js";

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Largest label value of each label encoding; it means "unlabelled" (vision_msgs convention). */
export const UNLABELLED_MONO8 = 255;
export const UNLABELLED_16UC1 = 65535;

export function header(stamp: Stamp, frameId: string): Header {
  return { stamp: { sec: stamp.sec, nanosec: stamp.nanosec }, frame_id: frameId };
}

/** 32FC1 depth in metres, little-endian, step = width*4; NaN (invalid) is kept as is. */
export function depthImage(hdr: Header, depth: Float32Array, width: number, height: number): Image {
  requirePixels("depth", depth.length, width, height, 1);
  let data: Uint8Array;
  if (HOST_LITTLE_ENDIAN) {
    data = new Uint8Array(depth.buffer, depth.byteOffset, depth.byteLength);
  } else {
    data = new Uint8Array(depth.length * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < depth.length; i++) view.setFloat32(i * 4, depth[i]!, true);
  }
  return image(hdr, "32FC1", width, height, width * 4, data);
}

/** rgb8, step = width*3; `rgb` is used as the data without copying. */
export function rgbImage(hdr: Header, rgb: Uint8Array, width: number, height: number): Image {
  requirePixels("rgb", rgb.length, width, height, 3);
  return image(hdr, "rgb8", width, height, width * 3, rgb);
}

/**
 * Class-id image. Rule: with classCount <= 255 the ids 0..254 fit a byte and the image is
 * mono8 with 255 = unlabelled; otherwise it is 16UC1 (little-endian) with 65535 = unlabelled.
 * Any input value >= classCount is written as the unlabelled value. Max classCount 65535.
 * A mono8 image's bytes go into `out` when it has the right length (a reused buffer), else new.
 */
export function labelImage(
  hdr: Header,
  labels: Uint16Array,
  width: number,
  height: number,
  classCount: number,
  out?: Uint8Array,
): Image {
  requirePixels("labels", labels.length, width, height, 1);
  if (!Number.isInteger(classCount) || classCount < 0 || classCount > UNLABELLED_16UC1) {
    throw new RangeError(`classCount must be an integer in 0..${UNLABELLED_16UC1}, got ${classCount}`);
  }
  if (classCount <= UNLABELLED_MONO8) {
    const data = out?.length === labels.length ? out : new Uint8Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i]!;
      data[i] = v < classCount ? v : UNLABELLED_MONO8;
    }
    return image(hdr, "mono8", width, height, width, data);
  }
  return image(hdr, "16UC1", width, height, width * 2, labels16Bytes(labels, classCount));
}

function labels16Bytes(labels: Uint16Array, classCount: number): Uint8Array {
  let clean = HOST_LITTLE_ENDIAN;
  for (let i = 0; clean && i < labels.length; i++) {
    const v = labels[i]!;
    if (v >= classCount && v !== UNLABELLED_16UC1) clean = false;
  }
  if (clean) return new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength);
  const data = new Uint8Array(labels.length * 2);
  const view = new DataView(data.buffer);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    view.setUint16(i * 2, v < classCount ? v : UNLABELLED_16UC1, true);
  }
  return data;
}

export interface PointFieldLayout {
  readonly name: string;
  readonly offset: number;
  /** sensor_msgs/PointField datatype (PointFieldType). */
  readonly datatype: number;
  readonly count: number;
}

export interface PointCloudLayout {
  readonly width: number;
  readonly height: number;
  readonly pointStep: number;
  readonly rowStep: number;
  readonly fields: readonly PointFieldLayout[];
  readonly data: Uint8Array;
  readonly isDense: boolean;
}

const DATATYPE_BYTES: ReadonlyMap<number, number> = new Map([
  [PointFieldType.INT8, 1],
  [PointFieldType.UINT8, 1],
  [PointFieldType.INT16, 2],
  [PointFieldType.UINT16, 2],
  [PointFieldType.INT32, 4],
  [PointFieldType.UINT32, 4],
  [PointFieldType.FLOAT32, 4],
  [PointFieldType.FLOAT64, 8],
]);

/** PointCloud2 from an already packed little-endian buffer; checks the layout is consistent. */
export function pointCloud2(hdr: Header, layout: PointCloudLayout): PointCloud2 {
  const { width, height, pointStep, rowStep, data } = layout;
  if (rowStep < width * pointStep) {
    throw new RangeError(`row_step ${rowStep} < width ${width} * point_step ${pointStep}`);
  }
  if (data.length !== rowStep * height) {
    throw new RangeError(`data length ${data.length} != row_step ${rowStep} * height ${height}`);
  }
  for (const field of layout.fields) {
    const size = DATATYPE_BYTES.get(field.datatype);
    if (size === undefined) throw new RangeError(`field ${field.name}: unknown datatype ${field.datatype}`);
    if (field.offset + size * field.count > pointStep) {
      throw new RangeError(`field ${field.name} (offset ${field.offset}) does not fit point_step ${pointStep}`);
    }
  }
  return {
    header: hdr,
    height,
    width,
    fields: layout.fields.map((f) => ({ name: f.name, offset: f.offset, datatype: f.datatype, count: f.count })),
    is_bigendian: false,
    point_step: pointStep,
    row_step: rowStep,
    data,
    is_dense: layout.isDense,
  };
}

export interface LabelClass {
  readonly id: number;
  readonly name: string;
}

export function labelInfo(hdr: Header, classes: readonly LabelClass[], threshold: number): LabelInfo {
  for (const c of classes) {
    if (!Number.isInteger(c.id) || c.id < 0 || c.id > UNLABELLED_16UC1) {
      throw new RangeError(`class "${c.name}": id ${c.id} is not a uint16`);
    }
  }
  return {
    header: hdr,
    class_map: classes.map((c) => ({ class_id: c.id, class_name: c.name })),
    threshold,
  };
}

export interface PerceptionStatusInput {
  readonly camera: string;
  readonly model: string;
  /** The bundle's `trained_on`; empty when it does not say. */
  readonly trainedOn: string;
  readonly executionProvider: string;
  readonly depthKind: DepthKind;
  readonly depthIsMetric: boolean;
  /** Empty when the bundle has a single depth head. */
  readonly depthHead: string;
  readonly depthScale: number;
  readonly depthShift: number;
  /** Share of the model's depth output that is finite and > 0. */
  readonly depthValidFraction: number;
  /** Scale recovery of a relative model; absent: fixed (no anchors, no estimate). */
  readonly scale?: {
    readonly source: string;
    readonly anchors: number;
    readonly inliers: number;
    readonly residual: number;
    readonly ageSec: number;
  };
  /** Milliseconds per stage; a stage that did not run is published as NaN. */
  readonly timings: StageTimings;
  readonly totalMs: number;
  readonly framesProcessed: number | bigint;
  readonly framesDropped: number | bigint;
  readonly framesFailed: number | bigint;
}

export function perceptionStatus(hdr: Header, s: PerceptionStatusInput): PerceptionStatus {
  const ms = (stage: StageName): number => s.timings[stage] ?? Number.NaN;
  return {
    header: hdr,
    camera: s.camera,
    model: s.model,
    trained_on: s.trainedOn,
    execution_provider: s.executionProvider,
    depth_kind: s.depthKind,
    depth_is_metric: s.depthIsMetric,
    depth_head: s.depthHead,
    depth_scale: s.depthScale,
    depth_shift: s.depthShift,
    depth_valid_fraction: s.depthValidFraction,
    scale_source: s.scale?.source ?? "fixed",
    scale_anchors: s.scale?.anchors ?? 0,
    scale_inliers: s.scale?.inliers ?? 0,
    scale_residual: s.scale?.residual ?? Number.NaN,
    scale_age: s.scale?.ageSec ?? Number.NaN,
    latency_decode_ms: ms("decode"),
    latency_preprocess_ms: ms("preprocess"),
    latency_inference_ms: ms("inference"),
    latency_postprocess_ms: ms("postprocess"),
    latency_backproject_ms: ms("backproject"),
    latency_encode_ms: ms("encode"),
    latency_total_ms: s.totalMs,
    frames_processed: BigInt(s.framesProcessed),
    frames_dropped: BigInt(s.framesDropped),
    frames_failed: BigInt(s.framesFailed),
  };
}

export type DiagnosticLevelName = "ok" | "warn" | "error" | "stale";

export interface DiagnosticInput {
  readonly level: DiagnosticLevelName;
  readonly name: string;
  readonly message: string;
  readonly hardwareId?: string;
  /** Shown as key/value pairs, in insertion order; values are stringified. */
  readonly values?: Readonly<Record<string, string | number | boolean | bigint>>;
}

const LEVELS: Readonly<Record<DiagnosticLevelName, number>> = {
  ok: DiagnosticLevel.OK,
  warn: DiagnosticLevel.WARN,
  error: DiagnosticLevel.ERROR,
  stale: DiagnosticLevel.STALE,
};

export function diagnosticArray(hdr: Header, statuses: readonly DiagnosticInput[]): DiagnosticArray {
  return {
    header: hdr,
    status: statuses.map((s) => ({
      level: LEVELS[s.level],
      name: s.name,
      message: s.message,
      hardware_id: s.hardwareId ?? "",
      values: Object.entries(s.values ?? {}).map(([key, value]) => ({ key, value: String(value) })),
    })),
  };
}

function image(hdr: Header, encoding: string, width: number, height: number, step: number, data: Uint8Array): Image {
  return { header: hdr, height, width, encoding, is_bigendian: 0, step, data };
}

function requirePixels(what: string, length: number, width: number, height: number, channels: number): void {
  if (length !== width * height * channels) {
    throw new RangeError(`${what} has ${length} values, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
}
