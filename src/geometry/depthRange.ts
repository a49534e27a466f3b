// The published range limit: depth outside [min, max] becomes NaN (REP 118: NaN = invalid), in place,
// so the depth image and the point cloud always agree on which pixels are valid.

export function applyDepthRange(depth: Float32Array, min: number, max: number): Float32Array {
  if (min <= 0 && max === Infinity) return depth;
  for (let i = 0; i < depth.length; i++) {
    const z = depth[i]!;
    if (z < min || z > max) depth[i] = NaN;
  }
  return depth;
}
