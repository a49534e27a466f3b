// Contract tests of the live node through rclnodejs 2.2.0's own JavaScript (a real copy of the
// package, its generated message classes), with only its native addon replaced
// (tests/support/rclnodejsAddon, following rclnodejs's src/*.cpp and rcl). A camera driver and a
// viewer are real rclnodejs nodes in the same process, so every message the tests read went
// through rclnodejs's message classes and CDR, as on a robot. Covered: topic names after
// remapping, types, QoS, published messages field by field, parameters (params files in every
// form rcl accepts), multi-camera fairness and drops, diagnostics, shutdown order. Inference is
// real (ONNX Runtime in a worker) on the analytic model, whose metres and labels are exact.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RgbImage, Stamp } from "../src/frame.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { startInferenceWorker, type InferenceWorker } from "../src/inference/inferenceWorker.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { PointFieldType } from "../src/messages/types.js";
import { derivedConfidence } from "../src/heads/confidence.js";
import { LiveNode } from "../src/transport/ros/liveNode.js";
import type { RclMessage } from "../src/transport/ros/rclPort.js";
import { toRclMessage } from "../src/transport/ros/rclMessages.js";
import { PeerNode, endpointsOf, loadRealRclnodejs, nodeNamed, type RealNode } from "./support/rclHarness.js";
import { FRAME_ID, cameraInfo, rgb8, stampAt, tempDir } from "./support/cameraBag.js";

const W = 6;
const H = 4;
const FX = 20;
const FY = 22;
const CX = 2.5;
const CY = 1.5;

const real = loadRealRclnodejs("full");
let modelDir: string;
const running: LiveNode[] = [];

beforeAll(async () => {
  modelDir = await writeAnalyticBundle(join(await tempDir(), "analytic"));
});

afterEach(async () => {
  for (const live of running.splice(0)) await live.shutdown("test done");
  real.standIn.events.length = 0;
  real.standIn.log.length = 0;
});

interface Started {
  readonly live: LiveNode;
  /** Our node, as rclnodejs holds it. */
  readonly node: RealNode;
  /** `/ns/name` of our node. */
  readonly fqn: string;
  /** A camera driver and viewer node beside ours. */
  readonly peer: PeerNode;
}

async function start(rosArgs: readonly string[], options: { inferenceDelayMs?: number; gate?: RunGate; withModel?: boolean } = {}): Promise<Started> {
  const delay = options.inferenceDelayMs;
  const gate = options.gate;
  const hold = gate !== undefined ? () => gate.wait() : delay !== undefined ? () => new Promise<void>((resolve) => setTimeout(resolve, delay)) : undefined;
  const live = await LiveNode.start({
    rcl: real.rcl,
    argv: ["node", "depthseg", "--ros-args", ...(options.withModel === false ? [] : ["-p", `model:=${modelDir}`]), ...rosArgs],
    ...(hold !== undefined ? { startWorker: async (bundle, params, log) => heldWorker(await startInferenceWorker(bundle, params, log), hold) } : {}),
  });
  running.push(live);
  const node = nodeNamed(real, "depthseg");
  const fqn = node.namespace() === "/" ? "/depthseg" : `${node.namespace()}/depthseg`;
  return { live, node, fqn, peer: new PeerNode(real, "camera_driver") };
}

