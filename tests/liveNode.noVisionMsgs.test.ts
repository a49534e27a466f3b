// The live node on a robot without ros-$ROS_DISTRO-vision-msgs: rclnodejs generated no
// vision_msgs classes (tests/support/rclnodejsPackages.ts).

import { join } from "node:path";
import { expect, it } from "vitest";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { LiveNode } from "../src/transport/ros/liveNode.js";
import { loadRealRclnodejs } from "./support/rclHarness.js";
import { tempDir } from "./support/cameraBag.js";

const real = loadRealRclnodejs("no-vision-msgs");

it("refuses to start when vision_msgs is missing, naming the package to install, and shuts rcl down", async () => {
  const model = await writeAnalyticBundle(join(await tempDir(), "analytic"));
  await expect(LiveNode.start({ rcl: real.rcl, argv: ["node", "depthseg", "--ros-args", "-p", `model:=${model}`] })).rejects.toThrow(
    /cannot publish vision_msgs\/msg\/LabelInfo: .*\n.*ros-\$ROS_DISTRO-vision-msgs/,
  );
  expect(real.rcl.isShutdown()).toBe(true);
});
