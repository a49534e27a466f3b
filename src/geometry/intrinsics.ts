// Pinhole intrinsics from sensor_msgs/CameraInfo, and how they change when the image is resized
// or decimated. Pure arithmetic: no ROS, no OpenCV.

import type { CameraCalibration, PinholeIntrinsics } from "../frame.js";
import { FrameError } from "../errors.js";

/**
 * Pinhole parameters of a calibration: P (rectified) when any of its entries is non-zero, else K,
 * as depth_image_proc does. A calibration with width/height 0 (some drivers leave them unset)
 * takes its size from the image when `imageWidth`/`imageHeight` are given; otherwise that is an
 * error, since back-projection and resizing need the size the focal lengths are expressed in.
 */
export function intrinsicsFromCalibration(
  cal: CameraCalibration,
  imageWidth?: number,
  imageHeight?: number,
): PinholeIntrinsics {
  const usesP = cal.p.length === 12 && cal.p.some((v) => v !== 0);
  let fx: number, fy: number, cx: number, cy: number;
  let src: string;
  if (usesP) {
    [fx, fy, cx, cy] = [cal.p[0]!, cal.p[5]!, cal.p[2]!, cal.p[6]!];
    src = "P";
  } else {
    if (cal.k.length !== 9) {
      throw new FrameError("invalid_camera_info", `K has ${cal.k.length} entries (expected 9) and P is zero`);
    }
    [fx, fy, cx, cy] = [cal.k[0]!, cal.k[4]!, cal.k[2]!, cal.k[5]!];
    src = "K";
  }
  const at = src === "P" ? { fx: 0, fy: 5, cx: 2, cy: 6 } : { fx: 0, fy: 4, cx: 2, cy: 5 };
  if (!(Number.isFinite(fx) && fx > 0)) {
    throw new FrameError("invalid_camera_info", `fx (${src}[${at.fx}]) = ${fx}; must be finite and > 0`);
  }
  if (!(Number.isFinite(fy) && fy > 0)) {
    throw new FrameError("invalid_camera_info", `fy (${src}[${at.fy}]) = ${fy}; must be finite and > 0`);
  }
  if (!Number.isFinite(cx)) {
    throw new FrameError("invalid_camera_info", `cx (${src}[${at.cx}]) = ${cx}; must be finite`);
  }
  if (!Number.isFinite(cy)) {
    throw new FrameError("invalid_camera_info", `cy (${src}[${at.cy}]) = ${cy}; must be finite`);
  }
  const width = cal.width > 0 ? cal.width : (imageWidth ?? 0);
  const height = cal.height > 0 ? cal.height : (imageHeight ?? 0);
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new FrameError(
      "invalid_camera_info",
      `image size ${cal.width}x${cal.height} is unset or invalid and no image size was given`,
    );
  }
  return { width, height, fx, fy, cx, cy };
}

/**
 * Throws unless the calibration describes an image of this size. Width/height 0 in CameraInfo
 * means "unknown" (some drivers never fill them) and is accepted. Binning and ROI are not applied:
 * a binned or cropped camera shows up here as a mismatch rather than as silently wrong geometry.
 */
export function checkCalibrationMatchesImage(cal: CameraCalibration, imageWidth: number, imageHeight: number): void {
  if (cal.width === 0 || cal.height === 0) return;
  if (cal.width !== imageWidth || cal.height !== imageHeight) {
    const binned = cal.binningX > 1 || cal.binningY > 1 ? ` (binning ${cal.binningX}x${cal.binningY} is not supported)` : "";
    throw new FrameError(
      "camera_info_size_mismatch",
      `camera_info is ${cal.width}x${cal.height} but the image is ${imageWidth}x${imageHeight}${binned}`,
    );
  }
}

function checkSize(what: string, w: number, h: number): void {
  if (!(Number.isInteger(w) && w > 0 && Number.isInteger(h) && h > 0)) {
    throw new RangeError(`${what}: size must be positive integers, got ${w}x${h}`);
  }
}

