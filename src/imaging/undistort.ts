// Rectification of raw (distorted) camera images with their CameraInfo, as image_proc's rectify
// node does: the image a pinhole camera with intrinsics P[0:3,0:3] would see after rotating by R.
//
// Pure TypeScript, no OpenCV: the binding (@u4/opencv4nodejs 7.1) exposes neither
// cv.initUndistortRectifyMap nor cv.remap (only Mat.undistort, which has no R or P and always
// renders with K, so it cannot produce image_rect when P differs from K). The maps are the ones
// cv::initUndistortRectifyMap / cv::fisheye::initUndistortRectifyMap compute (float maps, pixel
// centres at integer coordinates), and sampling is cv::remap's with BORDER_CONSTANT 0.
// Maps are built once per calibration and cached.
// A binned or cropped (ROI) CameraInfo is rectified as image_geometry's PinholeCameraModel does:
// its initRectificationMaps builds the map at the binned full resolution with the binned K and P
// and crops it to the ROI / binning, subtracting the ROI offset from the map. That is the map of
// the reduced calibration (reducedCalibration: K and P shifted and binned) at the image's size,
// which is what is built here; the two agree exactly when the ROI offset is a multiple of the
// binning (image_geometry divides the offset as an integer for its map, but not for its K and P;
// this map follows its K and P).

import type { CameraCalibration, RgbImage } from "../frame.js";
import { FrameError } from "../errors.js";
import { checkCalibrationMatchesImage, reducedCalibration } from "../geometry/intrinsics.js";

export type RectifyInterpolation = "nearest" | "linear";

/** Distortion models that can be rectified, with the most coefficients each accepts. */
export const RECTIFIABLE_MODELS: Readonly<Record<string, number>> = {
  plumb_bob: 5, // k1 k2 p1 p2 k3
  rational_polynomial: 8, // k1 k2 p1 p2 k3 k4 k5 k6
  equidistant: 4, // k1 k2 k3 k4 (fisheye, theta polynomial)
};

/** True when any distortion coefficient is non-zero (image_geometry's "CALIBRATED" state). */
export function hasDistortion(cal: CameraCalibration): boolean {
  return cal.d.some((v) => v !== 0);
}

/** For each rectified pixel (u, v), the raw-image pixel it comes from; NaN where none does. */
export interface RectificationMap {
  readonly width: number;
  readonly height: number;
  readonly mapX: Float32Array;
  readonly mapY: Float32Array;
}

/**
 * cv::initUndistortRectifyMap(K, D, R, P[0:3,0:3], size, CV_32FC1) (cv::fisheye:: for
 * `equidistant`), in TypeScript. A rectified pixel (u, v) is the ray (P₃·R)⁻¹·[u v 1]ᵀ in the raw
 * camera frame; the distortion model bends it and K projects it into the raw image.
 * Differences from OpenCV, none of which matter for a calibrated camera: K's skew is applied
 * (OpenCV ignores it), rays behind the camera map to NaN for the polynomial models (OpenCV
 * projects them through the origin), and the fisheye angle is atan2(ρ, z), so lenses wider than
 * 180° map correctly. An all-zero R counts as identity and an all-zero P as K (drivers that never
 * calibrated leave them unset). Binning and ROI are applied first (reducedCalibration).
 */
export function undistortRectifyMap(calibration: CameraCalibration, imageWidth?: number, imageHeight?: number): RectificationMap {
  const cal = reducedCalibration(calibration);
  const width = imageWidth ?? cal.width;
  const height = imageHeight ?? cal.height;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new FrameError("invalid_camera_info", `cannot rectify: image size ${width}x${height} is unset or invalid`);
  }
  const model = parseModel(cal);
  const { fx, fy, skew, cx, cy } = rawIntrinsics(cal);
  const inv = rectifiedToRay(cal);
  const mapX = new Float32Array(width * height);
  const mapY = new Float32Array(width * height);
  const [k1, k2, p1, p2, k3, k4, k5, k6] = model.coefficients;
  const [e1, e2, e3, e4] = model.coefficients; // equidistant: k1..k4
  let i = 0;
  for (let v = 0; v < height; v++) {
    // Ray of (0, v), then step by the first column of inv per pixel (as OpenCV does).
    let X = inv[1]! * v + inv[2]!;
    let Y = inv[4]! * v + inv[5]!;
    let Z = inv[7]! * v + inv[8]!;
    for (let u = 0; u < width; u++, i++, X += inv[0]!, Y += inv[3]!, Z += inv[6]!) {
      let xd: number, yd: number;
      if (model.kind === "equidistant") {
        const rho = Math.sqrt(X * X + Y * Y);
        const theta = Math.atan2(rho, Z);
        const t2 = theta * theta;
        const thetaD = theta * (1 + t2 * (e1 + t2 * (e2 + t2 * (e3 + t2 * e4))));
        const s = rho > 0 ? thetaD / rho : 0;
        xd = X * s;
        yd = Y * s;
      } else {
        if (!(Z > 0)) {
          mapX[i] = NaN;
          mapY[i] = NaN;
          continue;
        }
        const x = X / Z;
        const y = Y / Z;
        const x2 = x * x;
        const y2 = y * y;
        const xy = x * y;
        const r2 = x2 + y2;
        const radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)));
        xd = x * radial + 2 * p1 * xy + p2 * (r2 + 2 * x2);
        yd = y * radial + p1 * (r2 + 2 * y2) + 2 * p2 * xy;
      }
      mapX[i] = fx * xd + skew * yd + cx;
      mapY[i] = fy * yd + cy;
    }
  }
  return { width, height, mapX, mapY };
}

