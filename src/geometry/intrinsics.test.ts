import { describe, expect, it } from "vitest";
import type { CameraCalibration, PinholeIntrinsics } from "../frame.js";
import { FrameError } from "../errors.js";
import { backProjectToXyz } from "../../tests/support/twoPassPointCloud.js";
import {
  checkCalibrationMatchesImage,
  decimateIntrinsics,
  intrinsicsFromCalibration,
  reducedCalibration,
  scaleCalibration,
  scaleIntrinsics,
} from "./intrinsics.js";

function calibration(overrides: Partial<CameraCalibration> = {}): CameraCalibration {
  return {
    width: 640,
    height: 480,
    distortionModel: "plumb_bob",
    d: [0.1, -0.2, 0, 0, 0],
    k: [500, 0, 320, 0, 510, 240, 0, 0, 1],
    r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    p: [480, 0, 318.5, -24, 0, 490, 236.25, 0, 0, 0, 1, 0],
    binningX: 0,
    binningY: 0,
    roi: { xOffset: 0, yOffset: 0, width: 0, height: 0, doRectify: false },
    ...overrides,
  };
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof FrameError) return err.reason;
    throw err;
  }
  return undefined;
}

function project(intr: PinholeIntrinsics, X: number, Y: number, Z: number): [number, number] {
  return [(intr.fx * X) / Z + intr.cx, (intr.fy * Y) / Z + intr.cy];
}

describe("intrinsicsFromCalibration", () => {
  it("uses P when it is non-zero", () => {
    expect(intrinsicsFromCalibration(calibration())).toEqual({
      width: 640,
      height: 480,
      fx: 480,
      fy: 490,
      cx: 318.5,
      cy: 236.25,
    });
  });

  it("falls back to K when P is all zero", () => {
    const intr = intrinsicsFromCalibration(calibration({ p: new Array(12).fill(0) }));
    expect(intr).toEqual({ width: 640, height: 480, fx: 500, fy: 510, cx: 320, cy: 240 });
  });

  it("rejects degenerate values and names them", () => {
    const badFx = calibration({ p: [0, 0, 318.5, 0, 0, 490, 236.25, 0, 0, 0, 1, 0] });
    expect(() => intrinsicsFromCalibration(badFx)).toThrow(/fx \(P\[0\]\) = 0/);
    expect(reasonOf(() => intrinsicsFromCalibration(badFx))).toBe("invalid_camera_info");

    const negFy = calibration({ p: new Array(12).fill(0), k: [500, 0, 320, 0, -1, 240, 0, 0, 1] });
    expect(() => intrinsicsFromCalibration(negFy)).toThrow(/fy \(K\[4\]\) = -1/);

    const nanCy = calibration({ p: [480, 0, 318.5, 0, 0, 490, NaN, 0, 0, 0, 1, 0] });
    expect(() => intrinsicsFromCalibration(nanCy)).toThrow(/cy \(P\[6\]\) = NaN/);

    const infCx = calibration({ p: [480, 0, Infinity, 0, 0, 490, 240, 0, 0, 0, 1, 0] });
    expect(() => intrinsicsFromCalibration(infCx)).toThrow(/cx \(P\[2\]\) = Infinity/);

    const shortK = calibration({ p: [], k: [1, 2, 3] });
    expect(reasonOf(() => intrinsicsFromCalibration(shortK))).toBe("invalid_camera_info");
  });

  it("takes an unset (0) size from the image, and fails without one", () => {
    const unsized = calibration({ width: 0, height: 0 });
    expect(intrinsicsFromCalibration(unsized, 320, 200)).toMatchObject({ width: 320, height: 200, fx: 480 });
    expect(reasonOf(() => intrinsicsFromCalibration(unsized))).toBe("invalid_camera_info");
  });
});

