import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { describe, expect, it } from "vitest";

import { CdrMessageWriter } from "./cdrWriter.js";
import { ROS_TYPE_NAMES, rosTypeSchema } from "./definitions.js";
import { sampleCameraInfo, sampleHeader, sampleLabelInfo, sampleMessages } from "./samples.js";

const definitionsOf = (typeName: string) => [...rosTypeSchema(typeName).definitions];

describe("CdrMessageWriter", () => {
  const samples = sampleMessages();

  it.each(ROS_TYPE_NAMES)("writes %s byte for byte as @foxglove/rosmsg2-serialization does (ASCII strings)", (typeName) => {
    const definitions = definitionsOf(typeName);
    const ours = new CdrMessageWriter(definitions).writeMessage(samples[typeName]);
    const theirs = new MessageWriter(definitions).writeMessage(samples[typeName]);
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  });

  it.each(ROS_TYPE_NAMES)("writes %s into a reused dirty buffer with the same bytes as a fresh one, padding zeroed", (typeName) => {
    const writer = new CdrMessageWriter(definitionsOf(typeName));
    const fresh = writer.writeMessage(samples[typeName]);
    const into = new Uint8Array(fresh.length + 7).fill(0xee);
    const reused = writer.writeMessage(samples[typeName], into);
    expect(reused.buffer).toBe(into.buffer);
    expect(reused.byteOffset).toBe(0);
    expect(Buffer.from(reused).equals(Buffer.from(fresh))).toBe(true);
    // Too small: fresh bytes, the buffer is left alone.
    const small = new Uint8Array(fresh.length - 1).fill(0xee);
    const grown = writer.writeMessage(samples[typeName], small);
    expect(grown.buffer).not.toBe(small.buffer);
    expect(Buffer.from(grown).equals(Buffer.from(fresh))).toBe(true);
    expect(small.every((b) => b === 0xee)).toBe(true);
  });

  it("writes CameraInfo with an empty D as the reference writer does (no padding for empty arrays)", () => {
    const definitions = definitionsOf("sensor_msgs/msg/CameraInfo");
    const info = { ...sampleCameraInfo(), distortion_model: "", d: new Float64Array(0) };
    const ours = new CdrMessageWriter(definitions).writeMessage(info);
    expect(Buffer.from(ours).equals(Buffer.from(new MessageWriter(definitions).writeMessage(info)))).toBe(true);
  });

  it("gives a UTF-8 string its byte length: 'caméra_optical' is 15 bytes + NUL", () => {
    const definitions = definitionsOf("sensor_msgs/msg/CompressedImage");
    const message = { header: sampleHeader(3, 4, "caméra_optical"), format: "jpeg", data: new Uint8Array([7]) };
    const bytes = new CdrMessageWriter(definitions).writeMessage(message);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint32(12, true)).toBe(16);
    expect(Buffer.from(bytes.subarray(16, 31)).toString("utf8")).toBe("caméra_optical");
    expect(bytes[31]).toBe(0);
    expect(new MessageReader(definitions).readMessage(bytes)).toEqual(message);
  });

  it("round-trips 2-, 3- and 4-byte UTF-8 (surrogate pairs) in strings and string arrays", () => {
    const definitions = definitionsOf("vision_msgs/msg/LabelInfo");
    const info = sampleLabelInfo();
    const message = {
      ...info,
      header: sampleHeader(1, 2, "kamera_ü"),
      class_map: [...info.class_map, { class_id: 7, class_name: "café" }, { class_id: 8, class_name: "信号機" }, { class_id: 9, class_name: "🚗car" }],
    };
    const bytes = new CdrMessageWriter(definitions).writeMessage(message);
    expect(new MessageReader(definitions).readMessage(bytes)).toEqual(message);
  });

  // The reason cdrWriter.ts exists. When a release of @foxglove/cdr and rosmsg2-serialization
  // fixes it (foxglove/cdr#35), this fails: then MessageWriter can be used again.
  it("the installed upstream writer still truncates multi-byte UTF-8", () => {
    const definitions = definitionsOf("sensor_msgs/msg/CompressedImage");
    const message = { header: sampleHeader(3, 4, "caméra_optical"), format: "jpeg", data: new Uint8Array([7]) };
    const theirs = new MessageWriter(definitions).writeMessage(message);
    const view = new DataView(theirs.buffer, theirs.byteOffset, theirs.byteLength);
    expect(view.getUint32(12, true)).toBe(15);
  });

  it("refuses a fixed-size array of the wrong length, naming the field", () => {
    const writer = new CdrMessageWriter(definitionsOf("sensor_msgs/msg/CameraInfo"));
    expect(() => writer.writeMessage({ ...sampleCameraInfo(), k: new Float64Array(8) })).toThrow(/9 items.*field k/);
  });
});