/**
 * The rectified image (image_proc's image_rect) of a raw image with this calibration, at the
 * calibration's size (its ROI / binning for a binned or cropped CameraInfo). Pixels whose source lies outside the raw image are black (bilinear samples
 * straddling the edge count the missing neighbours as black, as cv::remap with BORDER_CONSTANT).
 * All-zero D returns `image` itself: there is nothing to undistort (image_geometry does the same
 * whatever R and P say). `out` (width·height·3 bytes) is written when given.
 * Throws FrameError for an unsupported distortion model or a degenerate calibration.
 */
export function rectifyRgb(
  image: RgbImage,
  calibration: CameraCalibration,
  interpolation: RectifyInterpolation = "linear",
  out?: Uint8Array,
): RgbImage {
  if (!hasDistortion(calibration)) return image;
  checkCalibrationMatchesImage(calibration, image.width, image.height);
  const { width, height } = image;
  const n = width * height;
  if (image.data.length !== n * 3) {
    throw new RangeError(`rectifyRgb: ${image.data.length} bytes is not ${width}x${height}x3`);
  }
  const dst = out ?? new Uint8Array(n * 3);
  if (dst.length !== n * 3) throw new RangeError(`rectifyRgb: out has ${dst.length} bytes, need ${n * 3}`);
  if (dst === image.data) throw new RangeError("rectifyRgb: out must not be the input image's data");
  const sampler = samplerFor(reducedCalibration(calibration), width, height);
  if (interpolation === "linear") sampleLinear(sampler, image.data, dst);
  else if (interpolation === "nearest") sampleNearest(sampler, image.data, dst);
  else throw new RangeError(`rectifyRgb: unknown interpolation ${String(interpolation)}`);
  return { width, height, data: dst };
}

// ---------------------------------------------------------------------------------------------
// Calibration parsing

interface Model {
  readonly kind: "polynomial" | "equidistant";
  /** polynomial: k1 k2 p1 p2 k3 k4 k5 k6; equidistant: k1 k2 k3 k4 (rest 0). */
  readonly coefficients: Coefficients;
}
type Coefficients = readonly [number, number, number, number, number, number, number, number];

function parseModel(cal: CameraCalibration): Model {
  const name = cal.distortionModel;
  const max = Object.hasOwn(RECTIFIABLE_MODELS, name) ? RECTIFIABLE_MODELS[name] : undefined;
  if (max === undefined) {
    throw new FrameError(
      "invalid_camera_info",
      `cannot rectify distortion model "${name}" (supported: ${Object.keys(RECTIFIABLE_MODELS).join(", ")})`,
    );
  }
  const d = cal.d;
  if (d.some((v, i) => i >= max && v !== 0)) {
    throw new FrameError("invalid_camera_info", `${name} takes at most ${max} distortion coefficients, D has ${d.length}`);
  }
  const bad = d.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new FrameError("invalid_camera_info", `D[${bad}] = ${d[bad]} is not finite`);
  const coefficients = Array.from({ length: 8 }, (_, i) => (i < max ? (d[i] ?? 0) : 0)) as unknown as Coefficients;
  return { kind: name === "equidistant" ? "equidistant" : "polynomial", coefficients };
}

function rawIntrinsics(cal: CameraCalibration): { fx: number; fy: number; skew: number; cx: number; cy: number } {
  const k = cal.k;
  if (k.length !== 9 || !k.every(Number.isFinite)) {
    throw new FrameError("invalid_camera_info", `cannot rectify: K must be 9 finite numbers, got [${k.join(", ")}]`);
  }
  const [fx, skew, cx, , fy, cy] = k as [number, number, number, number, number, number];
  if (!(fx > 0 && fy > 0)) {
    throw new FrameError("invalid_camera_info", `cannot rectify: K has fx = ${fx}, fy = ${fy}; both must be > 0`);
  }
  return { fx, fy, skew, cx, cy };
}

