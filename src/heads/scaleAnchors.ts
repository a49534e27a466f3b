// Metric anchors for scale recovery (scaleRecovery.ts), at the depth output's resolution: which
// output pixels a second source measured, and how many metres along the optical axis. Pure
// kernels; the messages (depth images, PointCloud2, TF) are turned into their inputs at the edges.
//
// The depth output (outW × outH) covers the camera image exactly (it is resized to camera size
// by a plain stretch), so output pixel x spans camera u ∈ [x·W/outW, (x+1)·W/outW).

import type { PinholeIntrinsics } from "../frame.js";
import type { GroundPlane } from "../geometry/groundPlane.js";
export type { AnchorMeasurement } from "../frame.js";

/** Anchors at output pixels (row-major index into outW × outH) with their metres. */
export interface DepthAnchors {
  readonly pixels: Uint32Array;
  readonly depth: Float32Array;
}

/**
 * At most this many anchors go to the fit (RANSAC costs iterations × anchors): a dense depth
 * image is thinned evenly, which changes the fit very little and bounds its time.
 */
export const MAX_ANCHORS = 4096;

/** Keeps every k-th entry of a sparse output-resolution depth map so at most `max` remain. */
function compact(map: Float32Array, max: number): DepthAnchors {
  let count = 0;
  for (let i = 0; i < map.length; i++) if (map[i]! > 0) count++;
  const stride = Math.max(1, Math.ceil(count / max));
  const kept = Math.ceil(count / stride);
  const pixels = new Uint32Array(kept);
  const depth = new Float32Array(kept);
  let seen = 0;
  let k = 0;
  for (let i = 0; i < map.length && k < kept; i++) {
    if (!(map[i]! > 0)) continue;
    if (seen++ % stride === 0) {
      pixels[k] = i;
      depth[k++] = map[i]!;
    }
  }
  return { pixels: k === kept ? pixels : pixels.subarray(0, k), depth: k === kept ? depth : depth.subarray(0, k) };
}

/** A registered depth image sampled at each output pixel's centre (nearest pixel; holes skipped). */
export function anchorsFromDepthImage(
  depth: Float32Array,
  width: number,
  height: number,
  outW: number,
  outH: number,
  max = MAX_ANCHORS,
): DepthAnchors {
  if (depth.length !== width * height) throw new RangeError(`anchorsFromDepthImage: ${depth.length} values for ${width}x${height}`);
  const map = new Float32Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const v = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH));
    for (let x = 0; x < outW; x++) {
      const u = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW));
      const z = depth[v * width + u]!;
      map[y * outW + x] = z > 0 && z < Infinity ? z : 0;
    }
  }
  return compact(map, max);
}

/**
 * Points (camera optical frame) projected with the camera's intrinsics; where several fall in
 * one output pixel the nearest is kept (the others are behind it, hidden from the camera).
 */
export function anchorsFromPoints(
  points: Float32Array,
  intrinsics: PinholeIntrinsics,
  outW: number,
  outH: number,
  max = MAX_ANCHORS,
): DepthAnchors {
  const { fx, fy, cx, cy, width, height } = intrinsics;
  const map = new Float32Array(outW * outH);
  const sx = outW / width;
  const sy = outH / height;
  for (let i = 0; i + 2 < points.length; i += 3) {
    const z = points[i + 2]!;
    if (!(z > 0 && z < Infinity)) continue;
    // Pixel centres are at integer u, so the pixel's area starts half a pixel before.
    const u = (fx * points[i]!) / z + cx + 0.5;
    const v = (fy * points[i + 1]!) / z + cy + 0.5;
    if (!(u >= 0 && u < width && v >= 0 && v < height)) continue;
    const k = Math.floor(v * sy) * outW + Math.floor(u * sx);
    const current = map[k]!;
    if (current === 0 || z < current) map[k] = z;
  }
  return compact(map, max);
}

/**
 * Floor pixels as rays meeting the plane: depth z = height / (down · r) for the ray
 * r = ((u−cx)/fx, (v−cy)/fy, 1) through the output pixel's centre. Rays nearly parallel to the
 * floor (within `minGrazing` of the horizon, as a sine) are left out: there a pixel spans metres.
 * `isFloor(index)` says which output pixels are floor.
 */
export function anchorsFromGroundPlane(
  plane: GroundPlane,
  intrinsics: PinholeIntrinsics,
  outW: number,
  outH: number,
  isFloor: (index: number) => boolean,
  max = MAX_ANCHORS,
  minGrazing = MIN_GRAZING,
): DepthAnchors {
  return compact(floorDepthMap(plane, intrinsics, outW, outH, isFloor, minGrazing), max);
}

/** Rays within this sine of the horizon are not intersected with the floor (a pixel there spans metres). */
const MIN_GRAZING = 0.03;

function floorDepthMap(
  plane: GroundPlane,
  intrinsics: PinholeIntrinsics,
  outW: number,
  outH: number,
  isFloor: (index: number) => boolean,
  minGrazing: number,
): Float32Array {
  const { fx, fy, cx, cy, width, height } = intrinsics;
  const [nx, ny, nz] = plane.down;
  const map = new Float32Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const v = ((y + 0.5) * height) / outH - 0.5;
    const ry = (v - cy) / fy;
    for (let x = 0; x < outW; x++) {
      const k = y * outW + x;
      if (!isFloor(k)) continue;
      const u = ((x + 0.5) * width) / outW - 0.5;
      const rx = (u - cx) / fx;
      const along = nx * rx + ny * ry + nz;
      // along / |r| is the sine of the ray's angle below the horizon.
      if (along <= minGrazing * Math.hypot(rx, ry, 1)) continue;
      map[k] = plane.height / along;
    }
  }
  return map;
}

