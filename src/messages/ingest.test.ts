import { resolveParameters } from "../config/parameters.js";
import { describe, expect, it } from "vitest";
import type { CameraCalibration } from "../frame.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { encodePng } from "../imaging/decode.js";
import { FrameDecoder, decodeFrame, unrectifiedDistortionWarning, type PendingImage } from "./ingest.js";
import { header } from "./outputs.js";

const W = 8;
const H = 6;

function pending(cameraTopic: string, seed = 0): PendingImage {
  const data = new Uint8Array(W * H * 3).map((_, i) => (i * 13 + seed) & 255);
  const stamp = { sec: 1, nanosec: seed };
  return {
    cameraTopic,
    stamp,
    frameId: "cam",
    image: {
      encoding: "raw",
      message: { header: header(stamp, "cam"), height: H, width: W, encoding: "rgb8", is_bigendian: 0, step: W * 3, data },
    },
    receivedAt: 0,
  };
}

const distorted: CameraCalibration = { ...pinholeCalibration(W, H, 7, 7, 3.5, 2.5), d: [-0.2, 0.05, 0, 0, 0] };
const rectified = pinholeCalibration(W, H, 7, 7, 3.5, 2.5);

describe("decodeFrame / FrameDecoder and distortion", () => {
  it("rectifies only when asked, and keeps the calibration and P intrinsics either way", () => {
    const raw = decodeFrame(pending("/a/image_raw"), distorted).frame;
    const rect = decodeFrame(pending("/a/image_raw"), distorted, { rectify: true }).frame;
    expect(Buffer.compare(raw.image.data, rect.image.data)).not.toBe(0);
    expect(rect.calibration).toBe(distorted);
    expect(rect.intrinsics).toEqual(raw.intrinsics);
    // Nothing to undistort: the decoded image itself.
    const plain = decodeFrame(pending("/a/image_raw"), rectified);
    expect(decodeFrame(pending("/a/image_raw"), rectified, { rectify: true }).frame.image.data).toEqual(plain.frame.image.data);
  });

  it("warns once per camera about a distorted CameraInfo without rectify, never otherwise", () => {
    const lines: string[] = [];
    const decoder = new FrameDecoder({ rectify: false, warn: (line) => lines.push(line) });
    for (let i = 0; i < 3; i++) {
      decoder.decode(pending("/a/image_raw", i), distorted);
      decoder.decode(pending("/b/image_rect", i), rectified);
    }
    decoder.decode(pending("/c/image_raw"), { ...distorted, distortionModel: "rational_polynomial" });
    expect(lines).toEqual([
      "/a/image_raw: CameraInfo has plumb_bob distortion but rectify is false: depth is back-projected with the pinhole P model; set rectify: true if this is a raw (unrectified) image",
      unrectifiedDistortionWarning("/c/image_raw", { ...distorted, distortionModel: "rational_polynomial" }),
    ]);
    expect(lines[1]).toContain("has rational_polynomial distortion");

    const quiet: string[] = [];
    const rectifying = new FrameDecoder({ rectify: true, warn: (line) => quiet.push(line) });
    rectifying.decode(pending("/a/image_raw"), distorted);
    expect(quiet).toEqual([]);
    expect(unrectifiedDistortionWarning("/b", rectified)).toBeUndefined();
  });

  it("rectify is on by default, and warns once when an image_rect topic with a distorted CameraInfo would be undistorted again", () => {
    expect(resolveParameters({}).rectify).toBe(true);
    const lines: string[] = [];
    const decoder = new FrameDecoder({ rectify: true, warn: (line) => lines.push(line) });
    for (let i = 0; i < 2; i++) {
      decoder.decode(pending("/cam/image_rect_color", i), distorted);
      decoder.decode(pending("/cam/image_raw", i), distorted);
      decoder.decode(pending("/other/image_rect", i), rectified);
    }
    expect(lines).toEqual([
      "/cam/image_rect_color: looks rectified already (image_rect) but rectify is true and its CameraInfo has distortion: the image is undistorted again; set rectify: false for rectified input",
    ]);
  });

  it("reports an unsupported distortion model as a FrameError naming topic and model", () => {
    expect(() => decodeFrame(pending("/a/image_raw"), { ...distorted, distortionModel: "fov" }, { rectify: true })).toThrow(
      /\/a\/image_raw @ stamp 1\.000000000: invalid_camera_info: cannot rectify distortion model "fov"/,
    );
  });
});