/** (P₃·R)⁻¹, row-major: rectified pixel [u v 1] → ray in the raw camera frame. */
function rectifiedToRay(cal: CameraCalibration): number[] {
  const usesP = cal.p.length === 12 && cal.p.some((v) => v !== 0);
  const p3 = usesP ? [0, 1, 2, 4, 5, 6, 8, 9, 10].map((i) => cal.p[i]!) : cal.k.slice();
  const r = cal.r.length === 9 && cal.r.some((v) => v !== 0) ? cal.r : [1, 0, 0, 0, 1, 0, 0, 0, 1];
  if (r.length !== 9 || !r.every(Number.isFinite) || !p3.every(Number.isFinite)) {
    throw new FrameError("invalid_camera_info", "cannot rectify: R must be 9 and P 12 finite numbers");
  }
  const m = multiply3(p3, r);
  const inv = invert3(m);
  if (!inv) {
    throw new FrameError("invalid_camera_info", `cannot rectify: ${usesP ? "P[0:3,0:3]" : "K"}·R is singular`);
  }
  return inv;
}

function multiply3(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
    }
  }
  return out;
}

function invert3(m: readonly number[]): number[] | undefined {
  const [a, b, c, d, e, f, g, h, k] = m as [number, number, number, number, number, number, number, number, number];
  const A = e * k - f * h;
  const B = -(d * k - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  const scale = Math.max(...m.map(Math.abs));
  if (!Number.isFinite(det) || Math.abs(det) <= 1e-12 * scale ** 3) return undefined;
  return [
    A / det, -(b * k - c * h) / det, (b * f - c * e) / det,
    B / det, (a * k - c * g) / det, -(a * f - c * d) / det,
    C / det, -(a * h - b * g) / det, (a * e - b * d) / det,
  ];
}

// ---------------------------------------------------------------------------------------------
// Sampling (cv::remap, BORDER_CONSTANT 0), with the per-pixel work done once per calibration.

const OUTSIDE = -1;
const EDGE = -2;

interface Sampler {
  readonly width: number;
  readonly height: number;
  /** Byte offset of the top-left bilinear neighbour when all four are inside; OUTSIDE; EDGE. */
  readonly offset: Int32Array;
  readonly wx: Float32Array;
  readonly wy: Float32Array;
  /** Pixels whose four neighbours straddle the border: index, then top-left x and y. */
  readonly edge: Int32Array;
  readonly edgeX0: Int32Array;
  readonly edgeY0: Int32Array;
  /** Nearest-neighbour byte offsets (or OUTSIDE), built on first use. */
  nearest: Int32Array | undefined;
  /** Pixels not fully inside the raw image (OUTSIDE or EDGE), built on first use. */
  uncovered: Int32Array | undefined;
}

const CACHE_SIZE = 8;
const cache = new Map<string, Sampler>();

function samplerFor(cal: CameraCalibration, width: number, height: number): Sampler {
  const key = [cal.distortionModel, width, height, cal.d.join(","), cal.k.join(","), cal.r.join(","), cal.p.join(",")].join("|");
  let sampler = cache.get(key);
  if (sampler) {
    cache.delete(key); // re-inserted below: most recently used last
  } else {
    sampler = buildSampler(undistortRectifyMap(cal, width, height));
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, sampler);
  return sampler;
}

/**
 * Indices of the rectified pixels the raw image does not fully cover: their colour is wholly or
 * partly the black border, so whatever a model infers there is not of the scene. Empty when D is
 * all zero. Cached with the maps.
 */
export function uncoveredPixels(calibration: CameraCalibration, width: number, height: number): Int32Array {
  if (!hasDistortion(calibration)) return new Int32Array(0);
  const sampler = samplerFor(reducedCalibration(calibration), width, height);
  if (!sampler.uncovered) {
    const indices: number[] = [];
    for (let i = 0; i < sampler.offset.length; i++) if (sampler.offset[i]! < 0) indices.push(i);
    sampler.uncovered = Int32Array.from(indices);
  }
  return sampler.uncovered;
}

/** Number of calibrations whose maps are cached; for tests. */
export function rectifyCacheSize(): number {
  return cache.size;
}

function buildSampler(map: RectificationMap): Sampler {
  const { width, height, mapX, mapY } = map;
  const n = width * height;
  const offset = new Int32Array(n);
  const wx = new Float32Array(n);
  const wy = new Float32Array(n);
  const edge: number[] = [];
  const edgeX0: number[] = [];
  const edgeY0: number[] = [];
  for (let i = 0; i < n; i++) {
    const mx = mapX[i]!;
    const my = mapY[i]!;
    const x0 = Math.floor(mx);
    const y0 = Math.floor(my);
    wx[i] = mx - x0;
    wy[i] = my - y0;
    if (x0 >= 0 && x0 < width - 1 && y0 >= 0 && y0 < height - 1) {
      offset[i] = (y0 * width + x0) * 3;
    } else if (x0 >= -1 && x0 <= width - 1 && y0 >= -1 && y0 <= height - 1) {
      offset[i] = EDGE;
      edge.push(i);
      edgeX0.push(x0);
      edgeY0.push(y0);
    } else {
      offset[i] = OUTSIDE; // also NaN
    }
  }
  return {
    width,
    height,
    offset,
    wx,
    wy,
    edge: Int32Array.from(edge),
    edgeX0: Int32Array.from(edgeX0),
    edgeY0: Int32Array.from(edgeY0),
    nearest: undefined,
    uncovered: undefined,
  };
}

function sampleLinear(s: Sampler, src: Uint8Array, dst: Uint8Array): void {
  const { offset, wx, wy, width, height } = s;
  const stride = width * 3;
  const n = width * height;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const a = offset[i]!;
    if (a >= 0) {
      const fx = wx[i]!;
      const fy = wy[i]!;
      const b = a + stride;
      // Unrolled over the channels: about twice as fast as a channel loop in V8. Each value is
      // in [0.5, 255.5), so |0 rounds half up.
      let p00 = src[a]!, p01 = src[a + 3]!, p10 = src[b]!, p11 = src[b + 3]!;
      let top = p00 + (p01 - p00) * fx, bottom = p10 + (p11 - p10) * fx;
      dst[o] = (top + (bottom - top) * fy + 0.5) | 0;
      p00 = src[a + 1]!; p01 = src[a + 4]!; p10 = src[b + 1]!; p11 = src[b + 4]!;
      top = p00 + (p01 - p00) * fx; bottom = p10 + (p11 - p10) * fx;
      dst[o + 1] = (top + (bottom - top) * fy + 0.5) | 0;
      p00 = src[a + 2]!; p01 = src[a + 5]!; p10 = src[b + 2]!; p11 = src[b + 5]!;
      top = p00 + (p01 - p00) * fx; bottom = p10 + (p11 - p10) * fx;
      dst[o + 2] = (top + (bottom - top) * fy + 0.5) | 0;
    } else if (a === OUTSIDE) {
      dst[o] = 0;
      dst[o + 1] = 0;
      dst[o + 2] = 0;
    }
  }
  const { edge, edgeX0, edgeY0 } = s;
  for (let e = 0; e < edge.length; e++) {
    const i = edge[e]!;
    const x0 = edgeX0[e]!;
    const y0 = edgeY0[e]!;
    const fx = wx[i]!;
    const fy = wy[i]!;
    const weights = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy];
    const sums = [0, 0, 0];
    for (let q = 0; q < 4; q++) {
      const x = x0 + (q & 1);
      const y = y0 + (q >> 1);
      if (x < 0 || x >= width || y < 0 || y >= height) continue;
      const at = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) sums[c]! += weights[q]! * src[at + c]!;
    }
    for (let c = 0; c < 3; c++) dst[i * 3 + c] = (sums[c]! + 0.5) | 0;
  }
}

