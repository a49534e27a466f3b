import { describe, expect, it } from "vitest";
import { FatalError } from "../errors.js";
import { borrowMat, cv, loadOpenCv, matToFloat32, matToUint16, matToUint8, OPENCV_MISSING_MESSAGE } from "./opencv.js";

describe("opencv bridge", () => {
  it("loads the binding (OpenCV 4.x)", () => {
    expect(cv().version.major).toBe(4);
    expect(cv()).toBe(cv());
  });

  it("explains how to fix a missing binding", () => {
    let err: unknown;
    try {
      loadOpenCv("@u4/opencv4nodejs-not-installed");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toContain(OPENCV_MISSING_MESSAGE);
    expect(OPENCV_MISSING_MESSAGE).toMatch(/libopencv-dev.*OPENCV4NODEJS_DISABLE_AUTOBUILD=1/);
  });

  it("borrows typed arrays without copying and copies out once", () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const mat = borrowMat(bytes, 1, 2, cv().CV_8UC3, 3);
    expect(matToUint8(mat)[5]).toBe(6);
    bytes[5] = 60; // visible through the Mat: it is the same memory
    expect(matToUint8(mat)[5]).toBe(60);
    expect(Array.from(matToUint8(mat))).toEqual([1, 2, 3, 4, 5, 60]);

    // A subarray view at an offset borrows the right bytes.
    const f = new Float32Array([9, 1.5, -2.25, 8]);
    expect(Array.from(matToFloat32(borrowMat(f.subarray(1, 3), 1, 2, cv().CV_32FC1, 1)))).toEqual([1.5, -2.25]);

    const u = new Uint16Array([0, 65535, 300, 7]);
    const out = new Uint16Array(4);
    expect(matToUint16(borrowMat(u, 2, 2, cv().CV_16UC1, 1), out)).toBe(out);
    expect(Array.from(out)).toEqual([0, 65535, 300, 7]);
  });

  it("refuses mismatched sizes and element types", () => {
    expect(() => borrowMat(new Uint8Array(5), 1, 2, cv().CV_8UC3, 3)).toThrow(RangeError);
    const mat = borrowMat(new Uint8Array(6), 1, 2, cv().CV_8UC3, 3);
    expect(() => matToFloat32(mat)).toThrow(/depth/);
    expect(() => matToUint8(mat, new Uint8Array(5))).toThrow(RangeError);
  });
});