/**
 * Intrinsics of the same camera after resizing the whole image to newWidth x newHeight.
 * Pixel centres sit at integer coordinates and the image spans [-0.5, W-0.5], so a resize maps
 * u' + 0.5 = (u + 0.5)·sx; hence cx' = (cx + 0.5)·sx − 0.5 and fx' = fx·sx (likewise in y).
 */
export function scaleIntrinsics(intr: PinholeIntrinsics, newWidth: number, newHeight: number): PinholeIntrinsics {
  checkSize("scaleIntrinsics", newWidth, newHeight);
  const sx = newWidth / intr.width;
  const sy = newHeight / intr.height;
  return {
    width: newWidth,
    height: newHeight,
    fx: intr.fx * sx,
    fy: intr.fy * sy,
    cx: (intr.cx + 0.5) * sx - 0.5,
    cy: (intr.cy + 0.5) * sy - 0.5,
  };
}

/**
 * The calibration of the same camera at another resolution (e.g. for depth/camera_info).
 * K and P get the same row operation as scaleIntrinsics: row0' = sx·row0 + (sx−1)/2·row2 and
 * row1' = sy·row1 + (sy−1)/2·row2, which is exact for any projection matrix, so the skew and
 * P's Tx/Ty terms scale with fx/fy. D and R are resolution independent. ROI is reset to the full
 * image and binning to 0 (= none): the scaled image is a whole image of the new size.
 */
export function scaleCalibration(cal: CameraCalibration, newWidth: number, newHeight: number): CameraCalibration {
  checkSize("scaleCalibration", newWidth, newHeight);
  if (!(cal.width > 0 && cal.height > 0)) {
    throw new FrameError("invalid_camera_info", `cannot scale a calibration of unknown size ${cal.width}x${cal.height}`);
  }
  const sx = newWidth / cal.width;
  const sy = newHeight / cal.height;
  return {
    ...cal,
    width: newWidth,
    height: newHeight,
    k: cal.k.length === 9 ? scaleProjection(cal.k, 3, sx, sy) : cal.k.slice(),
    p: cal.p.length === 12 ? scaleProjection(cal.p, 4, sx, sy) : cal.p.slice(),
    d: cal.d.slice(),
    r: cal.r.slice(),
    binningX: 0,
    binningY: 0,
    roi: { xOffset: 0, yOffset: 0, width: 0, height: 0, doRectify: false },
  };
}

function scaleProjection(m: readonly number[], cols: number, sx: number, sy: number): number[] {
  const out = m.slice();
  const ox = 0.5 * (sx - 1);
  const oy = 0.5 * (sy - 1);
  for (let c = 0; c < cols; c++) {
    const last = m[2 * cols + c]!;
    out[c] = sx * m[c]! + ox * last;
    out[cols + c] = sy * m[cols + c]! + oy * last;
  }
  return out;
}

/** Size of the grid that keeps every factor-th pixel starting at 0. */
export function decimatedSize(width: number, height: number, factor: number): { width: number; height: number } {
  if (!(Number.isInteger(factor) && factor >= 1)) {
    throw new RangeError(`decimation factor must be an integer >= 1, got ${factor}`);
  }
  return { width: Math.ceil(width / factor), height: Math.ceil(height / factor) };
}

/**
 * Intrinsics of the grid that samples every factor-th pixel starting at pixel 0 (u = factor·u').
 * Unlike a resize this is a pure subsampling, so there is no half-pixel term: fx' = fx/f, cx' = cx/f.
 */
export function decimateIntrinsics(intr: PinholeIntrinsics, factor: number): PinholeIntrinsics {
  const size = decimatedSize(intr.width, intr.height, factor);
  return {
    width: size.width,
    height: size.height,
    fx: intr.fx / factor,
    fy: intr.fy / factor,
    cx: intr.cx / factor,
    cy: intr.cy / factor,
  };
}