function sampleNearest(s: Sampler, src: Uint8Array, dst: Uint8Array): void {
  s.nearest ??= nearestOffsets(s);
  const nearest = s.nearest;
  for (let i = 0, o = 0; i < nearest.length; i++, o += 3) {
    const a = nearest[i]!;
    if (a >= 0) {
      dst[o] = src[a]!;
      dst[o + 1] = src[a + 1]!;
      dst[o + 2] = src[a + 2]!;
    } else {
      dst[o] = 0;
      dst[o + 1] = 0;
      dst[o + 2] = 0;
    }
  }
}

/**
 * Byte offset of the pixel nearest to each map point (round half up), from the bilinear tables:
 * the nearest pixel is the top-left neighbour moved by one where the fraction is >= 0.5. A point
 * marked OUTSIDE has its floor below -1 or at/after the last pixel + 1, so its nearest pixel is
 * outside too.
 */
function nearestOffsets(s: Sampler): Int32Array {
  const { width, height, offset, wx, wy } = s;
  const nearest = new Int32Array(width * height);
  const stride = width * 3;
  for (let i = 0; i < nearest.length; i++) {
    const a = offset[i]!;
    nearest[i] = a >= 0 ? a + (wx[i]! >= 0.5 ? 3 : 0) + (wy[i]! >= 0.5 ? stride : 0) : OUTSIDE;
  }
  for (let e = 0; e < s.edge.length; e++) {
    const i = s.edge[e]!;
    const x = s.edgeX0[e]! + (wx[i]! >= 0.5 ? 1 : 0);
    const y = s.edgeY0[e]! + (wy[i]! >= 0.5 ? 1 : 0);
    nearest[i] = x >= 0 && x < width && y >= 0 && y < height ? (y * width + x) * 3 : OUTSIDE;
  }
  return nearest;
}