describe("decodeFrame and a CameraInfo of unset size", () => {
  it("takes the size from the image when CameraInfo width/height are 0 (unknown)", () => {
    const unsized: CameraCalibration = { ...rectified, width: 0, height: 0 };
    const { frame } = decodeFrame(pending("/a/image_rect"), unsized);
    expect(frame.intrinsics).toEqual({ width: W, height: H, fx: 7, fy: 7, cx: 3.5, cy: 2.5 });
    expect(frame.image.width).toBe(W);
  });
});

describe("decodeFrame and a binned, cropped CameraInfo", () => {
  // The 8x6 image is the 16x12 ROI at (4, 2) of a 24x18 sensor, binned 2x2.
  const sensor: CameraCalibration = { ...pinholeCalibration(24, 18, 14, 14, 11.5, 8.5), d: [-0.2, 0.05, 0, 0, 0] };
  const cropped: CameraCalibration = {
    ...sensor,
    binningX: 2,
    binningY: 2,
    roi: { xOffset: 4, yOffset: 2, width: 16, height: 12, doRectify: true },
  };

  it("accepts the image, keeps the CameraInfo, and back-projects with the reduced P, rectified or not", () => {
    for (const rectify of [false, true]) {
      const { frame } = decodeFrame(pending("/a/image_raw"), cropped, { rectify });
      expect(frame.calibration).toBe(cropped);
      // fx 14/2, cx (11.5 - 4)/2, cy (8.5 - 2)/2.
      expect(frame.intrinsics).toEqual({ width: W, height: H, fx: 7, fy: 7, cx: 3.75, cy: 3.25 });
      expect([frame.image.width, frame.image.height]).toEqual([W, H]);
    }
    const rect = decodeFrame(pending("/a/image_raw"), cropped, { rectify: true }).frame;
    const raw = decodeFrame(pending("/a/image_raw"), cropped).frame;
    expect(Buffer.compare(raw.image.data, rect.image.data)).not.toBe(0);
  });
});

describe("FrameDecoder.recycle", () => {
  function jpegPending(seed: number): PendingImage {
    const rgb = new Uint8Array(W * H * 3).map((_, i) => (i * 7 + seed * 40) & 255);
    const stamp = { sec: 2, nanosec: seed };
    return {
      cameraTopic: "/c",
      stamp,
      frameId: "cam",
      image: { encoding: "compressed", message: { header: header(stamp, "cam"), format: "png", data: encodePng({ width: W, height: H, data: rgb }) } },
      receivedAt: 0,
    };
  }

  it("decodes the next compressed image into a recycled frame's buffer, with that image's pixels", () => {
    const decoder = new FrameDecoder();
    const first = decoder.decode(jpegPending(1), rectified).frame;
    const firstPixels = first.image.data.slice();
    decoder.recycle(first);
    const second = decoder.decode(jpegPending(2), rectified).frame;
    expect(second.image.data).toBe(first.image.data);
    expect(Buffer.from(second.image.data).equals(Buffer.from(decodeFrame(jpegPending(2), rectified).frame.image.data))).toBe(true);
    expect(Buffer.from(second.image.data).equals(Buffer.from(firstPixels))).toBe(false);
    // Not recycled: a new buffer.
    expect(decoder.decode(jpegPending(3), rectified).frame.image.data).not.toBe(second.image.data);
  });

  it("keeps no view into a larger buffer, and ignores a buffer of another size", () => {
    const decoder = new FrameDecoder();
    const frame = decoder.decode(jpegPending(1), rectified).frame;
    const shared = new Uint8Array(2 * W * H * 3);
    decoder.recycle({ ...frame, image: { ...frame.image, data: shared.subarray(0, W * H * 3) } });
    expect(decoder.decode(jpegPending(2), rectified).frame.image.data.buffer).not.toBe(shared.buffer);
    const small = new Uint8Array(3);
    decoder.recycle({ ...frame, image: { ...frame.image, data: small } });
    const next = decoder.decode(jpegPending(2), rectified).frame.image.data;
    expect(next).not.toBe(small);
    expect(next.length).toBe(W * H * 3);
  });
});