describe("checkCalibrationMatchesImage", () => {
  it("accepts a match and an unknown (0) size", () => {
    expect(() => checkCalibrationMatchesImage(calibration(), 640, 480)).not.toThrow();
    expect(() => checkCalibrationMatchesImage(calibration({ width: 0, height: 0 }), 1280, 720)).not.toThrow();
  });

  it("rejects a mismatch naming both sizes", () => {
    expect(reasonOf(() => checkCalibrationMatchesImage(calibration(), 1280, 720))).toBe("camera_info_size_mismatch");
    expect(() => checkCalibrationMatchesImage(calibration(), 1280, 720)).toThrow(/640x480.*1280x720/);
  });
});

describe("binning and ROI (image_geometry's PinholeCameraModel)", () => {
  // image_proc's crop_decimate: the 320x240 ROI at (100, 60) of the 640x480 sensor, decimated 2x2.
  const cropped = calibration({ binningX: 2, binningY: 2, roi: { xOffset: 100, yOffset: 60, width: 320, height: 240, doRectify: false } });

  it("the image is the ROI divided by the binning; K and P are shifted by the offset and divided by the binning", () => {
    const reduced = reducedCalibration(cropped);
    expect([reduced.width, reduced.height]).toEqual([160, 120]);
    // K: fx 500/2, cx (320 - 100)/2, fy 510/2, cy (240 - 60)/2.
    expect(reduced.k).toEqual([250, 0, 110, 0, 255, 90, 0, 0, 1]);
    // P: fx 480/2, cx (318.5 - 100)/2, Tx -24/2, fy 490/2, cy (236.25 - 60)/2.
    expect(reduced.p).toEqual([240, 0, 109.25, -12, 0, 245, 88.125, 0, 0, 0, 1, 0]);
    expect([reduced.binningX, reduced.binningY, reduced.roi.width, reduced.d, reduced.r]).toEqual([0, 0, 0, cropped.d, cropped.r]);
    expect(intrinsicsFromCalibration(cropped)).toEqual({ width: 160, height: 120, fx: 240, fy: 245, cx: 109.25, cy: 88.125 });
    // Binning alone, ROI alone, and binning 1 = binning 0 = none.
    expect(intrinsicsFromCalibration(calibration({ binningX: 4, binningY: 2 }))).toEqual({
      width: 160, height: 240, fx: 120, fy: 245, cx: 318.5 / 4, cy: 118.125,
    });
    expect(intrinsicsFromCalibration(calibration({ roi: { xOffset: 10, yOffset: 20, width: 200, height: 100, doRectify: true } }))).toEqual({
      width: 200, height: 100, fx: 480, fy: 490, cx: 308.5, cy: 216.25,
    });
    const none = calibration({ binningX: 1, binningY: 1, roi: { xOffset: 0, yOffset: 0, width: 640, height: 480, doRectify: false } });
    expect(reducedCalibration(none)).toBe(none);
    // Integer division, as image_geometry's reducedResolution: a 321-wide ROI binned by 2 is 160.
    const odd = calibration({ binningX: 2, binningY: 2, roi: { xOffset: 0, yOffset: 0, width: 321, height: 241, doRectify: false } });
    expect([reducedCalibration(odd).width, reducedCalibration(odd).height]).toEqual([160, 120]);
  });

  it("back-projected points of the binned, cropped image equal the full image's at the same pixels", () => {
    // The same scene seen at full resolution and through the ROI + binning: image pixel (u, v) is
    // sensor pixel (100 + 2u, 60 + 2v).
    const fullIntr = intrinsicsFromCalibration(calibration());
    const reducedIntr = intrinsicsFromCalibration(cropped);
    const depthAt = (U: number, V: number) => 0.5 + 0.01 * U + 0.02 * V;
    const fullDepth = new Float32Array(640 * 480).map((_, i) => depthAt(i % 640, Math.floor(i / 640)));
    const reducedDepth = new Float32Array(160 * 120).map((_, i) => depthAt(100 + 2 * (i % 160), 60 + 2 * Math.floor(i / 160)));
    const opts = { decimation: 1, minRange: 0, maxRange: Infinity };
    const fullPoints = backProjectToXyz(fullDepth, fullIntr, opts).xyz;
    const reducedPoints = backProjectToXyz(reducedDepth, reducedIntr, opts).xyz;
    let worst = 0;
    for (let v = 0; v < 120; v++) {
      for (let u = 0; u < 160; u++) {
        const r = (v * 160 + u) * 3;
        const f = ((60 + 2 * v) * 640 + 100 + 2 * u) * 3;
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(reducedPoints[r + c]! - fullPoints[f + c]!));
      }
    }
    expect(worst).toBeLessThan(1e-6);
    // Corner numbers: image (0, 0) = sensor (100, 60): z = 0.5 + 1 + 1.2 = 2.7 m, x = (100 - 318.5)·2.7/480.
    expect(reducedPoints[0]).toBeCloseTo((-218.5 * 2.7) / 480, 6);
    expect(reducedPoints[1]).toBeCloseTo(((60 - 236.25) * 2.7) / 490, 6);
    expect(reducedPoints[2]).toBeCloseTo(2.7, 6);
  });

  it("checks the image against the ROI / binning size, and says so", () => {
    expect(() => checkCalibrationMatchesImage(cropped, 160, 120)).not.toThrow();
    expect(reasonOf(() => checkCalibrationMatchesImage(cropped, 640, 480))).toBe("camera_info_size_mismatch");
    expect(() => checkCalibrationMatchesImage(cropped, 640, 480)).toThrow(
      "camera_info is 640x480 (roi 320x240 at (100, 60), binning 2x2: an image of 160x120) but the image is 640x480",
    );
    // An unset size takes the image's, binned: fx still halves.
    const unsized = calibration({ width: 0, height: 0, binningX: 2, binningY: 2 });
    expect(() => checkCalibrationMatchesImage(unsized, 320, 240)).not.toThrow();
    expect(intrinsicsFromCalibration(unsized, 320, 240)).toMatchObject({ width: 320, height: 240, fx: 240, cx: 159.25 });
  });

  it("refuses a ROI outside the image or without area, naming it", () => {
    const outside = calibration({ roi: { xOffset: 400, yOffset: 0, width: 320, height: 240, doRectify: false } });
    expect(reasonOf(() => intrinsicsFromCalibration(outside))).toBe("invalid_camera_info");
    expect(() => intrinsicsFromCalibration(outside)).toThrow("roi 320x240 at (400, 0) extends past the 640x480 image");
    const flat = calibration({ roi: { xOffset: 10, yOffset: 10, width: 0, height: 0, doRectify: false } });
    expect(() => intrinsicsFromCalibration(flat)).toThrow("roi 0x0 at (10, 10) has no area");
  });

  it("scaleCalibration of a binned, cropped calibration scales the image it describes", () => {
    const scaled = scaleCalibration(cropped, 320, 240);
    expect(intrinsicsFromCalibration(scaled)).toEqual(scaleIntrinsics(intrinsicsFromCalibration(cropped), 320, 240));
  });
});

