import { describe, expect, it } from "vitest";
import type { CameraCalibration, RgbImage } from "../frame.js";
import { FrameError } from "../errors.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { cv, matToUint8, borrowMat, keepAlive } from "./opencv.js";
import { hasDistortion, rectifyCacheSize, rectifyRgb, undistortRectifyMap } from "./undistort.js";

type Vec3 = readonly [number, number, number];

const W = 640;
const H = 480;
const K = [520, 0, 318.6, 0, 515, 243.2, 0, 0, 1];
/** The rectified camera: a different focal length and principal point than K, as camera_calibration writes. */
const P = [460, 0, 322, 0, 0, 455, 238, 0, 0, 0, 1, 0];
const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];
const PLUMB_BOB_D = [-0.25, 0.08, 0.001, -0.0005, 0];

function calibration(model: string, d: number[], r: number[] = IDENTITY, p: number[] = P, k: number[] = K): CameraCalibration {
  return { ...pinholeCalibration(W, H, 1, 1, 0, 0), distortionModel: model, d, k, r, p };
}

/** Rotation by `deg` degrees about the unit axis [ax, ay, az], row-major (Rodrigues). */
function rotation(ax: number, ay: number, az: number, deg: number): number[] {
  const n = Math.hypot(ax, ay, az);
  const [x, y, z] = [ax / n, ay / n, az / n];
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const C = 1 - c;
  return [
    c + x * x * C, x * y * C - z * s, x * z * C + y * s,
    y * x * C + z * s, c + y * y * C, y * z * C - x * s,
    z * x * C - y * s, z * y * C + x * s, c + z * z * C,
  ];
}

function apply3(m: readonly number[], v: Vec3): Vec3 {
  return [
    m[0]! * v[0] + m[1]! * v[1] + m[2]! * v[2],
    m[3]! * v[0] + m[4]! * v[1] + m[5]! * v[2],
    m[6]! * v[0] + m[7]! * v[1] + m[8]! * v[2],
  ];
}

// ---- Forward models, written out independently of the implementation -------------------------

/** A point in the raw camera frame → raw (distorted) pixel, OpenCV's radial-tangential model. */
function projectRadialTangential(cal: CameraCalibration, X: Vec3): [number, number] {
  const [k1 = 0, k2 = 0, p1 = 0, p2 = 0, k3 = 0, k4 = 0, k5 = 0, k6 = 0] = cal.d;
  const x = X[0] / X[2];
  const y = X[1] / X[2];
  const r2 = x * x + y * y;
  const radial = (1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3) / (1 + k4 * r2 + k5 * r2 ** 2 + k6 * r2 ** 3);
  const xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
  const yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
  return [cal.k[0]! * xd + cal.k[2]!, cal.k[4]! * yd + cal.k[5]!];
}

/** The same for the equidistant (fisheye) model: r_d = θ(1 + k1θ² + k2θ⁴ + k3θ⁶ + k4θ⁸). */
function projectEquidistant(cal: CameraCalibration, X: Vec3): [number, number] {
  const [k1 = 0, k2 = 0, k3 = 0, k4 = 0] = cal.d;
  const rho = Math.hypot(X[0], X[1]);
  const theta = Math.atan2(rho, X[2]);
  const thetaD = theta * (1 + k1 * theta ** 2 + k2 * theta ** 4 + k3 * theta ** 6 + k4 * theta ** 8);
  return [cal.k[0]! * (X[0] / rho) * thetaD + cal.k[2]!, cal.k[4]! * (X[1] / rho) * thetaD + cal.k[5]!];
}

type Forward = (cal: CameraCalibration, X: Vec3) => [number, number];

/** Pinhole projection of a raw-camera-frame point into the rectified image: P₃·R·X. */
function projectRectified(cal: CameraCalibration, X: Vec3): [number, number] {
  const p3 = [cal.p[0]!, cal.p[1]!, cal.p[2]!, cal.p[4]!, cal.p[5]!, cal.p[6]!, cal.p[8]!, cal.p[9]!, cal.p[10]!];
  const [a, b, c] = apply3(p3, apply3(cal.r, X));
  return [a / c, b / c];
}

