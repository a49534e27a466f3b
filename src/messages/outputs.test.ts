import { describe, expect, it } from "vitest";

import { decodeMessage, encodeMessage } from "./cdr.js";
import {
  depthImage,
  diagnosticArray,
  header,
  labelImage,
  labelInfo,
  perceptionStatus,
  pointCloud2,
  rgbImage,
  UNLABELLED_16UC1,
} from "./outputs.js";
import { samplePointCloud2 } from "./samples.js";

const HDR = header({ sec: 12, nanosec: 34 }, "cam_optical");

describe("depthImage", () => {
  it("wraps the Float32Array as 32FC1 bytes without copying and keeps NaN", () => {
    const depth = new Float32Array([1.5, Number.NaN, 3, 4, 5, 6]);
    const msg = depthImage(HDR, depth, 3, 2);
    expect(msg).toMatchObject({ encoding: "32FC1", width: 3, height: 2, step: 12, is_bigendian: 0, header: HDR });
    expect(msg.data.buffer).toBe(depth.buffer);
    const back = new Float32Array(msg.data.slice().buffer);
    expect(back[0]).toBe(1.5);
    expect(Number.isNaN(back[1])).toBe(true);
    expect(back[5]).toBe(6);
  });

  it("respects byteOffset of a subarray view", () => {
    const all = new Float32Array([9, 9, 1, 2, 3, 4]);
    const depth = all.subarray(2);
    const msg = depthImage(HDR, depth, 2, 2);
    expect(msg.data.byteOffset).toBe(8);
    expect(msg.data.length).toBe(16);
    expect(Array.from(new Float32Array(msg.data.slice().buffer))).toEqual([1, 2, 3, 4]);
    const decoded = decodeMessage("sensor_msgs/msg/Image", encodeMessage("sensor_msgs/msg/Image", msg));
    expect(Array.from(decoded.data)).toEqual(Array.from(msg.data));
  });

  it("survives a CDR round trip bit for bit, NaN included", () => {
    const depth = new Float32Array([Number.NaN, 0.5, 2, Number.POSITIVE_INFINITY]);
    const decoded = decodeMessage("sensor_msgs/msg/Image", encodeMessage("sensor_msgs/msg/Image", depthImage(HDR, depth, 2, 2)));
    const values = new DataView(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength);
    expect(Number.isNaN(values.getFloat32(0, true))).toBe(true);
    expect(values.getFloat32(4, true)).toBe(0.5);
    expect(values.getFloat32(12, true)).toBe(Number.POSITIVE_INFINITY);
  });

  it("rejects a size mismatch", () => {
    expect(() => depthImage(HDR, new Float32Array(5), 3, 2)).toThrow(/depth has 5 values, expected 3x2x1 = 6/);
  });
});

describe("rgbImage", () => {
  it("uses the buffer as rgb8 data", () => {
    const rgb = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const msg = rgbImage(HDR, rgb, 2, 1);
    expect(msg).toMatchObject({ encoding: "rgb8", step: 6, width: 2, height: 1 });
    expect(msg.data).toBe(rgb);
    expect(() => rgbImage(HDR, rgb, 3, 1)).toThrow(/rgb has 6 values/);
  });
});

