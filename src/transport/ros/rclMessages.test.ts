import { describe, expect, it } from "vitest";
import type { RclMessage } from "./rclPort.js";
import { cameraInfoFromRcl, compressedImageFromRcl, imageFromRcl, withOwnedData } from "./rclMessages.js";

const header = { stamp: { sec: 7, nanosec: 5 }, frame_id: "cam" };

describe("rclnodejs messages in", () => {
  it("copies typed-array data, so a later message reusing rclnodejs's memory cannot change a waiting frame", () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const msg: RclMessage<"sensor_msgs/msg/Image"> = { header, height: 1, width: 2, encoding: "rgb8", is_bigendian: 0, step: 6, data };
    const image = imageFromRcl(msg);
    data.fill(0);
    expect(Array.from(image.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(image.header).toEqual(header);
    expect([image.width, image.height, image.step, image.encoding]).toEqual([2, 1, 6, "rgb8"]);
  });

  it("accepts plain number arrays (enableTypedArray off) and makes typed arrays of them", () => {
    const compressed = compressedImageFromRcl({ header, format: "jpeg", data: [255, 216, 255] });
    expect(compressed.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(compressed.data)).toEqual([255, 216, 255]);

    const k = [500, 0, 320, 0, 500, 240, 0, 0, 1];
    const info = cameraInfoFromRcl({
      header,
      height: 480,
      width: 640,
      distortion_model: "plumb_bob",
      d: [0.1, 0, 0, 0, 0],
      k,
      r: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]),
      p: [500, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0],
      binning_x: 0,
      binning_y: 0,
      roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
    });
    expect(info.k).toBeInstanceOf(Float64Array);
    expect(Array.from(info.k)).toEqual(k);
    expect(Array.from(info.d)).toEqual([0.1, 0, 0, 0, 0]);
    expect(info.p[2]).toBe(320);
  });
});

describe("withOwnedData: what rclnodejs serialises is the whole buffer of a typed array", () => {
  it("keeps a message whose data owns its ArrayBuffer, copies views and shared memory", () => {
    const owned = { encoding: "32FC1", data: new Uint8Array([1, 2, 3, 4]) };
    expect(withOwnedData(owned)).toBe(owned);

    // A view of the first 4 bytes of an 8-byte buffer (a slot grown for a larger camera).
    const larger = new Uint8Array([1, 2, 3, 4, 9, 9, 9, 9]);
    const view = { encoding: "32FC1", data: larger.subarray(0, 4) };
    const fixedView = withOwnedData(view);
    expect(Array.from(new Uint8Array(fixedView.data.buffer))).toEqual([1, 2, 3, 4]);
    expect(fixedView.encoding).toBe("32FC1");
    expect(Array.from(new Uint8Array(withOwnedData({ data: larger.subarray(2, 6) }).data.buffer))).toEqual([3, 4, 9, 9]);

    // SharedArrayBuffer memory (a shared inference slot) becomes a plain ArrayBuffer of its own.
    const shared = new Uint8Array(new SharedArrayBuffer(4));
    shared.set([5, 6, 7, 8]);
    const fixedShared = withOwnedData({ data: shared });
    expect(fixedShared.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(new Uint8Array(fixedShared.data.buffer))).toEqual([5, 6, 7, 8]);
    // Messages without byte data pass through.
    const status = { frames_processed: 3 };
    expect(withOwnedData(status)).toBe(status);
  });
});