/** The real worker, with every run held by `hold` first: inference becomes the bottleneck. */
function heldWorker(worker: InferenceWorker, hold: () => Promise<void>): InferenceWorker {
  return new Proxy(worker, {
    get(target, property) {
      // Both ways FrameProcessor runs a frame: in a shared slot, or by transfer when none is free.
      if (property === "run") {
        return async (...args: Parameters<InferenceWorker["run"]>) => {
          await hold();
          return target.run(...args);
        };
      }
      if (property === "runInSlot") {
        return async (...args: Parameters<InferenceWorker["runInSlot"]>) => {
          await hold();
          return target.runInSlot(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Inference runs that wait until the test lets them through, one at a time: the test decides when
 * inference is busy, so what it checks does not depend on how loaded the machine is.
 */
class RunGate {
  private readonly held: (() => void)[] = [];
  private opened = false;

  wait(): Promise<void> {
    return this.opened ? Promise.resolve() : new Promise((resolve) => this.held.push(resolve));
  }

  /** Runs waiting at the gate. */
  get waiting(): number {
    return this.held.length;
  }

  releaseOne(): void {
    const next = this.held.shift();
    if (next === undefined) throw new Error("no inference run is waiting at the gate");
    next();
  }

  open(): void {
    this.opened = true;
    for (const release of this.held.splice(0)) release();
  }
}

/** Pixel i has R = 10 + 40·(i mod 6), G = 30, B = 200 − 30·(i mod 5): labels red or blue. */
function testImage(seed = 0): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    data[3 * i] = (10 + 40 * ((i + seed) % 6)) & 255;
    data[3 * i + 1] = 30;
    data[3 * i + 2] = 200 - 30 * ((i + seed) % 5);
  }
  return { width: W, height: H, data };
}

const metres = (r: number) => 0.5 + (10 * r) / 255;

function imageMessage(stamp: Stamp, image = testImage()): RclMessage<"sensor_msgs/msg/Image"> {
  return toRclMessage<"sensor_msgs/msg/Image">(rgb8(stamp, image));
}

function infoMessage(stamp: Stamp): RclMessage<"sensor_msgs/msg/CameraInfo"> {
  return toRclMessage<"sensor_msgs/msg/CameraInfo">(cameraInfo(stamp, pinholeCalibration(W, H, FX, FY, CX, CY)));
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Sends one frame (image and camera_info) from the camera driver node. */
function sendFrame(peer: PeerNode, stamp: Stamp, options: { image?: RgbImage; imageTopic?: string; infoTopic?: string } = {}): void {
  peer.publish("sensor_msgs/msg/Image", options.imageTopic ?? "/image", imageMessage(stamp, options.image));
  peer.publish("sensor_msgs/msg/CameraInfo", options.infoTopic ?? "/camera_info", infoMessage(stamp));
}

function float32s(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}


describe("live node: topics, types and QoS", () => {
  it("subscribes to the remapped inputs with sensor-data QoS and publishes under its namespace", async () => {
    const { live, node, fqn, peer } = await start([
      "-r", "__ns:=/robot",
      "-r", "image:=/camera/color/image_raw",
      "-r", "camera_info:=/camera/color/camera_info",
    ]);
    expect(node.name()).toBe("depthseg");
    expect(node.namespace()).toBe("/robot");
    expect(live.cameraTopics).toEqual(["/camera/color/image_raw"]);
    expect(endpointsOf(real, "subscriptions", fqn)).toEqual({
      "/camera/color/image_raw": { type: "sensor_msgs/msg/Image", qos: "best_effort volatile keep_last 1" },
      "/camera/color/camera_info": { type: "sensor_msgs/msg/CameraInfo", qos: "best_effort volatile keep_last 5" },
    });
    const published = endpointsOf(real, "publishers", fqn);
    expect(published).toEqual({
      "/robot/depth/image": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/depth/camera_info": { type: "sensor_msgs/msg/CameraInfo", qos: "reliable volatile keep_last 1" },
      "/robot/depth/colorized": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/depth/confidence": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/points": { type: "sensor_msgs/msg/PointCloud2", qos: "reliable volatile keep_last 1" },
      "/robot/segmentation/labels": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/segmentation/colorized": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/segmentation/label_info": { type: "vision_msgs/msg/LabelInfo", qos: "reliable transient_local keep_last 1" },
      "/robot/status": { type: "depthseg/msg/PerceptionStatus", qos: "reliable volatile keep_last 1" },
      "/diagnostics": { type: "diagnostic_msgs/msg/DiagnosticArray", qos: "reliable volatile keep_last 10" },
      // rclnodejs's own: parameter services' events and the type description service are not topics here.
      ...Object.fromEntries(Object.entries(published).filter(([topic]) => !topic.startsWith("/robot/") && topic !== "/diagnostics")),
    });
    // Latched class map: a subscriber that comes after it was sent still gets it.
    const labelInfo = peer.record<RclMessage<"vision_msgs/msg/LabelInfo">>("vision_msgs/msg/LabelInfo", "/robot/segmentation/label_info", { latched: true });
    await until(() => labelInfo.length === 1, "latched label_info");
    expect(labelInfo[0]!.class_map.map((c) => [c.class_id, c.class_name])).toEqual([[0, "red"], [1, "green"], [2, "blue"]]);
    expect(real.standIn.log.some((l) => l.message.startsWith("ready: analytic (metric) on cpu; /camera/color/image_raw -> /robot/depth/image"))).toBe(true);
  });

  it("remapping image carries camera_info and image/compressed along, as image_transport's CameraSubscriber does", async () => {
    const { fqn } = await start(["-r", "image:=/camera/color/image_raw", "-p", "image_transport:=compressed"]);
    expect(Object.entries(endpointsOf(real, "subscriptions", fqn)).map(([topic, e]) => [topic, e.type])).toEqual([
      ["/camera/color/image_raw/compressed", "sensor_msgs/msg/CompressedImage"],
      ["/camera/color/camera_info", "sensor_msgs/msg/CameraInfo"],
    ]);
  });

  it("an alias and its parameter given different values is refused", async () => {
    await expect(start(["-p", "image_transport:=raw", "-p", "input_transport:=compressed"])).rejects.toThrow(
      /input_transport \(an alias of image_transport\) is "compressed" but image_transport is "raw"/,
    );
  });

  it("input_transport (the old name of image_transport) compressed subscribes to image/compressed, remapped on its own", async () => {
    const { fqn } = await start(["-p", "input_transport:=compressed", "-r", "image/compressed:=/cam/image_raw/compressed"]);
    expect(Object.entries(endpointsOf(real, "subscriptions", fqn)).map(([topic, e]) => [topic, e.type])).toEqual([
      ["/cam/image_raw/compressed", "sensor_msgs/msg/CompressedImage"],
      ["/camera_info", "sensor_msgs/msg/CameraInfo"],
    ]);
  });

  it("qos_overrides.<topic>.<entity>.<policy> parameters change one topic's QoS and show up as read-only parameters", async () => {
    const file = join(await tempDir(), "params.yaml");
    await writeFile(
      file,
      [
        "/**:",
        "  ros__parameters:",
        "    qos_overrides:",
        "      /cam/image_raw:",
        "        subscription: { reliability: reliable, depth: 3 }",
        "      /points:",
        "        publisher: { durability: transient_local }",
        "",
      ].join("\n"),
    );
    const { node, fqn } = await start(["--params-file", file, "-r", "image:=/cam/image_raw"]);
    expect(endpointsOf(real, "subscriptions", fqn)["/cam/image_raw"]?.qos).toBe("reliable volatile keep_last 3");
    expect(endpointsOf(real, "publishers", fqn)["/points"]?.qos).toBe("reliable transient_local keep_last 1");
    expect(endpointsOf(real, "publishers", fqn)["/depth/image"]?.qos).toBe("reliable volatile keep_last 1");
    expect(node.getParameter("qos_overrides./cam/image_raw.subscription.depth").value).toBe(3n);
    expect(node.getParameterDescriptor("qos_overrides./points.publisher.durability")?.readOnly).toBe(true);
  });

  it("a bad QoS override or an override for no topic is reported", async () => {
    await expect(start(["-p", "qos_overrides./image.subscription.reliability:=sometimes"])).rejects.toThrow(
      /qos_overrides\.\/image\.subscription\.reliability must be one of reliable \| best_effort, got "sometimes"/,
    );
    await start(["-p", "qos_overrides./nowhere.publisher.depth:=2"]);
    expect(real.standIn.log.some((l) => l.severity === 30 && l.message === "qos_overrides./nowhere.publisher.depth matches no topic of this node; ignored")).toBe(true);
  });
});

describe("live node: parameters from params files as launch_ros and ros2 param dump write them", () => {
  it("applies a /<ns>/<node> section: a launch file's input_transport changes what the node subscribes to", async () => {
    const file = join(await tempDir(), "launch_params.yaml");
    // launch_ros writes a node's parameters keyed by its fully qualified name.
    await writeFile(file, "/depthseg/depthseg:\n  ros__parameters:\n    input_transport: compressed\n");
    const { fqn } = await start(["-r", "__ns:=/depthseg", "--params-file", file]);
    expect(fqn).toBe("/depthseg/depthseg");
    expect(Object.entries(endpointsOf(real, "subscriptions", fqn)).map(([topic, e]) => [topic, e.type])).toEqual([
      ["/depthseg/image/compressed", "sensor_msgs/msg/CompressedImage"],
      ["/depthseg/camera_info", "sensor_msgs/msg/CameraInfo"],
    ]);
    expect(real.standIn.log.some((l) => l.message === "parameters of /depthseg/depthseg from sections /**, /depthseg/depthseg")).toBe(true);
  });

  it("applies sections in rcl's order: wildcards, namespaces, nested keys, later sections and -p winning", async () => {
    const file = join(await tempDir(), "params.yaml");
    await writeFile(
      file,
      [
        "/**:",
        "  ros__parameters: { range: { max: 9.0, min: 0.5 }, pointcloud: { decimation: 4 } }",
        "/robot/*:",
        "  ros__parameters: { range: { max: 8.0 } }",
        "/**/depthseg:",
        "  ros__parameters: { colorize: { colormap: viridis } }",
        "robot:",
        "  depthseg:",
        "    ros__parameters: { range: { max: 7.0 } }",
        "/other/depthseg:",
        "  ros__parameters: { range: { max: 1.0 } }",
        "depthseg:",
        "  ros__parameters: { sync_slop: 0.02 }",
        "",
      ].join("\n"),
    );
    const { node } = await start(["-r", "__ns:=/robot", "--params-file", file, "-p", "pointcloud.decimation:=3"]);
    expect(node.getParameter("range.max").value).toBe(7);
    expect(node.getParameter("range.min").value).toBe(0.5);
    expect(node.getParameter("colorize.colormap").value).toBe("viridis");
    expect(node.getParameter("sync_slop").value).toBe(0.02);
    // `-p` goes into the `/**` entry, which came first: rclcpp applies entries in that order, so a
    // later, more specific section would win over it; none sets decimation here.
    expect(node.getParameter("pointcloud.decimation").value).toBe(3n);
  });

  it("takes values from a params file (integers accepted for doubles) and -p, -p last", async () => {
    const file = join(await tempDir(), "params.yaml");
    await writeFile(file, "/**:\n  ros__parameters:\n    range:\n      max: 8\n      min: 0.25\n    pointcloud:\n      decimation: 2\n");
    const { node } = await start(["--params-file", file, "-p", "pointcloud.decimation:=3"]);
    expect(node.getParameter("range.max").value).toBe(8);
    expect(node.getParameter("range.max").type).toBe(3);
    expect(node.getParameter("range.min").value).toBe(0.25);
    expect(node.getParameter("pointcloud.decimation").value).toBe(3n);
  });
});

describe("live node: published messages", () => {
  it("publishes depth, camera_info, points, labels and status for a frame, field by field", async () => {
    const { peer } = await start([]);
    const depth = peer.record<RclMessage<"sensor_msgs/msg/Image">>("sensor_msgs/msg/Image", "/depth/image");
    const infos = peer.record<RclMessage<"sensor_msgs/msg/CameraInfo">>("sensor_msgs/msg/CameraInfo", "/depth/camera_info");
    const clouds = peer.record<RclMessage<"sensor_msgs/msg/PointCloud2">>("sensor_msgs/msg/PointCloud2", "/points");
    const labelImages = peer.record<RclMessage<"sensor_msgs/msg/Image">>("sensor_msgs/msg/Image", "/segmentation/labels");
    const status = peer.record<RclMessage<"depthseg/msg/PerceptionStatus">>("depthseg/msg/PerceptionStatus", "/status");
    const stamp = stampAt(3);
    const image = testImage();
    sendFrame(peer, stamp, { image });
    await until(() => status.length === 1 && depth.length === 1 && clouds.length === 1, "status, depth and points");

    const d = depth[0]!;
    expect(d.header).toEqual({ stamp, frame_id: FRAME_ID });
    expect([d.encoding, d.width, d.height, d.step, d.is_bigendian]).toEqual(["32FC1", W, H, W * 4, 0]);
    expect((d.data as Uint8Array).length).toBe(W * H * 4);
    const dv = float32s(d.data as Uint8Array);
    for (let i = 0; i < W * H; i++) expect(dv.getFloat32(4 * i, true)).toBeCloseTo(metres(image.data[3 * i]!), 5);

    const info = infos[0]!;
    expect(info.header).toEqual({ stamp, frame_id: FRAME_ID });
    expect([info.width, info.height]).toEqual([W, H]);
    expect(Array.from(info.k)).toEqual([FX, 0, CX, 0, FY, CY, 0, 0, 1]);

    const cloud = clouds[0]!;
    expect(cloud.header).toEqual({ stamp, frame_id: FRAME_ID });
    expect(cloud.fields.map((f) => [f.name, f.offset, f.datatype, f.count])).toEqual([
      ["x", 0, PointFieldType.FLOAT32, 1],
      ["y", 4, PointFieldType.FLOAT32, 1],
      ["z", 8, PointFieldType.FLOAT32, 1],
      ["rgb", 12, PointFieldType.FLOAT32, 1],
      ["label", 16, PointFieldType.UINT32, 1],
    ]);
    expect([cloud.width, cloud.height, cloud.point_step, cloud.row_step, cloud.is_dense, cloud.is_bigendian]).toEqual([W, H, 20, 20 * W, false, false]);
    const cv = float32s(cloud.data as Uint8Array);
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const i = v * W + u;
        const z = metres(image.data[3 * i]!);
        const at = i * 20;
        expect(cv.getFloat32(at + 8, true)).toBeCloseTo(z, 5);
        expect(cv.getFloat32(at, true)).toBeCloseTo(((u - CX) * z) / FX, 5);
        expect(cv.getFloat32(at + 4, true)).toBeCloseTo(((v - CY) * z) / FY, 5);
        const r = image.data[3 * i]!;
        const b = image.data[3 * i + 2]!;
        // argmax(R, G, B) takes the first of equal maxima; G = 30 is never the largest.
        expect(cv.getUint32(at + 16, true), `pixel ${i}`).toBe(r >= b ? 0 : 2);
      }
    }

    const labels = labelImages[0]!;
    expect([labels.encoding, labels.width, labels.height]).toEqual(["mono8", W, H]);
    expect(Array.from(labels.data as Uint8Array)).toEqual(Array.from({ length: W * H }, (_, i) => (image.data[3 * i]! >= image.data[3 * i + 2]! ? 0 : 2)));

    const s = status[0]!;
    expect(s.header).toEqual({ stamp, frame_id: FRAME_ID });
    expect([s.camera, s.model, s.execution_provider, s.depth_kind, s.depth_is_metric]).toEqual(["/image", "analytic", "cpu", "metric", true]);
    expect([Number(s.frames_processed), Number(s.frames_dropped), Number(s.frames_failed)]).toEqual([1, 0, 0]);
    expect(s.latency_total_ms).toBeGreaterThan(0);
    expect(s.latency_inference_ms).toBeGreaterThan(0);
  });

  it("builds colourised views only while they have subscribers (rclnodejs's subscriptionCount getter)", async () => {
    const { peer, live } = await start([]);
    const status = peer.record<RclMessage<"depthseg/msg/PerceptionStatus">>("depthseg/msg/PerceptionStatus", "/status");
    sendFrame(peer, stampAt(0));
    await until(() => status.length === 1, "first status");
    expect(real.standIn.events.filter((e) => e === "publish /depth/colorized")).toHaveLength(0);
    expect(live.stats.all.failed).toBe(0);

    const depthColor = peer.record<RclMessage<"sensor_msgs/msg/Image">>("sensor_msgs/msg/Image", "/depth/colorized");
    sendFrame(peer, stampAt(1));
    await until(() => status.length === 2, "second status");
    await until(() => depthColor.length === 1, "colourised depth");
    expect(real.standIn.events.filter((e) => e === "publish /segmentation/colorized")).toHaveLength(0);
    const colored = depthColor[0]!;
    expect([colored.encoding, colored.width, colored.height, (colored.data as Uint8Array).length]).toEqual(["rgb8", W, H, W * H * 3]);
    expect(live.stats.all.failed).toBe(0);
  });

  it("builds depth/confidence only while it has subscribers: derived from the depth (the analytic model has no confidence output)", async () => {
    const { peer, live } = await start([]);
    const status = peer.record<RclMessage<"depthseg/msg/PerceptionStatus">>("depthseg/msg/PerceptionStatus", "/status");
    sendFrame(peer, stampAt(0));
    await until(() => status.length === 1, "first status");
    expect(real.standIn.events.filter((e) => e === "publish /depth/confidence")).toHaveLength(0);

    const confidence = peer.record<RclMessage<"sensor_msgs/msg/Image">>("sensor_msgs/msg/Image", "/depth/confidence");
    const depth = peer.record<RclMessage<"sensor_msgs/msg/Image">>("sensor_msgs/msg/Image", "/depth/image");
    sendFrame(peer, stampAt(1));
    await until(() => confidence.length === 1 && depth.length === 1, "confidence and depth");
    const image = confidence[0]!;
    expect([image.encoding, image.width, image.height, image.step]).toEqual(["32FC1", W, H, 4 * W]);
    const values = new Float32Array(Uint8Array.from(image.data as Uint8Array).buffer);
    const metres = new Float32Array(Uint8Array.from(depth[0]!.data as Uint8Array).buffer);
    // Model output = camera resolution here, so it is the kernel on the published depth exactly.
    expect([...values]).toEqual([...derivedConfidence(metres, W, H)]);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(live.stats.all.failed).toBe(0);
  });

  it("bad input is counted and reported, and the node keeps going with the next frame", async () => {
    const { peer, live } = await start([]);
    const status = peer.record<RclMessage<"depthseg/msg/PerceptionStatus">>("depthseg/msg/PerceptionStatus", "/status");
    // One at a time: frames given while another is in flight would replace each other (latest wins).
    peer.publish("sensor_msgs/msg/Image", "/image", { ...imageMessage(stampAt(0)), encoding: "yuv422_yuy2_typo" });
    peer.publish("sensor_msgs/msg/CameraInfo", "/camera_info", infoMessage(stampAt(0)));
    await until(() => live.stats.all.failed === 1, "the bad encoding's failure");
    peer.publish("sensor_msgs/msg/Image", "/image", imageMessage(stampAt(1)));
    peer.publish("sensor_msgs/msg/CameraInfo", "/camera_info", { ...infoMessage(stampAt(1)), k: new Float64Array(9), p: new Float64Array(12) });
    await until(() => live.stats.all.failed === 2, "the zero focal length's failure");
    // nanosec ≥ 1e9: refused before pairing, for the image and for its CameraInfo.
    const badStamp = { sec: 100, nanosec: 1_500_000_000 };
    peer.publish("sensor_msgs/msg/Image", "/image", imageMessage(badStamp));
    peer.publish("sensor_msgs/msg/CameraInfo", "/camera_info", infoMessage(badStamp));
    await until(() => live.stats.all.failed === 3, "the invalid stamp's failure");
    sendFrame(peer, stampAt(2));
    await until(() => status.length === 1, "status of the good frame");
    expect(status[0]!.header.stamp).toEqual(stampAt(2));
    expect(Number(status[0]!.frames_failed)).toBe(3);
    const counts = live.stats.all.snapshot();
    expect(counts.failedByReason).toEqual({ unknown_encoding: 1, invalid_camera_info: 1, invalid_stamp: 1 });
    expect(counts).toMatchObject({ read: 4, processed: 1, dropped: 0, failed: 3, cameraInfoRejected: 1 });
    const warnings = real.standIn.log.filter((l) => l.severity === 30).map((l) => l.message);
    expect(warnings.some((l) => l.includes("yuv422_yuy2_typo"))).toBe(true);
    const stampWarnings = warnings.filter((l) => l.includes("invalid_stamp: header.stamp has sec 100, nanosec 1500000000"));
    expect(stampWarnings.map((l) => l.split(":")[0])).toEqual(["/image", "/camera_info"]);
  });
});

describe("live node: run-time parameters", () => {
  it("declares every live parameter with type, description, range and read-only flag", async () => {
    const { node } = await start([]);
    const describe = (name: string) => {
      const d = node.getParameterDescriptor(name);
      if (!d) throw new Error(`${name} not declared`);
      return { type: d.type, readOnly: d.readOnly, constraints: d.additionalConstraints };
    };
    expect(describe("range.max")).toEqual({ type: 3, readOnly: false, constraints: "range: [0, 10000]" });
    expect(describe("pointcloud.decimation")).toEqual({ type: 2, readOnly: false, constraints: "range: [1, 32]" });
    expect(describe("model")).toMatchObject({ type: 4, readOnly: true });
    expect(describe("colorize.colormap")).toMatchObject({ type: 4, readOnly: false, constraints: "one of: turbo, viridis, inferno, jet" });
    expect(describe("execution_providers")).toMatchObject({ type: 9, readOnly: true });
    expect(describe("cameras")).toMatchObject({ type: 9, readOnly: true });
    expect(node.getParameterDescriptor("range.max")!.description).toMatch(/published as NaN/);
    // Replay-only parameters are not declared by the live node.
    expect(node.hasParameter("output_namespace")).toBe(false);
    expect(node.hasParameter("image_topic")).toBe(false);
    expect(node.getParameter("pointcloud.decimation").value).toBe(1n);
  });

  it("refuses to start on an unknown or invalid parameter, naming it", async () => {
    await expect(start(["-p", "range.maxx:=3.0"])).rejects.toThrow(/unknown parameter "range.maxx"/);
    await expect(start(["-p", "pointcloud.decimation:=0"])).rejects.toThrow(/"pointcloud.decimation" must be in \[1, 32\], got 0/);
    await expect(start(["-p", "cameras:=[front, front]"])).rejects.toThrow(/cameras: "front" is listed twice/);
  });

  it("accepts valid run-time changes, applies them to the next frame, and rejects invalid ones with a reason", async () => {
    const { node, peer } = await start([]);
    const set = (name: string, type: number, value: unknown) => node.setParameter(new real.rcl.Parameter(name, type as never, value));

    // `ros2 param set ... range.max 1` sends an integer: accepted for a double parameter.
    expect(set("range.max", 2, 1n)).toEqual({ successful: true, reason: "" });
    expect(node.getParameter("range.max").value).toBe(1);
    expect(set("range.min", 3, 2.0)).toEqual({ successful: false, reason: "range.max (1) must be greater than range.min (2)" });
    expect(set("colorize.colormap", 4, "rainbow")).toEqual({ successful: false, reason: 'parameter "colorize.colormap" must be one of turbo | viridis | inferno | jet, got "rainbow"' });
    expect(set("pointcloud.decimation", 2, 99n)).toEqual({ successful: false, reason: 'parameter "pointcloud.decimation" must be in [1, 32], got 99' });
    expect(set("range.max", 4, "far").successful).toBe(false); // wrong type: refused by rclnodejs itself
    expect(set("model", 4, "/elsewhere").successful).toBe(false);
    // Checked against the model, which has one depth output and no heads to pin.
    expect(set("depth.head", 4, "indoor")).toEqual({ successful: false, reason: 'depth.head must be auto: the model has one depth output, no heads (got "indoor")' });

    // The accepted range.max = 1 m turns every pixel deeper than 1 m into NaN on the next frame.
    const depth = peer.record<RclMessage<"sensor_msgs/msg/Image">>("sensor_msgs/msg/Image", "/depth/image");
    const image = testImage();
    sendFrame(peer, stampAt(0), { image });
    await until(() => depth.length === 1, "depth");
    const dv = float32s(depth[0]!.data as Uint8Array);
    for (let i = 0; i < W * H; i++) {
      const expected = metres(image.data[3 * i]!);
      const got = dv.getFloat32(4 * i, true);
      if (expected > 1) expect(got).toBeNaN();
      else expect(got).toBeCloseTo(expected, 5);
    }
  });
});

describe("live node: several cameras", () => {
  it("serves cameras round robin when inference is the bottleneck and counts drops per camera", async () => {
    const gate = new RunGate();
    const { live, fqn, peer } = await start(["-p", "cameras:=[front, rear]", "-r", "front/image:=/cams/front/image_raw"], { gate });
    expect(live.cameraTopics).toEqual(["/cams/front/image_raw", "/rear/image"]);
    expect(Object.keys(endpointsOf(real, "subscriptions", fqn))).toEqual(["/cams/front/image_raw", "/cams/front/camera_info", "/rear/image", "/rear/camera_info"]);
    expect(Object.keys(endpointsOf(real, "publishers", fqn))).toContain("/front/depth/image");
    expect(Object.keys(endpointsOf(real, "publishers", fqn))).toContain("/rear/segmentation/label_info");
    const frontStatus = peer.record<RclMessage<"depthseg/msg/PerceptionStatus">>("depthseg/msg/PerceptionStatus", "/front/status");
    const front = () => live.stats.camera("/cams/front/image_raw");
    const rear = () => live.stats.camera("/rear/image");
    const sendPair = async (i: number) => {
      sendFrame(peer, stampAt(i, 200), { imageTopic: "/cams/front/image_raw", infoTopic: "/cams/front/camera_info" });
      sendFrame(peer, stampAt(i, 200, 500), { imageTopic: "/rear/image", infoTopic: "/rear/camera_info" });
      await until(() => front().read === i + 1 && rear().read === i + 1, `pair ${i} read`);
    };

    // Both cameras send 8 frames; one inference run finishes per pair sent, so while a run is busy
    // each camera has a frame waiting and newer frames replace older ones.
    await sendPair(0);
    await until(() => gate.waiting === 1, "the first run");
    for (let i = 1; i < 8; i++) {
      await sendPair(i);
      gate.releaseOne();
      await until(() => gate.waiting === 1, `run ${i + 1}`);
    }
    gate.open();
    await live.shutdown("burst done");
    for (const camera of [front(), rear()]) {
      expect(camera.read).toBe(8);
      expect(camera.dropped).toBeGreaterThan(0);
      expect(camera.processed + camera.dropped + camera.failed).toBe(8);
    }
    // Fair: neither camera got more than one frame more than the other.
    expect(Math.abs(front().processed - rear().processed)).toBeLessThanOrEqual(1);
    // Round robin, in status publication order: with both cameras always waiting, they alternate.
    const order = real.standIn.events.filter((e) => e.endsWith("/status")).map((e) => (e.includes("/front/") ? "F" : "R"));
    expect(order.length).toBe(front().processed + rear().processed);
    expect(order.length).toBeGreaterThanOrEqual(8);
    expect(order.join("")).toMatch(/^(FR)+F?$|^(RF)+R?$/);
    // Each camera's status carries its own counts: the front statuses received so far count front
    // frames only (the last one may still be in flight to the viewer when rcl shuts down).
    expect(frontStatus.length).toBeGreaterThan(1);
    expect(frontStatus.at(-1)!.camera).toBe("/cams/front/image_raw");
    expect(Number(frontStatus.at(-1)!.frames_processed)).toBe(frontStatus.length);
    expect(frontStatus.length).toBeLessThanOrEqual(front().processed);
  });
});

describe("live node: diagnostics and shutdown", () => {
  it("stops itself, destroying the node, when the inference worker dies", async () => {
    const live = await LiveNode.start({
      rcl: real.rcl,
      argv: ["node", "depthseg", "--ros-args", "-p", `model:=${modelDir}`],
      startWorker: async (bundle, params, log) => {
        const worker = await startInferenceWorker(bundle, params, log);
        await worker.close(); // every later run fails with a FatalError, as when the worker thread exits
        return worker;
      },
    });
    running.push(live);
    sendFrame(new PeerNode(real, "camera_driver"), stampAt(0));
    await live.stopped;
    expect(live.fatalError?.message).toMatch(/inference worker is closed/);
    expect(real.standIn.events).toContain("destroy node /depthseg");
    expect(real.rcl.isShutdown()).toBe(true);
    expect(real.standIn.log.some((l) => l.severity === 40 && l.message.startsWith("stopping: ") && l.message.includes("inference worker"))).toBe(true);
  });

  it("publishes /diagnostics at 1 Hz with rate, drops, errors and provider per camera", async () => {
    const { peer } = await start([]);
    const diagnostics = peer.record<RclMessage<"diagnostic_msgs/msg/DiagnosticArray">>("diagnostic_msgs/msg/DiagnosticArray", "/diagnostics");
    const status = peer.record<RclMessage<"depthseg/msg/PerceptionStatus">>("depthseg/msg/PerceptionStatus", "/status");
    sendFrame(peer, stampAt(0));
    await until(() => status.length === 1, "status");
    const before = diagnostics.length;
    await until(() => diagnostics.length >= before + 1, "the next /diagnostics", 2_500);
    const array = diagnostics.at(-1)!;
    expect(array.status.map((s) => s.name)).toEqual(["depthseg: inference", "depthseg: /image"]);
    const camera = array.status[1]!;
    expect(camera.level).toBe(0);
    const values = Object.fromEntries(camera.values.map((kv) => [kv.key, kv.value]));
    expect(values).toMatchObject({ frames_received: "1", frames_processed: "1", frames_dropped: "0", frames_failed: "0", execution_provider: "cpu" });
    expect(Number(values["output_rate_hz"])).toBeGreaterThan(0);
    expect(array.status[0]!.values).toContainEqual({ key: "execution_provider", value: "cpu" });
  });

  it("on shutdown finishes the frame in flight, publishes it, flushes, then destroys the node and shuts rcl down", async () => {
    const { live, peer } = await start([], { inferenceDelayMs: 150 });
    const points = peer.record<RclMessage<"sensor_msgs/msg/PointCloud2">>("sensor_msgs/msg/PointCloud2", "/points");
    sendFrame(peer, stampAt(0));
    await until(() => live.stats.all.read === 1, "frame taken");
    const stopped = live.shutdown("SIGINT received");
    // Messages that arrive while stopping are not taken.
    sendFrame(peer, stampAt(1));
    await stopped;
    const events = real.standIn.events;
    const lastPublish = events.lastIndexOf("publish /status");
    const flush = events.findIndex((e) => e.startsWith("waitForAllAcked /points"));
    const destroy = events.indexOf("destroy node /depthseg");
    const shutdown = events.indexOf("shutdown");
    expect(lastPublish).toBeGreaterThan(-1);
    expect(flush).toBeGreaterThan(lastPublish);
    expect(destroy).toBeGreaterThan(flush);
    expect(shutdown).toBeGreaterThan(destroy);
    // Only /points had a subscriber to wait for.
    expect(events.filter((e) => e.startsWith("waitForAllAcked"))).toHaveLength(1);
    expect(Number(events.find((e) => e.startsWith("waitForAllAcked"))!.split(" ")[2])).toBeLessThanOrEqual(500_000_000);
    expect(events.filter((e) => e === "publish /status")).toHaveLength(1);
    // Published once, to a matched subscriber (the viewer, which shutdown then destroys with the
    // context: whether it took the message first depends on timing, so the publish is what counts).
    expect(events.filter((e) => e === "publish /points")).toHaveLength(1);
    expect(points.length).toBeLessThanOrEqual(1);
    expect(real.rcl.isShutdown()).toBe(true);
    expect(live.fatalError).toBeUndefined();
    // A second call is harmless.
    await live.shutdown("again");
    expect(events.filter((e) => e === "destroy node /depthseg")).toHaveLength(1);
  });
});
