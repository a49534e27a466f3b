// The two-pass point cloud depthseg built before backProjectCloud (src/geometry/backproject.ts)
// fused it: back-projection into an xyz array, grid sampling of rgb and labels, then
// packPointCloud. Kept verbatim as the reference the one-pass kernel must equal bit for bit.

import type { PinholeIntrinsics } from "../../src/frame.js";
import { backProjectCloud, type BackProjectOptions } from "../../src/geometry/backproject.js";
import { decimatedSize } from "../../src/geometry/intrinsics.js";
import { packPointCloud, type PackedPointCloud } from "../../src/geometry/pointcloud2.js";

export interface OrganisedPoints {
  readonly width: number;
  readonly height: number;
  /** x, y, z per point, row-major over the (decimated) grid; invalid points are NaN, NaN, NaN. */
  readonly xyz: Float32Array;
}

/**
 * Back-projects `depth` (metres along z, row-major intr.width x intr.height, NaN = invalid):
 * x = (u − cx)·z/fx, y = (v − cy)·z/fy. Depths that are non-finite or outside
 * [minRange, maxRange] give an all-NaN point, so the cloud stays organised.
 * `out` (length 3·gridWidth·gridHeight) is reused when given.
 */
export function backProjectXyz(
  depth: Float32Array,
  intr: PinholeIntrinsics,
  opts: BackProjectOptions,
  out?: Float32Array,
): OrganisedPoints {
  const { width, height, fx, fy, cx, cy } = intr;
  if (depth.length !== width * height) {
    throw new RangeError(`backProjectXyz: depth has ${depth.length} values, intrinsics say ${width}x${height}`);
  }
  const { minRange, maxRange, decimation: n } = opts;
  if (!(minRange >= 0 && maxRange > minRange)) {
    throw new RangeError(`backProjectXyz: need 0 <= minRange < maxRange, got [${minRange}, ${maxRange}]`);
  }
  const grid = decimatedSize(width, height, n);
  const count = grid.width * grid.height;
  const xyz = out ?? new Float32Array(count * 3);
  if (xyz.length !== count * 3) {
    throw new RangeError(`backProjectXyz: out has ${xyz.length} floats, need ${count * 3}`);
  }

  // (u − cx)/fx depends only on the column: compute it once per grid column, not per pixel.
  const colFactor = new Float64Array(grid.width);
  for (let j = 0; j < grid.width; j++) colFactor[j] = (j * n - cx) / fx;

  let o = 0;
  for (let i = 0; i < grid.height; i++) {
    const v = i * n;
    const rowFactor = (v - cy) / fy;
    let p = v * width;
    for (let j = 0; j < grid.width; j++, p += n, o += 3) {
      const z = depth[p]!;
      // Written so NaN fails the range test; +Inf needs its own test when maxRange is Infinity.
      if (z >= minRange && z <= maxRange && z !== Infinity) {
        xyz[o] = colFactor[j]! * z;
        xyz[o + 1] = rowFactor * z;
        xyz[o + 2] = z;
      } else {
        xyz[o] = NaN;
        xyz[o + 1] = NaN;
        xyz[o + 2] = NaN;
      }
    }
  }
  return { width: grid.width, height: grid.height, xyz };
}

type GridArray = Uint8Array | Uint16Array | Float32Array;

/**
 * Keeps every factor-th pixel (starting at 0) of an interleaved image with `channels` values per
 * pixel: the same grid as backProject with that decimation. Factor 1 returns `src` itself, no copy.
 * `dst` (same type, gridWidth·gridHeight·channels values) is reused when given.
 */
export function sampleGrid<T extends GridArray>(
  src: T,
  width: number,
  height: number,
  channels: number,
  factor: number,
  dst?: T,
): T {
  if (src.length !== width * height * channels) {
    throw new RangeError(`sampleGrid: ${src.length} values is not ${width}x${height}x${channels}`);
  }
  if (factor === 1) return src;
  const grid = decimatedSize(width, height, factor);
  const ctor = src.constructor as new (length: number) => T;
  const length = grid.width * grid.height * channels;
  const out = dst ?? new ctor(length);
  if (out.length !== length) throw new RangeError(`sampleGrid: out has ${out.length} values, need ${length}`);
  const step = factor * channels;
  let o = 0;
  for (let v = 0; v < height; v += factor) {
    const rowStart = v * width * channels;
    const rowEnd = rowStart + width * channels;
    for (let p = rowStart; p < rowEnd; p += step) {
      for (let c = 0; c < channels; c++) out[o++] = src[p + c]!;
    }
  }
  return out;
}

/** The RGB image on the point grid (3 bytes per point). */
export function sampleRgbGrid(rgb: Uint8Array, width: number, height: number, factor: number): Uint8Array {
  return sampleGrid(rgb, width, height, 3, factor);
}

/** The label map on the point grid. */
export function sampleLabelGrid(labels: Uint16Array, width: number, height: number, factor: number): Uint16Array {
  return sampleGrid(labels, width, height, 1, factor);
}

/** The cloud as the two passes built it: backProjectXyz, sampleGrid of rgb and labels, packPointCloud. */
export function twoPassPointCloud(
  depth: Float32Array,
  intr: PinholeIntrinsics,
  opts: BackProjectOptions,
  rgb: Uint8Array | undefined,
  labels: Uint16Array | undefined,
  unlabelled: number,
): PackedPointCloud {
  const points = backProjectXyz(depth, intr, opts);
  const gridRgb = rgb ? sampleGrid(rgb, intr.width, intr.height, 3, opts.decimation) : undefined;
  const gridLabels = labels ? sampleGrid(labels, intr.width, intr.height, 1, opts.decimation) : undefined;
  return packPointCloud(points.xyz, points.width, points.height, gridRgb, gridLabels, unlabelled);
}

/** x y z of every point of a packed cloud (POINT_FIELDS offsets 0, 4, 8), 3 floats a point. */
export function cloudXyz(cloud: PackedPointCloud): Float32Array {
  const count = cloud.width * cloud.height;
  const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
  const xyz = new Float32Array(3 * count);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) xyz[3 * i + c] = view.getFloat32(i * cloud.pointStep + 4 * c, true);
  }
  return xyz;
}

/** backProjectCloud (the kernel the pipeline runs) without colour or labels, read back as x y z. */
export function backProjectToXyz(depth: Float32Array, intr: PinholeIntrinsics, opts: BackProjectOptions): OrganisedPoints {
  const cloud = backProjectCloud(depth, intr, opts, { rgb: undefined, labels: undefined, unlabelled: 0 });
  return { width: cloud.width, height: cloud.height, xyz: cloudXyz(cloud) };
}
