// Scale recovery in the live node, through rclnodejs 2.2.0's own JavaScript with only its native
// addon replaced (as tests/liveNode.contract.test.ts): a relative (disparity) analytic model
// whose true affine is known, a LiDAR-like cloud in its own frame placed with a latched
// /tf_static published before the node started, and a holey depth camera on scale.topic. The
// node's status must say the depth is metric, with the scale and shift of the truth.

import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RgbImage, Stamp } from "../src/frame.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { startInferenceWorker } from "../src/inference/inferenceWorker.js";
import { ANALYTIC_DISPARITY_OFFSET, ANALYTIC_DISPARITY_SCALE } from "../tools/onnx/builders.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { header } from "../src/messages/outputs.js";
import type { Image, TFMessage } from "../src/messages/types.js";
import { LiveNode } from "../src/transport/ros/liveNode.js";
import type { RclMessage } from "../src/transport/ros/rclPort.js";
import { toRclMessage } from "../src/transport/ros/rclMessages.js";
import { PeerNode, endpointsOf, loadRealRclnodejs } from "./support/rclHarness.js";
import { FRAME_ID, cameraInfo, rgb8, stampAt, tempDir } from "./support/cameraBag.js";
import { BASE_FRAME, GROUND_FRAME, CAMERA_IN_BASE, LIDAR_FRAME, LIDAR_IN_BASE, OPTICAL_IN_BASE_ROTATION, lidarCloud } from "./support/scaleBags.js";

const W = 32;
const H = 24;
const FX = 30;
const FY = 30;
const CX = 15.5;
const CY = 11.5;
/** The truth the node does not know: 1/z = TRUE_SCALE·raw + TRUE_SHIFT. */
const TRUE_SCALE = 0.1;
const TRUE_SHIFT = 0.05;
/** Relative error allowed on the recovered scale and on the metres (exact anchors, float32 messages). */
const TOLERANCE = 1e-3;

const real = loadRealRclnodejs("full");
let modelDir: string;
const running: LiveNode[] = [];
const peers: PeerNode[] = [];

beforeAll(async () => {
  // Input size = camera size: the model's output pixels are the camera's.
  modelDir = await writeAnalyticBundle(join(await tempDir(), "analytic-relative"), { relative: true, size: [H, W] });
});

afterEach(async () => {
  for (const live of running.splice(0)) await live.shutdown("test done");
  for (const peer of peers.splice(0)) peer.destroy();
  real.standIn.events.length = 0;
  real.standIn.log.length = 0;
});

/** Red varies over the image (so does depth): R = 20 + (7·i mod 220). */
function testImage(): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    data[3 * i] = 20 + ((7 * i) % 220);
    data[3 * i + 1] = 30;
    data[3 * i + 2] = 40;
  }
  return { width: W, height: H, data };
}

/** The true metres of pixel i (the analytic model's raw output, then the true affine). */
function trueDepth(image: RgbImage): Float64Array {
  return Float64Array.from({ length: W * H }, (_, i) => {
    const raw = ANALYTIC_DISPARITY_SCALE * (image.data[3 * i]! / 255) + ANALYTIC_DISPARITY_OFFSET;
    return 1 / (TRUE_SCALE * raw + TRUE_SHIFT);
  });
}

/** Every pixel's true point, optical frame → base_link → lidar (lidar axes are base_link's). */
function lidarPoints(truth: Float64Array): number[] {
  const points: number[] = [];
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      const z = truth[v * W + u]!;
      const x = ((u - CX) / FX) * z, y = ((v - CY) / FY) * z;
      points.push(z + CAMERA_IN_BASE[0] - LIDAR_IN_BASE[0], -x + CAMERA_IN_BASE[1] - LIDAR_IN_BASE[1], -y + CAMERA_IN_BASE[2] - LIDAR_IN_BASE[2]);
    }
  }
  return points;
}

