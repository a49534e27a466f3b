// The live node where our package was never built with colcon: rclnodejs has no class for
// depthseg/msg/PerceptionStatus (its messages were generated without it, tests/support/rclnodejsPackages.ts).

import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { LiveNode } from "../src/transport/ros/liveNode.js";
import { PeerNode, endpointsOf, loadRealRclnodejs } from "./support/rclHarness.js";
import { cameraInfo, rgb8, stampAt, tempDir } from "./support/cameraBag.js";

const real = loadRealRclnodejs("no-depthseg");
let model: string;
beforeAll(async () => {
  model = await writeAnalyticBundle(join(await tempDir(), "analytic"));
});

it("runs without `status` when depthseg/msg/PerceptionStatus is not built, and says how to get it", async () => {
  const live = await LiveNode.start({ rcl: real.rcl, argv: ["node", "depthseg", "--ros-args", "-p", `model:=${model}`] });
  try {
    expect(Object.keys(endpointsOf(real, "publishers", "/depthseg"))).not.toContain("/status");
    expect(real.standIn.log.some((l) => l.severity === 30 && l.message.startsWith("/status is not published") && l.message.includes("colcon"))).toBe(true);
    const peer = new PeerNode(real, "camera_driver");
    const points = peer.record("sensor_msgs/msg/PointCloud2", "/points");
    const stamp = stampAt(0);
    peer.publish("sensor_msgs/msg/Image", "/image", rgb8(stamp, { width: 4, height: 2, data: new Uint8Array(24).fill(90) }));
    peer.publish("sensor_msgs/msg/CameraInfo", "/camera_info", cameraInfo(stamp, pinholeCalibration(4, 2, 10, 10, 1.5, 0.5)));
    const deadline = Date.now() + 10_000;
    while (points.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(points).toHaveLength(1);
  } finally {
    await live.shutdown("test done");
  }
});
