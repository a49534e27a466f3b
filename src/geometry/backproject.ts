// Depth image -> organised 3-D points in the camera's optical frame (REP 103: x right, y down,
// z forward), like depth_image_proc's point_cloud_xyz but on a typed array.

import type { PinholeIntrinsics } from "../frame.js";
import { decimatedSize } from "./intrinsics.js";

export interface BackProjectOptions {
  /** Keep every n-th pixel in u and v, starting at 0 (1 = every pixel). */
  readonly decimation: number;
  /** Depths below this (metres) become NaN points. */
  readonly minRange: number;
  /** Depths above this (metres) become NaN points; may be Infinity. */
  readonly maxRange: number;
}

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
export function backProject(
  depth: Float32Array,
  intr: PinholeIntrinsics,
  opts: BackProjectOptions,
  out?: Float32Array,
): OrganisedPoints {
  const { width, height, fx, fy, cx, cy } = intr;
  if (depth.length !== width * height) {
    throw new RangeError(`backProject: depth has ${depth.length} values, intrinsics say ${width}x${height}`);
  }
  const { minRange, maxRange, decimation: n } = opts;
  if (!(minRange >= 0 && maxRange > minRange)) {
    throw new RangeError(`backProject: need 0 <= minRange < maxRange, got [${minRange}, ${maxRange}]`);
  }
  const grid = decimatedSize(width, height, n);
  const count = grid.width * grid.height;
  const xyz = out ?? new Float32Array(count * 3);
  if (xyz.length !== count * 3) {
    throw new RangeError(`backProject: out has ${xyz.length} floats, need ${count * 3}`);
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