/** Class ids at output resolution, for the ground-plane anchors: which are floor, which stand upright on it. */
export interface GroundClasses {
  /** Label ids, outW × outH (labelsAtOutput). */
  readonly labels: Uint16Array;
  readonly floorIds: ReadonlySet<number>;
  /** Classes whose surfaces stand vertically on the floor (walls, cabinets, pillars); may be empty. */
  readonly uprightIds: ReadonlySet<number>;
}

/**
 * Floor pixels (as anchorsFromGroundPlane) and the upright surfaces standing on them. A vertical
 * surface that meets the floor contains the world vertical through each point of that contact,
 * so every pixel of the surface that images this vertical has its depth, exactly: the contact is
 * the top edge of a floor pixel whose upper neighbour is of an upright class, and the walk goes
 * up the vertical's image (a column for a level camera, slanted under roll or off-axis pitch)
 * while the class stays the same. An upright class seen from above (a cabinet's top) or a
 * surface that is not vertical gives wrong anchors, which the robust fit takes as outliers when
 * they are few; the classes are the user's to choose.
 */
export function anchorsFromFloorAndUprights(
  plane: GroundPlane,
  intrinsics: PinholeIntrinsics,
  outW: number,
  outH: number,
  classes: GroundClasses,
  max = MAX_ANCHORS,
  minGrazing = MIN_GRAZING,
): DepthAnchors {
  const { labels, floorIds, uprightIds } = classes;
  if (labels.length !== outW * outH) throw new RangeError(`anchorsFromFloorAndUprights: ${labels.length} labels for ${outW}x${outH}`);
  const map = floorDepthMap(plane, intrinsics, outW, outH, (k) => floorIds.has(labels[k]!), minGrazing);
  if (uprightIds.size === 0) return compact(map, max);
  const { fx, fy, cx, cy, width, height } = intrinsics;
  const [dx, dy, dz] = plane.down;
  const [ux, uy, uz] = [-dx, -dy, -dz];
  const rowRay = (edge: number) => (((edge * height) / outH - 0.5) - cy) / fy;
  for (let x = 0; x < outW; x++) {
    const rx = (((x + 0.5) * width) / outW - 0.5 - cx) / fx;
    for (let y = outH - 1; y >= 1; y--) {
      const upright = labels[(y - 1) * outW + x]!;
      if (!floorIds.has(labels[y * outW + x]!) || !uprightIds.has(upright)) continue;
      // The contact: where the ray through the floor pixel's top edge meets the floor.
      const ry = rowRay(y);
      const along = dx * rx + dy * ry + dz;
      if (along <= minGrazing * Math.hypot(rx, ry, 1)) continue;
      const s = plane.height / along;
      const [px, py, pz] = [s * rx, s * ry, s];
      // Up the vertical C + t·up: the point imaged on row yy solves (py + t·uy) = r·(pz + t·uz).
      for (let yy = y - 1; yy >= 0; yy--) {
        const r = rowRay(yy + 0.5);
        const denominator = uy - r * uz;
        if (denominator === 0) break;
        const t = (r * pz - py) / denominator;
        const z = pz + t * uz;
        if (!(t >= 0 && z > 0)) break;
        const u = (fx * (px + t * ux)) / z + cx;
        const xx = Math.floor(((u + 0.5) * outW) / width);
        if (xx < 0 || xx >= outW) break;
        const k = yy * outW + xx;
        if (labels[k] !== upright) break;
        if (!(map[k]! > 0)) map[k] = z;
      }
    }
  }
  return compact(map, max);
}

/** Label ids (camera resolution) sampled at each output pixel's centre. */
export function labelsAtOutput(labels: Uint16Array, width: number, height: number, outW: number, outH: number): Uint16Array {
  const out = new Uint16Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const v = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH));
    for (let x = 0; x < outW; x++) {
      const u = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW));
      out[y * outW + x] = labels[v * width + u]!;
    }
  }
  return out;
}

/** Rigid transform of xyz-interleaved points: p' = R(q)·p + t, q = [x, y, z, w] unit. */
export function transformPoints(
  points: Float32Array,
  rotation: readonly [number, number, number, number],
  translation: readonly [number, number, number],
  out = new Float32Array(points.length),
): Float32Array {
  const [qx, qy, qz, qw] = rotation;
  const r00 = 1 - 2 * (qy * qy + qz * qz), r01 = 2 * (qx * qy - qz * qw), r02 = 2 * (qx * qz + qy * qw);
  const r10 = 2 * (qx * qy + qz * qw), r11 = 1 - 2 * (qx * qx + qz * qz), r12 = 2 * (qy * qz - qx * qw);
  const r20 = 2 * (qx * qz - qy * qw), r21 = 2 * (qy * qz + qx * qw), r22 = 1 - 2 * (qx * qx + qy * qy);
  const [tx, ty, tz] = translation;
  for (let i = 0; i + 2 < points.length; i += 3) {
    const x = points[i]!, y = points[i + 1]!, z = points[i + 2]!;
    out[i] = r00 * x + r01 * y + r02 * z + tx;
    out[i + 1] = r10 * x + r11 * y + r12 * z + ty;
    out[i + 2] = r20 * x + r21 * y + r22 * z + tz;
  }
  return out;
}