describe("scaleIntrinsics", () => {
  const intr: PinholeIntrinsics = { width: 640, height: 480, fx: 525.3, fy: 523.9, cx: 319.2, cy: 241.7 };
  const points: [number, number, number][] = [
    [0, 0, 1],
    [0.4, -0.3, 2.5],
    [-1.2, 0.8, 4],
    [2.0, 1.5, 3.3],
  ];
  const sizes: [number, number][] = [
    [320, 240],
    [1280, 960],
    [686, 518], // Depth Anything input: non-uniform (sx 1.0719, sy 1.0792)
    [518, 518], // stretched square
    [1920, 1080],
    [17, 9],
  ];

  for (const [w, h] of sizes) {
    it(`keeps 3-D points on the same pixel-centre position at ${w}x${h}`, () => {
      const s = scaleIntrinsics(intr, w, h);
      expect(s.width).toBe(w);
      expect(s.height).toBe(h);
      const sx = w / 640;
      const sy = h / 480;
      for (const [X, Y, Z] of points) {
        const [u, v] = project(intr, X, Y, Z);
        const [u2, v2] = project(s, X, Y, Z);
        // u' + 0.5 = (u + 0.5)·s
        expect(u2 + 0.5).toBeCloseTo((u + 0.5) * sx, 9);
        expect(v2 + 0.5).toBeCloseTo((v + 0.5) * sy, 9);
      }
    });
  }

  it("maps the image corners to the new corners", () => {
    const s = scaleIntrinsics({ width: 4, height: 2, fx: 1, fy: 1, cx: 1.5, cy: 0.5 }, 8, 6);
    // Centre of the 4x2 image (1.5, 0.5) is the centre of the 8x6 image (3.5, 2.5).
    expect(s.cx).toBe(3.5);
    expect(s.cy).toBe(2.5);
    expect(s.fx).toBe(2);
    expect(s.fy).toBe(3);
  });
});

