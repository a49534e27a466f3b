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
      /2 colour cameras with a CameraInfo.*Candidates: \/left\/image_raw\/compressed \[.*\], \/right\/image_raw\/compressed/,
    );
    expect(selectCameraTopics(topics, { imageTopic: "/right/image_raw/compressed", cameraInfoTopic: "" }, enc).cameraInfoTopic).toBe(
      "/right/camera_info",
    );
  });

  it("explains a missing or mistyped topic", () => {
    const topics: BagTopic[] = [{ topic: "/cam/color/image_raw", schemaName: IMAGE }];
    expect(() => selectCameraTopics(topics, none, enc)).toThrow(/no colour camera with a matching CameraInfo/);
    expect(() => selectCameraTopics(topics, { imageTopic: "/x", cameraInfoTopic: "" }, enc)).toThrow(/\/x is not in the bag/);
    expect(() =>
      selectCameraTopics(topics, { imageTopic: "/cam/color/image_raw", cameraInfoTopic: "/cam/color/image_raw" }, enc),
    ).toThrow(/has type sensor_msgs\/msg\/Image, expected sensor_msgs\/msg\/CameraInfo/);
  });
});
