import { describe, expect, it } from "vitest";
import { selectCameraTopics, type BagTopic } from "./cameraTopics.js";

const IMAGE = "sensor_msgs/msg/Image";
const JPEG = "sensor_msgs/msg/CompressedImage";
const INFO = "sensor_msgs/msg/CameraInfo";
const none = { imageTopic: "", cameraInfoTopic: "" };

describe("selectCameraTopics", () => {
  const encodings: Record<string, string> = {
    "/cam/color/image_raw": "rgb8",
    "/cam/depth/image": "32FC1",
    "/cam/labels": "mono8",
  };
  const enc = (t: string) => encodings[t];

  it("finds the one colour camera, ignoring depth and label images", () => {
    const topics: BagTopic[] = [
      { topic: "/cam/color/image_raw", schemaName: IMAGE },
      { topic: "/cam/color/camera_info", schemaName: INFO },
      { topic: "/cam/depth/image", schemaName: IMAGE },
      { topic: "/cam/labels", schemaName: IMAGE },
    ];
    expect(selectCameraTopics(topics, none, enc)).toEqual({
      imageTopic: "/cam/color/image_raw",
      imageEncoding: "raw",
      cameraInfoTopic: "/cam/color/camera_info",
    });
  });

  it("pairs a compressed topic with the camera_info beside its base topic", () => {
    const topics: BagTopic[] = [
      { topic: "/a/image_raw/compressed", schemaName: JPEG },
      { topic: "/a/camera_info", schemaName: INFO },
      { topic: "/b/camera_info", schemaName: INFO },
    ];
    expect(selectCameraTopics(topics, none, enc)).toMatchObject({
      imageTopic: "/a/image_raw/compressed",
      imageEncoding: "compressed",
      cameraInfoTopic: "/a/camera_info",
    });
  });

  it("lists the candidates when ambiguous", () => {
    const topics: BagTopic[] = [
      { topic: "/left/image_raw/compressed", schemaName: JPEG },
      { topic: "/left/camera_info", schemaName: INFO },
      { topic: "/right/image_raw/compressed", schemaName: JPEG },
      { topic: "/right/camera_info", schemaName: INFO },
    ];
    expect(() => selectCameraTopics(topics, none, enc)).toThrow(
      /2 cameras with a CameraInfo \(\/left\/image_raw, \/right\/image_raw\).*Candidates: \/left\/image_raw\/compressed \[.*\], \/right\/image_raw\/compressed/,
    );
    expect(selectCameraTopics(topics, { imageTopic: "/right/image_raw/compressed", cameraInfoTopic: "" }, enc).cameraInfoTopic).toBe(
      "/right/camera_info",
    );
  });

  it("explains a missing or mistyped topic", () => {
    const topics: BagTopic[] = [{ topic: "/cam/color/image_raw", schemaName: IMAGE }];
    expect(() => selectCameraTopics(topics, none, enc)).toThrow(/no camera with a matching CameraInfo/);
    expect(() => selectCameraTopics(topics, { imageTopic: "/x", cameraInfoTopic: "" }, enc)).toThrow(/\/x is not in the bag/);
    expect(() =>
      selectCameraTopics(topics, { imageTopic: "/cam/color/image_raw", cameraInfoTopic: "/cam/color/image_raw" }, enc),
    ).toThrow(/has type sensor_msgs\/msg\/Image, expected sensor_msgs\/msg\/CameraInfo/);
  });

  // The most common recording: a RealSense / usb_cam bag with both transports of one camera.
  const realsense: BagTopic[] = [
    { topic: "/camera/color/image_raw", schemaName: IMAGE },
    { topic: "/camera/color/image_raw/compressed", schemaName: JPEG },
    { topic: "/camera/color/camera_info", schemaName: INFO },
    { topic: "/camera/depth/image_rect_raw", schemaName: IMAGE },
    { topic: "/camera/depth/camera_info", schemaName: INFO },
  ];
  const realsenseEncodings: Record<string, string> = { "/camera/color/image_raw": "rgb8", "/camera/depth/image_rect_raw": "16UC1" };

  it("raw and compressed streams of one camera are one camera: raw is chosen", () => {
    expect(selectCameraTopics(realsense, none, (t) => realsenseEncodings[t])).toEqual({
      imageTopic: "/camera/color/image_raw",
      imageEncoding: "raw",
      cameraInfoTopic: "/camera/color/camera_info",
    });
    // Listed the other way round: still raw.
    expect(selectCameraTopics([...realsense].reverse(), none, (t) => realsenseEncodings[t]).imageTopic).toBe("/camera/color/image_raw");
  });

  it("a compressed stream whose raw sibling is not a colour image (undecodable first message) is used", () => {
    expect(selectCameraTopics(realsense, none, () => undefined)).toMatchObject({
      imageTopic: "/camera/color/image_raw/compressed",
      imageEncoding: "compressed",
    });
  });

  it("two cameras, each with raw and compressed streams, are two candidates (all four streams listed)", () => {
    const topics: BagTopic[] = ["/left", "/right"].flatMap((cam) => [
      { topic: `${cam}/image_raw`, schemaName: IMAGE },
      { topic: `${cam}/image_raw/compressed`, schemaName: JPEG },
      { topic: `${cam}/camera_info`, schemaName: INFO },
    ]);
    const err = (() => {
      try {
        selectCameraTopics(topics, none, () => "bgr8");
      } catch (error) {
        return (error as Error).message;
      }
      return "";
    })();
    expect(err).toMatch(/the bag has 2 cameras with a CameraInfo \(\/left\/image_raw, \/right\/image_raw\)/);
    expect(err.match(/\[sensor_msgs/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it("mono8 is a camera when its own camera_info is beside it", () => {
    const topics: BagTopic[] = [
      { topic: "/mono/image_raw", schemaName: IMAGE },
      { topic: "/mono/camera_info", schemaName: INFO },
    ];
    expect(selectCameraTopics(topics, none, () => "mono8")).toEqual({
      imageTopic: "/mono/image_raw",
      imageEncoding: "raw",
      cameraInfoTopic: "/mono/camera_info",
    });
  });
});
