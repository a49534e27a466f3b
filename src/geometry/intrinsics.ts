// Pinhole intrinsics from sensor_msgs/CameraInfo, and how they change when the image is resized
// or decimated. Pure arithmetic: no ROS, no OpenCV.

import type { CameraCalibration, PinholeIntrinsics } from "../frame.js";
import { FrameError } from "../errors.js";

/** Binning 0 means none, as 1 does (sensor_msgs/CameraInfo, image_geometry). */
function binningOf(cal: CameraCalibration): { bx: number; by: number } {
  const bx = cal.binningX || 1;
  const by = cal.binningY || 1;
  if (!(Number.isInteger(bx) && bx >= 1 && Number.isInteger(by) && by >= 1)) {
    throw new FrameError("invalid_camera_info", `binning ${cal.binningX}x${cal.binningY} must be whole numbers`);
  }
  return { bx, by };
}

/** True when the CameraInfo describes a binned or cropped (ROI) image of its full-resolution calibration. */
function hasBinningOrRoi(cal: CameraCalibration): boolean {
  const { xOffset, yOffset, width, height } = cal.roi;
  const { bx, by } = binningOf(cal);
  const roiIsFull = xOffset === 0 && yOffset === 0 && (width === 0 || width === cal.width) && (height === 0 || height === cal.height);
  return bx > 1 || by > 1 || !roiIsFull;
}

/**
 * The calibration of the image a camera publishes with this CameraInfo, as image_geometry's
 * PinholeCameraModel reads it (ros-perception/vision_opencv, image_geometry/src/
 * pinhole_camera_model.cpp, fromCameraInfo and reducedResolution): width, height, K and P in
 * CameraInfo are those of the full-resolution sensor; the image is its ROI (all zero = the whole
 * sensor), divided by the binning (0 = 1) with integer division, and its intrinsics are K and P
 * with the principal point moved by the ROI offset, then row 0 divided by binning_x and row 1 by
 * binning_y (fx, cx and Tx; fy, cy and Ty). That is, a pixel (u', v') of the image is the
 * sensor's pixel (x_offset + binning_x·u', y_offset + binning_y·v') (image_geometry's
 * toFullResolution). Done here as row operations, so a non-zero skew scales too (image_geometry
 * leaves K(0,1) alone; calibrations have zero skew). D and R do not change. The result has no
 * binning and no ROI: it describes a whole image of the reduced size. Without binning or ROI it is
 * `cal` itself. The ROI used is the raw one whatever roi.do_rectify says, as image_geometry's
 * K_, P_ and rectification maps do.
 */
export function reducedCalibration(cal: CameraCalibration): CameraCalibration {
  if (!hasBinningOrRoi(cal)) return cal;
  const { bx, by } = binningOf(cal);
  const roi = cal.roi;
  const roiIsZero = roi.xOffset === 0 && roi.yOffset === 0 && roi.width === 0 && roi.height === 0;
  const roiWidth = roiIsZero ? cal.width : roi.width;
  const roiHeight = roiIsZero ? cal.height : roi.height;
  if (!roiIsZero) {
    if (!(roi.width > 0 && roi.height > 0)) {
      throw new FrameError("invalid_camera_info", `roi ${roi.width}x${roi.height} at (${roi.xOffset}, ${roi.yOffset}) has no area`);
    }
    const outside =
      (cal.width > 0 && roi.xOffset + roi.width > cal.width) || (cal.height > 0 && roi.yOffset + roi.height > cal.height);
    if (outside) {
      throw new FrameError(
        "invalid_camera_info",
        `roi ${roi.width}x${roi.height} at (${roi.xOffset}, ${roi.yOffset}) extends past the ${cal.width}x${cal.height} image`,
      );
    }
  }
  const x0 = roiIsZero ? 0 : roi.xOffset;
  const y0 = roiIsZero ? 0 : roi.yOffset;
  const width = Math.floor(roiWidth / bx);
  const height = Math.floor(roiHeight / by);
  if (roiWidth > 0 && roiHeight > 0 && !(width > 0 && height > 0)) {
    throw new FrameError("invalid_camera_info", `roi ${roiWidth}x${roiHeight} is smaller than binning ${bx}x${by}`);
  }
  return {
    ...cal,
    width,
    height,
    k: cal.k.length === 9 ? cropAndBin(cal.k, 3, x0, y0, bx, by) : cal.k.slice(),
    p: cal.p.length === 12 ? cropAndBin(cal.p, 4, x0, y0, bx, by) : cal.p.slice(),
    d: cal.d.slice(),
    r: cal.r.slice(),
    binningX: 0,
    binningY: 0,
    roi: { xOffset: 0, yOffset: 0, width: 0, height: 0, doRectify: false },
  };
}