/** The raw-frame point at depth z that the rectified pixel (u, v) sees. */
function pointSeenAt(cal: CameraCalibration, u: number, v: number, z: number): Vec3 {
  const [fx, cx, fy, cy] = [cal.p[0]!, cal.p[2]!, cal.p[5]!, cal.p[6]!];
  const inRectifiedFrame: Vec3 = [((u - cx) / fx) * z, ((v - cy) / fy) * z, z];
  const rt = [cal.r[0]!, cal.r[3]!, cal.r[6]!, cal.r[1]!, cal.r[4]!, cal.r[7]!, cal.r[2]!, cal.r[5]!, cal.r[8]!];
  return apply3(rt, inRectifiedFrame);
}

// ---- Dots ------------------------------------------------------------------------------------

const BACKGROUND = 10;
const SIGMA = 1.2;

/** Dark image with a Gaussian dot (σ 1.2 px, peak 250) centred on each raw pixel position. */
function dotImage(centres: readonly (readonly [number, number])[]): RgbImage {
  const data = new Uint8Array(W * H * 3).fill(BACKGROUND);
  const reach = Math.ceil(5 * SIGMA);
  for (const [cu, cv_] of centres) {
    for (let v = Math.floor(cv_) - reach; v <= Math.ceil(cv_) + reach; v++) {
      for (let u = Math.floor(cu) - reach; u <= Math.ceil(cu) + reach; u++) {
        const g = Math.exp(-((u - cu) ** 2 + (v - cv_) ** 2) / (2 * SIGMA * SIGMA));
        data.fill(Math.round(BACKGROUND + (250 - BACKGROUND) * g), (v * W + u) * 3, (v * W + u) * 3 + 3);
      }
    }
  }
  return { width: W, height: H, data };
}

/** Intensity centroid (above the background) of the red channel within `radius` of (u, v). */
function centroid(image: RgbImage, u: number, v: number, radius = 7): [number, number] {
  let sum = 0;
  let su = 0;
  let sv = 0;
  for (let y = Math.round(v) - radius; y <= Math.round(v) + radius; y++) {
    for (let x = Math.round(u) - radius; x <= Math.round(u) + radius; x++) {
      const w = Math.max(0, image.data[(y * image.width + x) * 3]! - BACKGROUND);
      sum += w;
      su += w * x;
      sv += w * y;
    }
  }
  return [su / sum, sv / sum];
}

/** Rectified targets: the centre, the quadrants and 20-30 px from each corner. */
const TARGETS: readonly (readonly [number, number, number])[] = [
  [320.3, 240.6, 2.0],
  [160.7, 120.2, 3.5],
  [480.4, 360.9, 1.2],
  [100.2, 380.5, 5.0],
  [25.4, 22.7, 2.5],
  [616.8, 24.1, 4.0],
  [27.6, 455.3, 1.8],
  [612.2, 452.9, 3.0],
];

/**
 * Draws each 3-D point where the distorted camera sees it, rectifies, and returns the largest
 * distance between a dot's centroid and the point's pinhole projection with P (and R).
 */
function maxCentroidError(cal: CameraCalibration, forward: Forward, interpolation: "linear" | "nearest" = "linear"): number {
  const points = TARGETS.map(([u, v, z]) => pointSeenAt(cal, u, v, z));
  const raw = points.map((X) => forward(cal, X));
  for (const [u, v] of raw) {
    // Every dot lies wholly inside the raw image, so the test measures geometry, not clipping.
    expect(u).toBeGreaterThan(8);
    expect(u).toBeLessThan(W - 9);
    expect(v).toBeGreaterThan(8);
    expect(v).toBeLessThan(H - 9);
  }
  const rectified = rectifyRgb(dotImage(raw), cal, interpolation);
  let worst = 0;
  for (const X of points) {
    const [eu, ev] = projectRectified(cal, X);
    const [cu, cv_] = centroid(rectified, eu, ev);
    worst = Math.max(worst, Math.hypot(cu - eu, cv_ - ev));
  }
  return worst;
}

