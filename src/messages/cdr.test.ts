import { describe, expect, it } from "vitest";

import { FrameError } from "../errors.js";
import { CdrBufferPool, decodeMessage, encodeMessage, FrameCdrBuffers } from "./cdr.js";
import { ROS_TYPE_NAMES } from "./definitions.js";
import { sampleCameraInfo, sampleImage, sampleLabelInfo, sampleMessages } from "./samples.js";
import type { Image } from "./types.js";

describe("CDR codec", () => {
  const samples = sampleMessages();

  it.each(ROS_TYPE_NAMES)("round-trips every field of %s", (typeName) => {
    const message = samples[typeName];
    const bytes = encodeMessage(typeName, message);
    expect(bytes[1]).toBe(1); // CDR_LE encapsulation
    expect(decodeMessage(typeName, bytes)).toEqual(message);
  });

  it("decodes fixed and variable float64 arrays as Float64Array", () => {
    const info = decodeMessage("sensor_msgs/msg/CameraInfo", encodeMessage("sensor_msgs/msg/CameraInfo", sampleCameraInfo()));
    expect(info.k).toBeInstanceOf(Float64Array);
    expect(info.d).toBeInstanceOf(Float64Array);
    expect(Array.from(info.p)).toEqual([520.125, 0, 318.5, 0, 0, 519.875, 240.25, 0, 0, 0, 1, 0]);
  });

  it("decodes uint8[] as a view into the input bytes", () => {
    const bytes = encodeMessage("sensor_msgs/msg/Image", sampleImage());
    const image = decodeMessage("sensor_msgs/msg/Image", bytes);
    expect(image.data.buffer).toBe(bytes.buffer);
  });

  it("encodes a known wire layout for a tiny Image", () => {
    const bytes = encodeMessage("sensor_msgs/msg/Image", {
      header: { stamp: { sec: 1, nanosec: 2 }, frame_id: "a" },
      height: 1,
      width: 1,
      encoding: "mono8",
      is_bigendian: 0,
      step: 1,
      data: new Uint8Array([9]),
    });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getInt32(4, true)).toBe(1); // stamp.sec
    expect(view.getUint32(8, true)).toBe(2); // stamp.nanosec
    expect(view.getUint32(12, true)).toBe(2); // "a\0"
    expect(bytes[16]).toBe(0x61);
    expect(bytes[bytes.length - 1]).toBe(9);
  });

  it("throws FrameError bad_message naming the type for a truncated payload", () => {
    const bytes = encodeMessage("sensor_msgs/msg/CameraInfo", sampleCameraInfo());
    const cut = bytes.subarray(0, Math.floor(bytes.length / 2));
    let caught: unknown;
    try {
      decodeMessage<Image>("sensor_msgs/msg/CameraInfo", cut);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FrameError);
    expect((caught as FrameError).reason).toBe("bad_message");
    expect((caught as FrameError).message).toContain("sensor_msgs/msg/CameraInfo");
    expect((caught as FrameError).message).toContain(`${cut.length} bytes`);
  });

  it("throws for a payload shorter than the CDR header", () => {
    expect(() => decodeMessage("sensor_msgs/msg/Image", new Uint8Array([0, 1]))).toThrow(
      /cannot decode sensor_msgs\/msg\/Image from 2 bytes/,
    );
  });

  it("rejects unknown types on both sides", () => {
    expect(() => encodeMessage("std_msgs/msg/String", { data: "x" })).toThrow(/unknown ROS message type "std_msgs\/msg\/String"/);
    expect(() => decodeMessage("std_msgs/msg/String", new Uint8Array(8))).toThrow(/unknown ROS message type/);
  });

  it("round-trips non-ASCII UTF-8 strings (ROS 2 strings are UTF-8)", () => {
    const info = sampleLabelInfo();
    const message = {
      ...info,
      header: { ...info.header, frame_id: "caméra_optical" },
      class_map: [...info.class_map, { class_id: 7, class_name: "café" }],
    };
    expect(decodeMessage("vision_msgs/msg/LabelInfo", encodeMessage("vision_msgs/msg/LabelInfo", message))).toEqual(message);
  });

  it("rejects a fixed-size array of the wrong length", () => {
    const info = { ...sampleCameraInfo(), k: new Float64Array(8) };
    expect(() => encodeMessage("sensor_msgs/msg/CameraInfo", info)).toThrow(/9 items.*field k/);
  });
});

describe("FrameCdrBuffers and CdrBufferPool", () => {
  it("encode each slot into one buffer frame after frame, grown when a message is larger", () => {
    const buffers = new FrameCdrBuffers();
    const small = { ...sampleImage(), data: new Uint8Array(12).fill(1) };
    const large = { ...sampleImage(), data: new Uint8Array(4000).fill(2) };
    const first = buffers.encode(0, "sensor_msgs/msg/Image", large);
    const second = buffers.encode(0, "sensor_msgs/msg/Image", large);
    expect(second.buffer).toBe(first.buffer);
    expect(Buffer.from(second).equals(Buffer.from(encodeMessage("sensor_msgs/msg/Image", large)))).toBe(true);
    // A smaller message reuses the start of the same buffer and decodes to itself.
    const shrunk = buffers.encode(0, "sensor_msgs/msg/Image", small);
    expect(shrunk.buffer).toBe(first.buffer);
    expect(shrunk.length).toBe(encodeMessage("sensor_msgs/msg/Image", small).length);
    expect(decodeMessage("sensor_msgs/msg/Image", shrunk)).toEqual(small);
    // Another slot has its own buffer: slot 0's bytes stay as they were.
    const other = buffers.encode(1, "sensor_msgs/msg/Image", large);
    expect(other.buffer).not.toBe(first.buffer);
    expect(decodeMessage("sensor_msgs/msg/Image", shrunk)).toEqual(small);
  });

  it("hands a given-back set to the next frame and keeps at most maxFree", () => {
    const pool = new CdrBufferPool(1);
    const a = pool.take();
    const b = pool.take();
    expect(b).not.toBe(a);
    pool.give(a);
    pool.give(b); // over the cap: left to the garbage collector
    expect(pool.take()).toBe(a);
    expect(pool.take()).not.toBe(b);
  });
});