/** row0' = (row0 − x0·row2)/bx, row1' = (row1 − y0·row2)/by: pixel u' = (u − x0)/bx. */
function cropAndBin(m: readonly number[], cols: number, x0: number, y0: number, bx: number, by: number): number[] {
  const out = m.slice();
  for (let c = 0; c < cols; c++) {
    const last = m[2 * cols + c]!;
    out[c] = (m[c]! - x0 * last) / bx;
    out[cols + c] = (m[cols + c]! - y0 * last) / by;
  }
  return out;
}

/**
 * Pinhole parameters of the image a calibration describes (binning and ROI applied, see
 * reducedCalibration): P (rectified) when any of its entries is non-zero, else K, as
 * depth_image_proc does. A calibration with width/height 0 (some drivers leave them unset)
 * takes its size from the image when `imageWidth`/`imageHeight` are given; otherwise that is an
 * error, since back-projection and resizing need the size the focal lengths are expressed in.
 */
export function intrinsicsFromCalibration(
  fullCalibration: CameraCalibration,
  imageWidth?: number,
  imageHeight?: number,
): PinholeIntrinsics {
  const cal = reducedCalibration(fullCalibration);
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
 * Throws unless the calibration describes an image of this size: its ROI divided by its binning
 * (see reducedCalibration). Width/height 0 in CameraInfo means "unknown" (some drivers never fill
 * them) and is accepted when there is no ROI to give the size.
 */
export function checkCalibrationMatchesImage(cal: CameraCalibration, imageWidth: number, imageHeight: number): void {
  const reduced = reducedCalibration(cal);
  if (reduced.width === 0 || reduced.height === 0) return;
  if (reduced.width !== imageWidth || reduced.height !== imageHeight) {
    const { bx, by } = binningOf(cal);
    const roi = cal.roi;
    const parts = [
      ...(roi.width > 0 || roi.height > 0 || roi.xOffset > 0 || roi.yOffset > 0
        ? [`roi ${roi.width}x${roi.height} at (${roi.xOffset}, ${roi.yOffset})`]
        : []),
      ...(bx > 1 || by > 1 ? [`binning ${bx}x${by}`] : []),
    ];
    const reducedSize = reduced === cal ? "" : ` (${parts.join(", ")}: an image of ${reduced.width}x${reduced.height})`;
    throw new FrameError(
      "camera_info_size_mismatch",
      `camera_info is ${cal.width}x${cal.height}${reducedSize} but the image is ${imageWidth}x${imageHeight}`,
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
 * P's Tx/Ty terms scale with fx/fy. D and R are resolution independent. A binned or cropped
 * calibration is first reduced to its image (reducedCalibration); ROI is reset to the full image
 * and binning to 0 (= none): the scaled image is a whole image of the new size.
 */
export function scaleCalibration(fullCalibration: CameraCalibration, newWidth: number, newHeight: number): CameraCalibration {
  checkSize("scaleCalibration", newWidth, newHeight);
  const cal = reducedCalibration(fullCalibration);
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
