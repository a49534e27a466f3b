// Flying pixels: monocular depth models (and depth cameras) smear depth across an occlusion
// edge, so the pixels on the edge get depths between the foreground and the background and
// back-project into a curtain of points in free space. A pixel is taken as flying when, along
// one of the four axes through it (horizontal, vertical, two diagonals), it disagrees with both
// neighbours by more than `threshold` of its own depth (a true edge pixel agrees with the
// neighbour on its own surface and is kept) and the step it sits in is an edge, not a slope: each
// neighbour agrees with the next pixel out on its side to within a quarter of the step. A floor
// seen at a grazing angle changes depth as fast from row to row, but evenly, and is kept.

/**
 * Returns `depth` with flying pixels set to NaN (in `out`, which may not be `depth` itself: the
 * test reads the unfiltered neighbours). NaN neighbours never make a pixel flying.
 * `threshold` is relative (0.1 = 10 % of the pixel's depth); it must be > 0.
 */
export function removeFlyingPixels(depth: Float32Array, width: number, height: number, threshold: number, out?: Float32Array): Float32Array {
  if (depth.length !== width * height) throw new RangeError(`removeFlyingPixels: ${depth.length} depths for ${width}x${height}`);
  if (!(threshold > 0 && Number.isFinite(threshold))) throw new RangeError(`removeFlyingPixels: threshold must be finite and > 0, got ${threshold}`);
  const dst = out ?? new Float32Array(depth.length);
  if (dst === depth) throw new RangeError("removeFlyingPixels: out must not be the input");
  if (dst.length !== depth.length) throw new RangeError(`removeFlyingPixels: out has ${dst.length} values, depth has ${depth.length}`);
  dst.set(depth);
  // Neighbour offsets (du, dv) of the four axes; the opposite neighbour is (-du, -dv).
  const axes = [1, 0, 0, 1, 1, 1, 1, -1];
  for (let v = 2; v < height - 2; v++) {
    for (let u = 2; u < width - 2; u++) {
      const i = v * width + u;
      const z = depth[i]!;
      if (!(z > 0)) continue;
      const limit = threshold * z;
      for (let a = 0; a < 8; a += 2) {
        const d = axes[a + 1]! * width + axes[a]!;
        const za = depth[i + d]!;
        const zb = depth[i - d]!;
        // `>` is false for NaN: a missing neighbour is no evidence.
        if (!(Math.abs(z - za) > limit && Math.abs(z - zb) > limit)) continue;
        const side = Math.abs(za - zb) / 4;
        // `<` is false for NaN too: without the next pixel out, the step is not shown to be an edge.
        if (Math.abs(za - depth[i + 2 * d]!) < side && Math.abs(zb - depth[i - 2 * d]!) < side) {
          dst[i] = NaN;
          break;
        }
      }
    }
  }
  return dst;
}
