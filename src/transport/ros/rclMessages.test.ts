import { describe, expect, it } from "vitest";
import type { RclMessage } from "./rclPort.js";
import { cameraInfoFromRcl, compressedImageFromRcl, imageFromRcl } from "./rclMessages.js";

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