describe("undistortRectifyMap", () => {
  // Every rectified pixel's map entry is where the forward model puts the point that pixel sees.
  const cases: [string, CameraCalibration, Forward][] = [
    ["plumb_bob", calibration("plumb_bob", PLUMB_BOB_D), projectRadialTangential],
    ["plumb_bob with R", calibration("plumb_bob", PLUMB_BOB_D, rotation(1, -2, 0.5, 1.5)), projectRadialTangential],
    [
      "rational_polynomial",
      calibration("rational_polynomial", [0.9, -0.4, 0.0008, -0.0006, 0.05, 1.2, -0.1, 0.08]),
      projectRadialTangential,
    ],
    ["equidistant", calibration("equidistant", [-0.03, 0.01, -0.004, 0.0007]), projectEquidistant],
  ];
  for (const [name, cal, forward] of cases) {
    it(`${name}: each rectified pixel maps to the forward projection of its ray (max error < 1e-3 px)`, () => {
      const { mapX, mapY } = undistortRectifyMap(cal);
      let worst = 0;
      for (let v = 0; v < H; v += 7) {
        for (let u = 0; u < W; u += 5) {
          const [ru, rv] = forward(cal, pointSeenAt(cal, u, v, 1.7));
          worst = Math.max(worst, Math.abs(mapX[v * W + u]! - ru), Math.abs(mapY[v * W + u]! - rv));
        }
      }
      expect(worst).toBeLessThan(1e-3);
    });
  }

  it("uses K when P is all zero and identity when R is all zero", () => {
    const cal = calibration("plumb_bob", PLUMB_BOB_D, new Array<number>(9).fill(0), new Array<number>(12).fill(0));
    const { mapX, mapY } = undistortRectifyMap(cal);
    // With P = K the principal point maps to itself (distortion is zero on the axis).
    const i = 243 * W + 319;
    const [ru, rv] = projectRadialTangential(cal, [319 - 318.6, ((243 - 243.2) * 520) / 515, 520]);
    expect(mapX[i]).toBeCloseTo(ru, 4);
    expect(mapY[i]).toBeCloseTo(rv, 4);
  });
});