describe("scaleCalibration", () => {
  it("scales K and P like scaleIntrinsics, including P's Tx term", () => {
    const cal = calibration();
    const scaled = scaleCalibration(cal, 686, 518);
    const sx = 686 / 640;
    const sy = 518 / 480;
    expect(scaled.width).toBe(686);
    expect(scaled.height).toBe(518);
    const kIntr = intrinsicsFromCalibration({ ...scaled, p: new Array(12).fill(0) });
    const expectedK = scaleIntrinsics(intrinsicsFromCalibration({ ...cal, p: new Array(12).fill(0) }), 686, 518);
    expect(kIntr.fx).toBeCloseTo(expectedK.fx, 9);
    expect(kIntr.cx).toBeCloseTo(expectedK.cx, 9);
    expect(kIntr.fy).toBeCloseTo(expectedK.fy, 9);
    expect(kIntr.cy).toBeCloseTo(expectedK.cy, 9);
    expect(scaled.p[3]).toBeCloseTo(-24 * sx, 9); // Tx = -fx·B scales with fx
    expect(scaled.p[7]).toBe(0);
    expect(scaled.p.slice(8)).toEqual([0, 0, 1, 0]);
    expect(scaled.k.slice(6)).toEqual([0, 0, 1]);
    expect(scaled.d).toEqual(cal.d);

    // A homogeneous point through P and through P' lands on corresponding pixel centres.
    const X = [0.7, -0.4, 3.1, 1];
    const proj = (p: readonly number[]): [number, number] => {
      const row = (r: number): number => p[4 * r]! * X[0]! + p[4 * r + 1]! * X[1]! + p[4 * r + 2]! * X[2]! + p[4 * r + 3]! * X[3]!;
      return [row(0) / row(2), row(1) / row(2)];
    };
    const [u, v] = proj(cal.p);
    const [u2, v2] = proj(scaled.p);
    expect(u2 + 0.5).toBeCloseTo((u + 0.5) * sx, 9);
    expect(v2 + 0.5).toBeCloseTo((v + 0.5) * sy, 9);
  });

  it("refuses a calibration of unknown size", () => {
    expect(reasonOf(() => scaleCalibration(calibration({ width: 0 }), 100, 100))).toBe("invalid_camera_info");
  });
});

describe("decimateIntrinsics", () => {
  it("projects points to u' = u / factor on the every-n-th-pixel grid", () => {
    const intr: PinholeIntrinsics = { width: 641, height: 480, fx: 525, fy: 520, cx: 320.5, cy: 239 };
    for (const f of [1, 2, 3, 4]) {
      const d = decimateIntrinsics(intr, f);
      expect(d.width).toBe(Math.ceil(641 / f));
      expect(d.height).toBe(Math.ceil(480 / f));
      const [u, v] = project(intr, 0.3, -0.2, 1.7);
      const [u2, v2] = project(d, 0.3, -0.2, 1.7);
      expect(u2 * f).toBeCloseTo(u, 9);
      expect(v2 * f).toBeCloseTo(v, 9);
    }
    expect(decimateIntrinsics(intr, 3)).toMatchObject({ width: 214, height: 160 });
    expect(() => decimateIntrinsics(intr, 0)).toThrow(RangeError);
    expect(() => decimateIntrinsics(intr, 1.5)).toThrow(RangeError);
  });
});