describe("labelImage", () => {
  it("is mono8 with 255 = unlabelled when classCount <= 255", () => {
    const labels = new Uint16Array([0, 1, 254, 255, 300, 65535]);
    const msg = labelImage(HDR, labels, 3, 2, 255);
    expect(msg).toMatchObject({ encoding: "mono8", step: 3 });
    expect(Array.from(msg.data)).toEqual([0, 1, 254, 255, 255, 255]);
  });

  it("writes mono8 into `out` when it has the image's length (every byte), else into a new buffer", () => {
    const out = new Uint8Array(4).fill(77);
    const msg = labelImage(HDR, new Uint16Array([3, 0, 9, 1]), 2, 2, 5, out);
    expect(msg.data).toBe(out);
    expect(Array.from(out)).toEqual([3, 0, 255, 1]);
    const wrong = new Uint8Array(3);
    const fresh = labelImage(HDR, new Uint16Array([1, 1, 1, 1]), 2, 2, 5, wrong);
    expect(fresh.data).not.toBe(wrong);
    expect(Array.from(fresh.data)).toEqual([1, 1, 1, 1]);
  });

  it("maps ids >= classCount to unlabelled", () => {
    const msg = labelImage(HDR, new Uint16Array([0, 1, 2, 3]), 2, 2, 2);
    expect(Array.from(msg.data)).toEqual([0, 1, 255, 255]);
  });

  it("is 16UC1 little-endian with 65535 = unlabelled when classCount > 255", () => {
    const labels = new Uint16Array([0, 255, 256, 999, 1000, UNLABELLED_16UC1]);
    const msg = labelImage(HDR, labels, 3, 2, 1000);
    expect(msg).toMatchObject({ encoding: "16UC1", step: 6, is_bigendian: 0 });
    const view = new DataView(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
    const values = Array.from({ length: 6 }, (_, i) => view.getUint16(i * 2, true));
    expect(values).toEqual([0, 255, 256, 999, 65535, 65535]);
  });

  it("wraps clean 16-bit labels without copying and copies when remapping", () => {
    const clean = new Uint16Array([0, 300, UNLABELLED_16UC1, 5]);
    expect(labelImage(HDR, clean, 2, 2, 301).data.buffer).toBe(clean.buffer);
    const dirty = new Uint16Array([0, 300, 400, 5]);
    const msg = labelImage(HDR, dirty, 2, 2, 301);
    expect(msg.data.buffer).not.toBe(dirty.buffer);
    expect(dirty[2]).toBe(400); // input untouched
  });

  it("rejects an invalid class count or size", () => {
    expect(() => labelImage(HDR, new Uint16Array(4), 2, 2, 70000)).toThrow(/classCount/);
    expect(() => labelImage(HDR, new Uint16Array(3), 2, 2, 10)).toThrow(/labels has 3 values/);
  });
});

describe("pointCloud2", () => {
  const sample = samplePointCloud2();
  const layout = {
    width: sample.width,
    height: sample.height,
    pointStep: sample.point_step,
    rowStep: sample.row_step,
    fields: sample.fields,
    data: sample.data,
    isDense: false,
  };

  it("maps the layout field for field", () => {
    expect(pointCloud2(sample.header, layout)).toEqual(sample);
  });

  it("rejects inconsistent layouts", () => {
    expect(() => pointCloud2(HDR, { ...layout, rowStep: 10 })).toThrow(/row_step 10 < width 2 \* point_step 20/);
    expect(() => pointCloud2(HDR, { ...layout, data: new Uint8Array(39) })).toThrow(/data length 39 != row_step 40/);
    const wide = [...layout.fields, { name: "n", offset: 18, datatype: 7, count: 1 }];
    expect(() => pointCloud2(HDR, { ...layout, fields: wide })).toThrow(/field n .* does not fit point_step 20/);
    const odd = [{ name: "q", offset: 0, datatype: 42, count: 1 }];
    expect(() => pointCloud2(HDR, { ...layout, fields: odd })).toThrow(/unknown datatype 42/);
  });
});

describe("labelInfo", () => {
  it("builds the class map", () => {
    const msg = labelInfo(HDR, [{ id: 0, name: "floor" }, { id: 65535, name: "unlabeled" }], 0.25);
    expect(msg).toEqual({
      header: HDR,
      class_map: [
        { class_id: 0, class_name: "floor" },
        { class_id: 65535, class_name: "unlabeled" },
      ],
      threshold: 0.25,
    });
    expect(() => labelInfo(HDR, [{ id: 65536, name: "x" }], 0)).toThrow(/not a uint16/);
  });
});

describe("perceptionStatus", () => {
  it("fills latencies per stage with NaN for stages that did not run, counts as bigint", () => {
    const msg = perceptionStatus(HDR, {
      camera: "/cam/image",
      model: "m",
      trainedOn: "nyu-depth-v2",
      executionProvider: "cpu",
      depthKind: "relative_disparity",
      depthIsMetric: false,
      depthHead: "",
      depthScale: 2,
      depthShift: 0.5,
      depthValidFraction: 0.75,
      scale: { source: "depth_image", anchors: 300, inliers: 250, residual: 0.02, ageSec: 0 },
      timings: { decode: 1, inference: 10 },
      totalMs: 15,
      framesProcessed: 7,
      framesDropped: 2n,
      framesFailed: 0,
    });
    expect(msg).toEqual({
      header: HDR,
      camera: "/cam/image",
      model: "m",
      trained_on: "nyu-depth-v2",
      execution_provider: "cpu",
      depth_kind: "relative_disparity",
      depth_is_metric: false,
      depth_head: "",
      depth_scale: 2,
      depth_shift: 0.5,
      depth_valid_fraction: 0.75,
      scale_source: "depth_image",
      scale_anchors: 300,
      scale_inliers: 250,
      scale_residual: 0.02,
      scale_age: 0,
      latency_decode_ms: 1,
      latency_preprocess_ms: Number.NaN,
      latency_inference_ms: 10,
      latency_postprocess_ms: Number.NaN,
      latency_backproject_ms: Number.NaN,
      latency_encode_ms: Number.NaN,
      latency_total_ms: 15,
      frames_processed: 7n,
      frames_dropped: 2n,
      frames_failed: 0n,
    });
  });
});

describe("diagnosticArray", () => {
  it("maps levels and stringifies values in order", () => {
    const msg = diagnosticArray(HDR, [
      { level: "warn", name: "depthseg", message: "slow", values: { rate_hz: 9.5, dropped: 3n, gpu: true } },
      { level: "stale", name: "other", message: "", hardwareId: "hw" },
    ]);
    expect(msg).toEqual({
      header: HDR,
      status: [
        {
          level: 1,
          name: "depthseg",
          message: "slow",
          hardware_id: "",
          values: [
            { key: "rate_hz", value: "9.5" },
            { key: "dropped", value: "3" },
            { key: "gpu", value: "true" },
          ],
        },
        { level: 3, name: "other", message: "", hardware_id: "hw", values: [] },
      ],
    });
  });
});

describe("header", () => {
  it("copies the stamp", () => {
    const stamp = { sec: 1, nanosec: 2 };
    const hdr = header(stamp, "f");
    expect(hdr).toEqual({ stamp: { sec: 1, nanosec: 2 }, frame_id: "f" });
    expect(hdr.stamp).not.toBe(stamp);
  });
});
