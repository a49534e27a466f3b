// False-colour previews of depth and label maps (rgb8), one table lookup per pixel.

import { borrowMat, cv, keepAlive, matToUint8 } from "./opencv.js";

export type DepthColormap = "turbo" | "viridis" | "inferno" | "jet";

// cv::ColormapTypes values (imgproc.hpp). The binding only exports names up to PARULA, but
// applyColorMap passes the integer through, so the newer maps are reachable by value.
const COLORMAP_ID: Readonly<Record<DepthColormap, number>> = { jet: 2, inferno: 14, viridis: 16, turbo: 20 };

const luts = new Map<DepthColormap, Uint8Array>();

/**
 * The 256-entry RGB table (768 bytes) of a colour map, built once by running OpenCV's
 * applyColorMap on a 0..255 ramp; entry 0 is the map's cold/dark end, 255 its warm/bright end.
 */
export function colormapLut(map: DepthColormap): Uint8Array {
  const cached = luts.get(map);
  if (cached) return cached;
  const id = COLORMAP_ID[map];
  if (id === undefined) throw new RangeError(`unknown colour map ${String(map)}`);
  const ramp = new Uint8Array(256);
  for (let i = 0; i < 256; i++) ramp[i] = i;
  const bgr = matToUint8(cv().applyColorMap(borrowMat(ramp, 1, 256, cv().CV_8UC1, 1), id));
  keepAlive(ramp);
  const lut = new Uint8Array(768);
  for (let i = 0; i < 768; i += 3) {
    lut[i] = bgr[i + 2]!;
    lut[i + 1] = bgr[i + 1]!;
    lut[i + 2] = bgr[i]!;
  }
  luts.set(map, lut);
  return lut;
}

export interface ColorizeDepthOptions {
  /** Depth (metres) at the near end of the scale. */
  readonly min: number;
  /** Depth at the far end; farther depths get the far colour (saturate). */
  readonly max: number;
  readonly map: DepthColormap;
  /** Flip the scale so near is the map's cold/dark end. */
  readonly invert?: boolean;
}

/**
 * rgb8 preview of a depth image. By default near = the map's warm/bright end (turbo: red,
 * jet: red, viridis: yellow, inferno: pale yellow) and far = its cold/dark end, the usual
 * convention for depth; `invert` flips that. NaN, ±Inf and depths below `min` are black (0,0,0);
 * note inferno's far end is also nearly black.
 */
export function colorizeDepth(
  depth: Float32Array,
  width: number,
  height: number,
  opts: ColorizeDepthOptions,
  out?: Uint8Array,
): Uint8Array {
  const n = width * height;
  if (depth.length !== n) throw new RangeError(`colorizeDepth: ${depth.length} values is not ${width}x${height}`);
  const { min, max } = opts;
  if (!(Number.isFinite(min) && Number.isFinite(max) && max > min)) {
    throw new RangeError(`colorizeDepth: need finite min < max, got [${min}, ${max}]`);
  }
  const lut = colormapLut(opts.map);
  const dst = out ?? new Uint8Array(n * 3);
  if (dst.length !== n * 3) throw new RangeError(`colorizeDepth: out has ${dst.length} bytes, need ${n * 3}`);

  // index = a·d + b, rounded, clamped to [0, 255]: near→255 by default, near→0 when inverted.
  const k = 255 / (max - min);
  const a = opts.invert ? k : -k;
  const b = (opts.invert ? -min * k : max * k) + 0.5;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const d = depth[i]!;
    // `d >= min` is false for NaN and -Inf too.
    if (d >= min && d !== Infinity) {
      let t = a * d + b;
      t = t < 0 ? 0 : t > 255.5 ? 255.5 : t;
      const e = (t | 0) * 3;
      dst[o] = lut[e]!;
      dst[o + 1] = lut[e + 1]!;
      dst[o + 2] = lut[e + 2]!;
    } else {
      dst[o] = 0;
      dst[o + 1] = 0;
      dst[o + 2] = 0;
    }
  }
  return dst;
}

/**
 * rgb8 preview of a label map: class id c gets palette[3c..3c+2]; ids beyond the palette (such
 * as the unlabelled value) get `unlabelledColor`.
 */
export function colorizeLabels(
  labels: Uint16Array,
  palette: Uint8Array,
  unlabelledColor: readonly [number, number, number],
  out?: Uint8Array,
): Uint8Array {
  const n = labels.length;
  const dst = out ?? new Uint8Array(n * 3);
  if (dst.length !== n * 3) throw new RangeError(`colorizeLabels: out has ${dst.length} bytes, need ${n * 3}`);
  const classes = Math.floor(palette.length / 3);
  const [ur, ug, ub] = unlabelledColor;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const c = labels[i]!;
    if (c < classes) {
      const p = c * 3;
      dst[o] = palette[p]!;
      dst[o + 1] = palette[p + 1]!;
      dst[o + 2] = palette[p + 2]!;
    } else {
      dst[o] = ur;
      dst[o + 1] = ug;
      dst[o + 2] = ub;
    }
  }
  return dst;
}
