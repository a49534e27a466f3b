import { describe, expect, it } from "vitest";

import { FrameError, type FrameFailureReason } from "../errors.js";
import { calibrationToCameraInfo, cameraInfoToCalibration, imageToRgb, SUPPORTED_IMAGE_ENCODINGS } from "./camera.js";
import { sampleCameraInfo, sampleHeader } from "./samples.js";
import type { Image } from "./types.js";

function image(encoding: string, width: number, height: number, step: number, data: number[]): Image {
  return { header: sampleHeader(), height, width, encoding, is_bigendian: 0, step, data: Uint8Array.from(data) };
}

function reasonOf(run: () => unknown): { reason: FrameFailureReason; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof FrameError) return { reason: error.reason, message: error.message };
    throw error;
  }
  throw new Error("expected a FrameError");
}

describe("imageToRgb", () => {
  it("copies rgb8 unchanged into its own buffer", () => {
    const msg = image("rgb8", 2, 1, 6, [1, 2, 3, 4, 5, 6]);
    const out = imageToRgb(msg);
    expect(Array.from(out.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.data.buffer).not.toBe(msg.data.buffer);
    expect([out.width, out.height]).toEqual([2, 1]);
  });

  it("swaps bgr8 to rgb per pixel", () => {
    const out = imageToRgb(image("bgr8", 2, 1, 6, [10, 20, 30, 40, 50, 60]));
    expect(Array.from(out.data)).toEqual([30, 20, 10, 60, 50, 40]);
  });

  it("treats 8UC3 as bgr8 and 8UC1 as mono8", () => {
    expect(Array.from(imageToRgb(image("8UC3", 1, 1, 3, [1, 2, 3])).data)).toEqual([3, 2, 1]);
    expect(Array.from(imageToRgb(image("8UC1", 1, 1, 1, [7])).data)).toEqual([7, 7, 7]);
  });

  it("drops alpha from rgba8 and bgra8", () => {
    expect(Array.from(imageToRgb(image("rgba8", 2, 1, 8, [1, 2, 3, 255, 4, 5, 6, 0])).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(imageToRgb(image("bgra8", 2, 1, 8, [1, 2, 3, 255, 4, 5, 6, 0])).data)).toEqual([3, 2, 1, 6, 5, 4]);
  });

  it("replicates mono8 into R=G=B", () => {
    const out = imageToRgb(image("mono8", 3, 1, 3, [0, 128, 255]));
    expect(Array.from(out.data)).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255]);
  });

  it("skips row padding (step > width * channels)", () => {
    // 2x2 bgr8, step 8: two padding bytes (99) per row.
    const out = imageToRgb(image("bgr8", 2, 2, 8, [1, 2, 3, 4, 5, 6, 99, 99, 7, 8, 9, 10, 11, 12, 99, 99]));
    expect(Array.from(out.data)).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
    const mono = imageToRgb(image("mono8", 1, 2, 4, [5, 99, 99, 99, 6, 99, 99, 99]));
    expect(Array.from(mono.data)).toEqual([5, 5, 5, 6, 6, 6]);
    const rgb = imageToRgb(image("rgb8", 1, 2, 4, [1, 2, 3, 99, 4, 5, 6, 99]));
    expect(Array.from(rgb.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("ignores is_bigendian for 8-bit data", () => {
    const msg = { ...image("bgr8", 1, 1, 3, [1, 2, 3]), is_bigendian: 1 };
    expect(Array.from(imageToRgb(msg).data)).toEqual([3, 2, 1]);
  });

  it("reports empty_image for zero width or height", () => {
    expect(reasonOf(() => imageToRgb(image("rgb8", 0, 4, 0, [])))).toMatchObject({ reason: "empty_image" });
    expect(reasonOf(() => imageToRgb(image("rgb8", 4, 0, 12, [])))).toMatchObject({ reason: "empty_image" });
  });

  it("reports image_size_mismatch with the numbers", () => {
    const shortStep = reasonOf(() => imageToRgb(image("rgb8", 4, 1, 10, new Array<number>(10).fill(0))));
    expect(shortStep.reason).toBe("image_size_mismatch");
    expect(shortStep.message).toContain("step 10 < width 4 * 3 channels = 12");
    const shortData = reasonOf(() => imageToRgb(image("rgb8", 2, 2, 6, new Array<number>(11).fill(0))));
    expect(shortData.reason).toBe("image_size_mismatch");
    expect(shortData.message).toContain("step 6 * height 2 = 12 != data length 11");
  });

  it("reports unknown_encoding listing the supported ones", () => {
    const result = reasonOf(() => imageToRgb(image("yuv422", 2, 1, 4, [0, 0, 0, 0])));
    expect(result.reason).toBe("unknown_encoding");
    expect(result.message).toContain('"yuv422"');
    for (const encoding of SUPPORTED_IMAGE_ENCODINGS) expect(result.message).toContain(encoding);
  });
});

describe("camera calibration mapping", () => {
  it("maps every CameraInfo field and back", () => {
    const msg = sampleCameraInfo();
    const cal = cameraInfoToCalibration(msg);
    expect(cal).toEqual({
      width: 640,
      height: 480,
      distortionModel: "plumb_bob",
      d: [-0.28, 0.07, 0.0001, -0.0002, 0],
      k: [525.5, 0, 319.75, 0, 524.25, 239.5, 0, 0, 1],
      r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      p: [520.125, 0, 318.5, 0, 0, 519.875, 240.25, 0, 0, 0, 1, 0],
      binningX: 1,
      binningY: 2,
      roi: { xOffset: 10, yOffset: 20, height: 400, width: 600, doRectify: true },
    });
    expect(calibrationToCameraInfo(msg.header, cal)).toEqual(msg);
  });

  it("uses the given header", () => {
    const hdr = sampleHeader(9, 8, "depth_optical");
    expect(calibrationToCameraInfo(hdr, cameraInfoToCalibration(sampleCameraInfo())).header).toEqual(hdr);
  });

  it("refuses matrices of the wrong size", () => {
    const cal = { ...cameraInfoToCalibration(sampleCameraInfo()), p: [1, 2, 3] };
    expect(() => calibrationToCameraInfo(sampleHeader(), cal)).toThrow(/p has 3 entries, CameraInfo needs 12/);
  });
});