describe("undistortRectifyMap with binning and ROI", () => {
  // The 320x240 ROI at (100, 60) of the 640x480 sensor, binned 2x2: a 160x120 image.
  const full = calibration("plumb_bob", PLUMB_BOB_D, rotation(1, -2, 0.5, 1.5));
  const roi = { xOffset: 100, yOffset: 60, width: 320, height: 240, doRectify: false };
  const cropped: CameraCalibration = { ...full, binningX: 2, binningY: 2, roi };

  it("is image_geometry's map: the binned full-resolution map cropped to ROI / binning, minus the offset", () => {
    const reduced = undistortRectifyMap(cropped);
    expect([reduced.width, reduced.height]).toEqual([160, 120]);
    // image_geometry's initRectificationMaps: the map of K, P with binning only, at 320x240 ...
    const binnedOnly = undistortRectifyMap({ ...full, binningX: 2, binningY: 2 });
    expect([binnedOnly.width, binnedOnly.height]).toEqual([320, 240]);
    // ... then full_map1(roi / binning) - (roi.x, roi.y) / binning.
    let worst = 0;
    for (let v = 0; v < 120; v++) {
      for (let u = 0; u < 160; u++) {
        const i = v * 160 + u;
        const j = (v + 30) * 320 + (u + 50);
        worst = Math.max(worst, Math.abs(reduced.mapX[i]! - (binnedOnly.mapX[j]! - 50)), Math.abs(reduced.mapY[i]! - (binnedOnly.mapY[j]! - 30)));
      }
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it("samples the raw sensor where the full-resolution map does, at the same pixels", () => {
    const reduced = undistortRectifyMap(cropped);
    const fullMap = undistortRectifyMap(full);
    let worst = 0;
    for (let v = 0; v < 120; v += 3) {
      for (let u = 0; u < 160; u += 3) {
        const j = (60 + 2 * v) * W + 100 + 2 * u;
        // Raw image pixel x' is sensor pixel 100 + 2x'.
        worst = Math.max(
          worst,
          Math.abs(100 + 2 * reduced.mapX[v * 160 + u]! - fullMap.mapX[j]!),
          Math.abs(60 + 2 * reduced.mapY[v * 160 + u]! - fullMap.mapY[j]!),
        );
      }
    }
    expect(worst).toBeLessThan(2e-3);
  });

  it("rectifyRgb takes an image of the ROI / binning size", () => {
    const image: RgbImage = { width: 160, height: 120, data: new Uint8Array(160 * 120 * 3).fill(90) };
    const out = rectifyRgb(image, cropped);
    expect([out.width, out.height]).toEqual([160, 120]);
    expect(() => rectifyRgb({ width: W, height: H, data: new Uint8Array(W * H * 3) }, cropped)).toThrow(
      /binning 2x2: an image of 160x120\) but the image is 640x480/,
    );
  });
});

describe("rectifyRgb", () => {
  it("puts dots drawn through plumb_bob distortion at their pinhole projection with P (< 0.5 px)", () => {
    const cal = calibration("plumb_bob", PLUMB_BOB_D);
    const error = maxCentroidError(cal, projectRadialTangential);
    expect(error).toBeLessThan(0.5);
    expect(error).toBeLessThan(0.1); // measured 0.034 px
  });

  it("applies R: dots land at the projection P·R·X (< 0.5 px)", () => {
    const cal = calibration("plumb_bob", PLUMB_BOB_D, rotation(0.3, 1, 0.2, 1.2));
    expect(maxCentroidError(cal, projectRadialTangential)).toBeLessThan(0.1); // measured 0.040 px
  });

  it("rectifies rational_polynomial and equidistant calibrations (< 0.5 px)", () => {
    const rational = calibration("rational_polynomial", [0.9, -0.4, 0.0008, -0.0006, 0.05, 1.2, -0.1, 0.08]);
    // Measured 0.081 and 0.090 px: strong distortion bends the dot's footprint a little.
    expect(maxCentroidError(rational, projectRadialTangential)).toBeLessThan(0.2);
    const fisheye = calibration("equidistant", [-0.03, 0.01, -0.004, 0.0007], IDENTITY, [300, 0, 322, 0, 0, 298, 238, 0, 0, 0, 1, 0], [
      290, 0, 318.6, 0, 289, 243.2, 0, 0, 1,
    ]);
    expect(maxCentroidError(fisheye, projectEquidistant)).toBeLessThan(0.2);
  });

  it("nearest sampling is still within half a pixel", () => {
    const cal = calibration("plumb_bob", PLUMB_BOB_D);
    expect(maxCentroidError(cal, projectRadialTangential, "nearest")).toBeLessThan(0.5); // measured 0.42 px
  });

  it("returns the input itself when D is all zero (whatever the model)", () => {
    const image: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3) };
    const zero = calibration("plumb_bob", [0, 0, 0, 0, 0]);
    expect(hasDistortion(zero)).toBe(false);
    expect(rectifyRgb(image, zero)).toBe(image);
    expect(rectifyRgb(image, calibration("", []))).toBe(image);
    expect(rectifyRgb(image, calibration("some_new_model", [0, 0, 0]))).toBe(image);
  });

  it("keeps a uniform image uniform where the source is inside and black outside", () => {
    // A wide rectified view (P's focal length well below K's) sees past the raw image's corners.
    const cal = calibration("plumb_bob", PLUMB_BOB_D, IDENTITY, [300, 0, 322, 0, 0, 300, 238, 0, 0, 0, 1, 0]);
    const image: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3) };
    for (let i = 0; i < W * H; i++) image.data.set([200, 100, 7], i * 3);
    const out = rectifyRgb(image, cal);
    const { mapX, mapY } = undistortRectifyMap(cal);
    const is = (i: number, r: number, g: number, b: number) =>
      out.data[i * 3] === r && out.data[i * 3 + 1] === g && out.data[i * 3 + 2] === b;
    let inside = 0;
    let outside = 0;
    let wrong = 0;
    for (let i = 0; i < W * H; i++) {
      const [x, y] = [mapX[i]!, mapY[i]!];
      if (x >= 0 && x <= W - 1 && y >= 0 && y <= H - 1) {
        inside++;
        if (!is(i, 200, 100, 7)) wrong++;
      } else if (!(x > -1 && x < W && y > -1 && y < H)) {
        outside++;
        if (!is(i, 0, 0, 0)) wrong++;
      }
    }
    expect(wrong).toBe(0);
    expect(inside).toBeGreaterThan(0.3 * W * H);
    expect(outside).toBeGreaterThan(0.3 * W * H);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([0, 0, 0]); // top-left corner
  });

  it("matches OpenCV's Mat.undistort (= initUndistortRectifyMap + remap) when R = I and P = K", () => {
    const cal = calibration("plumb_bob", PLUMB_BOB_D, IDENTITY, [...K.slice(0, 3), 0, ...K.slice(3, 6), 0, 0, 0, 1, 0]);
    const data = new Uint8Array(W * H * 3);
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const i = (v * W + u) * 3;
        data[i] = Math.round(127.5 + 127 * Math.sin(u / 9) * Math.cos(v / 13));
        data[i + 1] = Math.round(127.5 + 127 * Math.sin((0.7 * u + v) / 17));
        data[i + 2] = Math.round(127.5 + 127 * Math.cos((u + v) / 21));
      }
    }
    const ours = rectifyRgb({ width: W, height: H, data }, cal).data;
    const src = borrowMat(data, H, W, cv().CV_8UC3, 3);
    const kMat = new (cv().Mat)([K.slice(0, 3), K.slice(3, 6), K.slice(6, 9)], cv().CV_64F);
    const dMat = new (cv().Mat)([PLUMB_BOB_D], cv().CV_64F);
    const theirs = matToUint8(src.undistort(kMat, dMat));
    keepAlive(data);
    let maxDiff = 0;
    let sumDiff = 0;
    for (let i = 0; i < ours.length; i++) {
      const diff = Math.abs(ours[i]! - theirs[i]!);
      maxDiff = Math.max(maxDiff, diff);
      sumDiff += diff;
    }
    // OpenCV quantises the map to 1/32 px and the weights to 15 bits; we interpolate in floats.
    // Measured: mean |difference| 0.05 grey levels, max 1.
    expect(sumDiff / ours.length).toBeLessThan(0.1);
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it("builds the maps once per calibration and writes into `out`", () => {
    const cal = calibration("plumb_bob", [-0.1, 0.01, 0, 0, 0]);
    const image: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(50) };
    const first = rectifyRgb(image, cal);
    const size = rectifyCacheSize();
    const out = new Uint8Array(W * H * 3).fill(255);
    const second = rectifyRgb(image, { ...cal, d: [...cal.d] }, "linear", out);
    expect(rectifyCacheSize()).toBe(size);
    expect(second.data).toBe(out);
    expect(Buffer.compare(second.data, first.data)).toBe(0);
  });

  it("names an unsupported model, too many coefficients, or a size mismatch", () => {
    const image: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3) };
    expect(() => rectifyRgb(image, calibration("kannala_brandt", [0.1]))).toThrow(/"kannala_brandt".*plumb_bob, rational_polynomial, equidistant/);
    expect(() => rectifyRgb(image, calibration("plumb_bob", [0.1, 0, 0, 0, 0, 0.2]))).toThrow(FrameError);
    expect(() => rectifyRgb(image, calibration("plumb_bob", [0.1, 0, 0, 0, 0, 0.2]))).toThrow(/at most 5/);
    const small: RgbImage = { width: 320, height: 240, data: new Uint8Array(320 * 240 * 3) };
    expect(() => rectifyRgb(small, calibration("plumb_bob", PLUMB_BOB_D))).toThrow(/640x480 but the image is 320x240/);
  });
});
