// Procedural surface textures: a material maps surface coordinates (s, t) in metres to an albedo.
// Pure functions of (material, s, t) with integer hashing, so they are identical on every run and
// machine, and allocate nothing per pixel.

export type TextureKind = "plain" | "checker" | "stripes" | "noise" | "wood";

export type Rgb01 = readonly [number, number, number];

export interface Material {
  readonly texture: TextureKind;
  /** Albedo (0..1 per channel) at mix factor 0 ... */
  readonly a: Rgb01;
  /** ... and at mix factor 1. */
  readonly b: Rgb01;
  /** Metres per tile / stripe period / noise feature / plank width. */
  readonly scale: number;
  /** Rotation of the pattern in the surface plane (radians). */
  readonly angle: number;
  /** 32-bit seed of the noise. */
  readonly seed: number;
}

/** Integer hash of a lattice point to [0, 1). */
export function hash2(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1). */
export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  let fx = x - ix;
  let fy = y - iy;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  const a = hash2(ix, iy, seed);
  const b = hash2(ix + 1, iy, seed);
  const c = hash2(ix, iy + 1, seed);
  const d = hash2(ix + 1, iy + 1, seed);
  const top = a + (b - a) * fx;
  const bottom = c + (d - c) * fx;
  return top + (bottom - top) * fy;
}

/** Three octaves of value noise, in [0, 1). */
export function fbm(x: number, y: number, seed: number): number {
  return (
    (4 * valueNoise(x, y, seed) + 2 * valueNoise(2.03 * x, 2.03 * y, seed ^ 0x5bd1e995) + valueNoise(4.1 * x, 4.1 * y, seed ^ 0x1b873593)) /
    7
  );
}

/** Mix factor in [0, 1] of `m` at surface coordinates (s, t) in metres. */
export function textureMix(m: Material, s: number, t: number): number {
  const c = Math.cos(m.angle) / m.scale;
  const sn = Math.sin(m.angle) / m.scale;
  return patternMix(m, c * s + sn * t, c * t - sn * s);
}

/** Mix factor in [0, 1] of `m` at pattern coordinates (u, v): (s, t) rotated by angle, over scale. */
export function patternMix(m: Material, u: number, v: number): number {
  switch (m.texture) {    case "plain":
      return 0.35 * fbm(u * 3, v * 3, m.seed);
    case "checker": {
      const cell = (Math.floor(u) + Math.floor(v)) & 1;
      // Thin grout lines between the tiles, and a little noise inside them.
      const fu = u - Math.floor(u);
      const fv = v - Math.floor(v);
      if (fu < 0.03 || fv < 0.03) return 0.5;
      return cell * 0.85 + 0.15 * valueNoise(u * 7, v * 7, m.seed);
    }
    case "stripes": {
      const f = u - Math.floor(u);
      return (f < 0.5 ? 0 : 0.9) + 0.1 * valueNoise(u * 5, v * 5, m.seed);
    }
    case "noise":
      return fbm(u, v, m.seed);
    case "wood": {
      // Planks of width `scale` along u; grain rings along each plank; dark seams between them.
      const plank = Math.floor(v);
      const fv = v - plank;
      if (fv < 0.04) return 1;
      const offset = hash2(plank, 7, m.seed);
      const grain = fbm(u * 0.6 + offset * 13, v * 9, m.seed) * 5 + fv * 2;
      const ring = grain - Math.floor(grain);
      return 0.25 * offset + 0.55 * ring * ring;
    }
  }
}