/** What robot_state_publisher latches on /tf_static: base_link → camera optical frame, base_link → lidar. */
function staticTransforms(stamp: Stamp): TFMessage {
  const [qx, qy, qz, qw] = OPTICAL_IN_BASE_ROTATION;
  return {
    transforms: [
      {
        header: header(stamp, BASE_FRAME),
        child_frame_id: FRAME_ID,
        transform: { translation: { x: CAMERA_IN_BASE[0], y: CAMERA_IN_BASE[1], z: CAMERA_IN_BASE[2] }, rotation: { x: qx, y: qy, z: qz, w: qw } },
      },
      {
        header: header(stamp, BASE_FRAME),
        child_frame_id: LIDAR_FRAME,
        transform: { translation: { x: LIDAR_IN_BASE[0], y: LIDAR_IN_BASE[1], z: LIDAR_IN_BASE[2] }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
      },
    ],
  };
}

/** 32FC1 metres with every third pixel missing (NaN), registered to the camera. */
function holeyDepth(stamp: Stamp, truth: Float64Array): Image {
  const metres = Float32Array.from(truth, (z, i) => (i % 3 === 0 ? NaN : z));
  return { header: header(stamp, FRAME_ID), height: H, width: W, encoding: "32FC1", is_bigendian: 0, step: W * 4, data: new Uint8Array(metres.buffer) };
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Starts the node; `beforeSubscribing` runs once rcl is up, before the node creates its subscriptions. */
async function start(rosArgs: readonly string[], beforeSubscribing?: () => void): Promise<PeerNode> {
  const live = await LiveNode.start({
    rcl: real.rcl,
    argv: ["node", "depthseg", "--ros-args", "-p", `model:=${modelDir}`, "-p", "scale.min_inliers:=20", ...rosArgs],
    // The worker starts after rcl.init and before the node subscribes: the one moment another
    // node can publish before depthseg listens.
    ...(beforeSubscribing
      ? {
          startWorker: (bundle, params, log) => {
            beforeSubscribing();
            return startInferenceWorker(bundle, params, log);
          },
        }
      : {}),
  });
  running.push(live);
  const peer = new PeerNode(real, "camera_driver");
  peers.push(peer);
  return peer;
}

type Status = RclMessage<"depthseg/msg/PerceptionStatus">;

/** Sends `frames` frames (image, camera_info and `anchors` with the same stamp); returns status and depth as received. */
async function sendFrames(
  peer: PeerNode,
  frames: number,
  anchors: (stamp: Stamp) => void,
  image: RgbImage = testImage(),
): Promise<{ status: Status[]; depth: Float32Array[] }> {
  const status = peer.record<Status>("depthseg/msg/PerceptionStatus", "/status");
  const depthImages = peer.record<RclMessage<"sensor_msgs/msg/Image">>("sensor_msgs/msg/Image", "/depth/image");
  const calibration = pinholeCalibration(W, H, FX, FY, CX, CY);
  for (let i = 0; i < frames; i++) {
    const stamp = stampAt(i);
    // Anchors first: a frame waits for its anchors only a little while.
    anchors(stamp);
    peer.publish("sensor_msgs/msg/Image", "/image", toRclMessage<"sensor_msgs/msg/Image">(rgb8(stamp, image)));
    peer.publish("sensor_msgs/msg/CameraInfo", "/camera_info", toRclMessage<"sensor_msgs/msg/CameraInfo">(cameraInfo(stamp, calibration)));
    await until(() => status.length === i + 1 && depthImages.length === i + 1, `status of frame ${i}`);
  }
  const depth = depthImages.map((d) => {
    const bytes = Uint8Array.from(d.data as Uint8Array);
    return new Float32Array(bytes.buffer);
  });
  return { status, depth };
}

function worstRelativeError(depth: Float32Array, truth: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < truth.length; i++) worst = Math.max(worst, Math.abs(depth[i]! - truth[i]!) / truth[i]!);
  return worst;
}

describe("live node: scale.source points with /tf_static", () => {
  it("reads the latched /tf_static as tf2_ros's static listener does and gets metric depth from a LiDAR cloud in its own frame", async () => {
    // robot_state_publisher latched the transforms before depthseg subscribed to /tf_static.
    const latchTransforms = () => {
      const robot = new PeerNode(real, "robot_state_publisher");
      peers.push(robot);
      robot.publish("tf2_msgs/msg/TFMessage", "/tf_static", toRclMessage<"tf2_msgs/msg/TFMessage">(staticTransforms(stampAt(0))), { latched: true });
    };
    // scale.extrinsics given too (and wrong): /tf_static wins, and the log says so.
    const peer = await start(["-p", "scale.source:=points", "-p", "scale.topic:=/lidar/points", "-p", "scale.extrinsics.z:=5.0"], latchTransforms);
    expect(endpointsOf(real, "subscriptions", "/depthseg")["/tf_static"]).toEqual({ type: "tf2_msgs/msg/TFMessage", qos: "reliable transient_local keep_last 100" });
    expect(endpointsOf(real, "subscriptions", "/depthseg")["/lidar/points"]?.type).toBe("sensor_msgs/msg/PointCloud2");

    const truth = trueDepth(testImage());
    const points = lidarPoints(truth);
    const { status, depth } = await sendFrames(peer, 3, (stamp) =>
      peer.publish("sensor_msgs/msg/PointCloud2", "/lidar/points", toRclMessage<"sensor_msgs/msg/PointCloud2">(lidarCloud(stamp, points))),
    );
    for (const s of status) {
      expect([s.scale_source, s.depth_kind, s.depth_is_metric, s.scale_age]).toEqual(["points", "relative_disparity", true, 0]);
      expect(s.scale_anchors).toBe(W * H);
      expect(Math.abs(s.depth_scale / TRUE_SCALE - 1)).toBeLessThan(TOLERANCE);
      expect(Math.abs(s.depth_shift / TRUE_SHIFT - 1)).toBeLessThan(TOLERANCE);
    }
    for (const d of depth) expect(worstRelativeError(d, truth)).toBeLessThan(TOLERANCE);
    const placed = real.standIn.log.map((l) => l.message).filter((m) => m.startsWith("scale anchors:"));
    expect(placed).toHaveLength(1);
    expect(placed[0]).toMatch(/clouds from "lidar" placed in "cam_optical" with \/tf_static .*; scale\.extrinsics \(t = 0, 0, 5, .*\) ignored: \/tf_static wins/);
  });

  it("without /tf_static places the cloud with scale.extrinsics and warns once", async () => {
    // The lidar→optical transform given as parameters instead (the same one /tf_static would give).
    const [x, y, z] = [CAMERA_IN_BASE[1] - LIDAR_IN_BASE[1], CAMERA_IN_BASE[2] - LIDAR_IN_BASE[2], LIDAR_IN_BASE[0] - CAMERA_IN_BASE[0]];
    // p_opt = R·p_lidar + t with x_opt = -y_lidar, y_opt = -z_lidar, z_opt = x_lidar: q = (0.5, -0.5, 0.5, 0.5).
    const peer = await start([
      "-p", "scale.source:=points", "-p", "scale.topic:=/lidar/points",
      "-p", `scale.extrinsics.x:=${x.toFixed(3)}`, "-p", `scale.extrinsics.y:=${y.toFixed(3)}`, "-p", `scale.extrinsics.z:=${z.toFixed(3)}`,
      "-p", "scale.extrinsics.qx:=0.5", "-p", "scale.extrinsics.qy:=-0.5", "-p", "scale.extrinsics.qz:=0.5", "-p", "scale.extrinsics.qw:=0.5",
    ]);
    const truth = trueDepth(testImage());
    const points = lidarPoints(truth);
    const { status } = await sendFrames(peer, 2, (stamp) =>
      peer.publish("sensor_msgs/msg/PointCloud2", "/lidar/points", toRclMessage<"sensor_msgs/msg/PointCloud2">(lidarCloud(stamp, points))),
    );
    for (const s of status) {
      expect(s.depth_is_metric).toBe(true);
      expect(Math.abs(s.depth_scale / TRUE_SCALE - 1)).toBeLessThan(TOLERANCE);
    }
    const warnings = real.standIn.log.map((l) => l.message).filter((m) => m.startsWith("scale anchors:"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no \/tf_static transform from "lidar" to "cam_optical" \(yet\); placing the cloud with scale\.extrinsics/);
  });
});

describe("live node: scale.source depth_image", () => {
  it("subscribes to scale.topic in the camera's namespace and gets metric depth from a holey registered depth image", async () => {
    const peer = await start(["-p", "scale.source:=depth_image", "-p", "scale.topic:=aligned_depth/image_raw"]);
    const subscriptions = endpointsOf(real, "subscriptions", "/depthseg");
    expect(subscriptions["/aligned_depth/image_raw"]).toEqual({ type: "sensor_msgs/msg/Image", qos: "best_effort volatile keep_last 1" });
    // No cloud, no /tf_static subscription.
    expect(subscriptions["/tf_static"]).toBeUndefined();
    const truth = trueDepth(testImage());
    const { status, depth } = await sendFrames(peer, 3, (stamp) =>
      peer.publish("sensor_msgs/msg/Image", "/aligned_depth/image_raw", toRclMessage<"sensor_msgs/msg/Image">(holeyDepth(stamp, truth))),
    );
    for (const s of status) {
      expect([s.scale_source, s.depth_is_metric, s.scale_age]).toEqual(["depth_image", true, 0]);
      // Two pixels in three carry a depth.
      expect(s.scale_anchors).toBe(W * H - Math.ceil((W * H) / 3));
      expect(Math.abs(s.depth_scale / TRUE_SCALE - 1)).toBeLessThan(TOLERANCE);
      expect(Math.abs(s.depth_shift / TRUE_SHIFT - 1)).toBeLessThan(TOLERANCE);
    }
    for (const d of depth) expect(worstRelativeError(d, truth)).toBeLessThan(TOLERANCE);
  });
});

describe("live node: scale.source ground_plane with scale.ground_frame", () => {
  /** The optical centre's height: base_link 1.2 m above base_footprint, the camera CAMERA_IN_BASE above that (no tilt). */
  const HEIGHT = 1.2 + CAMERA_IN_BASE[2];
  /** The floor: green there, so the analytic model (label = argmax of R, G, B) calls them "green" and nothing else is. */
  const FLOOR_ROWS = [20, 21, 22, 23];
  /** The level camera's floor: z = h·fy / (v − cy). */
  const floorDepth = (v: number) => (HEIGHT * FY) / (v - CY);

  /** testImage with floor rows: green, and red chosen so the analytic model's truth is the floor's depth there. */
  function floorImage(): RgbImage {
    const image = testImage();
    for (const v of FLOOR_ROWS) {
      const raw = (1 / floorDepth(v) - TRUE_SHIFT) / TRUE_SCALE;
      const red = Math.round((255 * (raw - ANALYTIC_DISPARITY_OFFSET)) / ANALYTIC_DISPARITY_SCALE);
      for (let u = 0; u < W; u++) {
        image.data[3 * (v * W + u)] = red;
        image.data[3 * (v * W + u) + 1] = 255;
      }
    }
    return image;
  }

  const latchGroundTransforms = () => {
    const robot = new PeerNode(real, "robot_state_publisher");
    peers.push(robot);
    const robotTree = staticTransforms(stampAt(0));
    const tf: TFMessage = {
      transforms: [
        ...robotTree.transforms,
        {
          header: header(stampAt(0), GROUND_FRAME),
          child_frame_id: BASE_FRAME,
          transform: { translation: { x: 0, y: 0, z: 1.2 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
        },
      ],
    };
    robot.publish("tf2_msgs/msg/TFMessage", "/tf_static", toRclMessage<"tf2_msgs/msg/TFMessage">(tf), { latched: true });
  };

  it("takes the camera's height and tilt above base_footprint from the latched /tf_static", async () => {
    const peer = await start(["-p", "scale.source:=ground_plane", "-p", `scale.ground_frame:=${GROUND_FRAME}`, "-p", "scale.ground_classes:=[green]"], latchGroundTransforms);
    expect(endpointsOf(real, "subscriptions", "/depthseg")["/tf_static"]).toEqual({ type: "tf2_msgs/msg/TFMessage", qos: "reliable transient_local keep_last 100" });
    const image = floorImage();
    const { status, depth } = await sendFrames(peer, 3, () => {}, image);
    for (const s of status) {
      expect([s.scale_source, s.depth_is_metric, s.scale_age]).toEqual(["ground_plane", true, 0]);
      expect(s.scale_anchors).toBe(FLOOR_ROWS.length * W);
      // The floor rows' red is rounded to whole levels: ±0.25 % of disparity each.
      expect(Math.abs(s.depth_scale / TRUE_SCALE - 1)).toBeLessThan(0.02);
    }
    for (const d of depth) {
      for (const v of FLOOR_ROWS) for (let u = 0; u < W; u++) expect(Math.abs(d[v * W + u]! / floorDepth(v) - 1)).toBeLessThan(0.01);
      // Off the floor too: the recovered affine gives the truth everywhere.
      expect(worstRelativeError(d, trueDepth(image))).toBeLessThan(0.02);
    }
    const placed = real.standIn.log.map((l) => l.message).filter((m) => m.startsWith("scale anchors:"));
    expect(placed).toEqual([`scale anchors: the floor ("${GROUND_FRAME}" z = 0) placed in "${FRAME_ID}" with /tf_static: ${HEIGHT.toFixed(3)} m above the floor, pitch 0.0°, roll 0.0°`]);
  });

  it("without /tf_static and without scale.camera_height: no anchors, the depth is not called metric, and the log says why", async () => {
    const peer = await start(["-p", "scale.source:=ground_plane", "-p", `scale.ground_frame:=${GROUND_FRAME}`, "-p", "scale.ground_classes:=[green]"]);
    const { status } = await sendFrames(peer, 2, () => {}, floorImage());
    for (const s of status) expect([s.scale_source, s.depth_is_metric, s.scale_anchors]).toEqual(["ground_plane", false, 0]);
    const warnings = real.standIn.log.map((l) => l.message).filter((m) => m.startsWith("scale anchors:"));
    expect(warnings).toEqual([`scale anchors: no /tf_static transform from "${GROUND_FRAME}" to "${FRAME_ID}" (yet); no ground-plane anchors until it comes (scale.camera_height is 0)`]);
  });
});
