// The README's install order on a robot: `npm ci` (rclnodejs generates its message classes for
// what is installed then, which is not yet depthseg/msg/PerceptionStatus), then `colcon build` and
// `source install/setup.bash`. The node must publish `status` without a manual generation step:
// rclnodejs's interface loader generates a class it lacks from the sourced prefixes.

import { join } from "node:path";
import { expect, it } from "vitest";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { LiveNode } from "../src/transport/ros/liveNode.js";
import type { RclMessage } from "../src/transport/ros/rclPort.js";
import { PeerNode, endpointsOf, loadRealRclnodejs } from "./support/rclHarness.js";
import { amentPrefixes, withDepthsegInstalled } from "./support/rclnodejsPackages.js";
import { cameraInfo, rgb8, stampAt, tempDir } from "./support/cameraBag.js";

const real = loadRealRclnodejs("before-colcon");

it("publishes status once our package is built and sourced, after npm ci generated the other messages", async () => {
  // `source install/setup.bash`: our prefix in front of ROS's.
  process.env["AMENT_PREFIX_PATH"] = withDepthsegInstalled(amentPrefixes("before-colcon")).join(":");
  const model = await writeAnalyticBundle(join(await tempDir(), "analytic"));
  const live = await LiveNode.start({ rcl: real.rcl, argv: ["node", "depthseg", "--ros-args", "-p", `model:=${model}`] });
  try {
    expect(Object.keys(endpointsOf(real, "publishers", "/depthseg"))).toContain("/status");
    const peer = new PeerNode(real, "camera_driver");
    const status = peer.record<RclMessage<"depthseg/msg/PerceptionStatus">>("depthseg/msg/PerceptionStatus", "/status");
    const stamp = stampAt(0);
    peer.publish("sensor_msgs/msg/Image", "/image", rgb8(stamp, { width: 4, height: 2, data: new Uint8Array(24).fill(90) }));
    peer.publish("sensor_msgs/msg/CameraInfo", "/camera_info", cameraInfo(stamp, pinholeCalibration(4, 2, 10, 10, 1.5, 0.5)));
    const deadline = Date.now() + 10_000;
    while (status.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(status.map((s) => [s.model, Number(s.frames_processed)])).toEqual([["analytic", 1]]);
  } finally {
    await live.shutdown("test done");
  }
});
