// Contract tests of the live node against the rclnodejs test double (tests/support/rclDouble.ts):
// topic names after remapping, message types, QoS, published messages field by field, parameters,
// multi-camera fairness and drops, diagnostics, shutdown order. Inference is real (ONNX Runtime
// in a worker) on the analytic model, whose metres and labels are exact.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RgbImage, Stamp } from "../src/frame.js";
import { writeAnalyticBundle } from "../src/inference/fixtures.js";
import { startInferenceWorker, type InferenceWorker } from "../src/inference/inferenceWorker.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { PointFieldType } from "../src/messages/types.js";
import { LiveNode } from "../src/transport/ros/liveNode.js";
import type { RclMessage } from "../src/transport/ros/rclPort.js";
import { toRclMessage } from "../src/transport/ros/rclMessages.js";
import { DoubleParameter, RclDouble, type DoubleNode } from "./support/rclDouble.js";
import { FRAME_ID, cameraInfo, rgb8, stampAt, tempDir } from "./support/cameraBag.js";

const W = 6;
const H = 4;
const FX = 20;
const FY = 22;
const CX = 2.5;
const CY = 1.5;

let modelDir: string;
const running: LiveNode[] = [];

beforeAll(async () => {
  modelDir = await writeAnalyticBundle(join(await tempDir(), "analytic"));
});

afterEach(async () => {
  for (const live of running.splice(0)) await live.shutdown("test done");
});

interface Started {
  readonly double: RclDouble;
  readonly node: DoubleNode;
  readonly live: LiveNode;
}

async function start(
  rosArgs: readonly string[],
  options: { unavailable?: string[]; inferenceDelayMs?: number; withModel?: boolean } = {},
): Promise<Started> {
  const double = new RclDouble();
  for (const type of options.unavailable ?? []) double.unavailableTypes.add(type);
  const delay = options.inferenceDelayMs;
  const live = await LiveNode.start({
    rcl: double,
    argv: ["node", "depthseg", "--ros-args", ...(options.withModel === false ? [] : ["-p", `model:=${modelDir}`]), ...rosArgs],
    ...(delay !== undefined ? { startWorker: async (bundle, params, log) => slowWorker(await startInferenceWorker(bundle, params, log), delay) } : {}),
  });
  running.push(live);
  return { double, node: double.node, live };
}

/** The real worker, with every run taking `delayMs` longer: inference becomes the bottleneck. */
function slowWorker(worker: InferenceWorker, delayMs: number): InferenceWorker {
  return new Proxy(worker, {
    get(target, property) {
      if (property === "run") {
        return async (...args: Parameters<InferenceWorker["run"]>) => {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          return target.run(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
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

function publishedTopics(node: DoubleNode): Record<string, { type: string; qos: string }> {
  return Object.fromEntries(
    node.publishers.map((p) => {
      const q = p.qos.describe();
      return [p.topic, { type: p.type, qos: `${q.reliability} ${q.durability} ${q.history} ${q.depth}` }];
    }),
  );
}

describe("live node: topics, types and QoS", () => {
  it("subscribes to the remapped inputs with sensor-data QoS and publishes under its namespace", async () => {
    const { double, node, live } = await start([
      "-r", "__ns:=/robot",
      "-r", "image:=/camera/color/image_raw",
      "-r", "camera_info:=/camera/color/camera_info",
    ]);
    expect(double.signalHandlersRemoved).toBe(true);
    expect(node.name()).toBe("depthseg");
    expect(node.namespace()).toBe("/robot");
    expect(live.cameraTopics).toEqual(["/camera/color/image_raw"]);
    expect(
      node.subscriptions.map((s) => {
        const q = s.qos.describe();
        return [s.topic, s.type, `${q.reliability} ${q.durability} ${q.history} ${q.depth}`];
      }),
    ).toEqual([
      ["/camera/color/image_raw", "sensor_msgs/msg/Image", "best_effort volatile keep_last 1"],
      ["/camera/color/camera_info", "sensor_msgs/msg/CameraInfo", "best_effort volatile keep_last 5"],
    ]);
    expect(publishedTopics(node)).toEqual({
      "/robot/depth/image": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/depth/camera_info": { type: "sensor_msgs/msg/CameraInfo", qos: "reliable volatile keep_last 1" },
      "/robot/depth/colorized": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/points": { type: "sensor_msgs/msg/PointCloud2", qos: "reliable volatile keep_last 1" },
      "/robot/segmentation/labels": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/segmentation/colorized": { type: "sensor_msgs/msg/Image", qos: "reliable volatile keep_last 1" },
      "/robot/segmentation/label_info": { type: "vision_msgs/msg/LabelInfo", qos: "reliable transient_local keep_last 1" },
      "/robot/status": { type: "depthseg/msg/PerceptionStatus", qos: "reliable volatile keep_last 1" },
      "/diagnostics": { type: "diagnostic_msgs/msg/DiagnosticArray", qos: "reliable volatile keep_last 10" },
    });
    // Latched class map, sent at start so it is there before the first frame.
    const labelInfo = node.publisher<"vision_msgs/msg/LabelInfo">("/robot/segmentation/label_info").messages;
    expect(labelInfo).toHaveLength(1);
    expect(labelInfo[0]!.class_map.map((c) => [c.class_id, c.class_name])).toEqual([[0, "red"], [1, "green"], [2, "blue"]]);
    expect(node.spinning).toBe(true);
  });

  it("input_transport compressed subscribes to image/compressed", async () => {
    const { node } = await start(["-p", "input_transport:=compressed", "-r", "image/compressed:=/cam/image_raw/compressed"]);
    expect(node.subscriptions.map((s) => [s.topic, s.type])).toEqual([
      ["/cam/image_raw/compressed", "sensor_msgs/msg/CompressedImage"],
      ["/camera_info", "sensor_msgs/msg/CameraInfo"],
    ]);
  });

  it("qos_overrides.<topic>.<entity>.<policy> parameters change one topic's QoS and show up as read-only parameters", async () => {
    const dir = await tempDir();
    const file = join(dir, "params.yaml");
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
    const { node } = await start(["--params-file", file, "-r", "image:=/cam/image_raw"]);
    expect(node.subscription("/cam/image_raw").qos.describe()).toEqual({ history: "keep_last", depth: 3, reliability: "reliable", durability: "volatile" });
    expect(node.publisher("/points").qos.describe().durability).toBe("transient_local");
    expect(node.publisher("/depth/image").qos.describe().durability).toBe("volatile");
    expect(node.parameters.get("qos_overrides./cam/image_raw.subscription.depth")?.value).toBe(3n);
    expect(node.descriptors.get("qos_overrides./points.publisher.durability")?.readOnly).toBe(true);
  });

  it("a bad QoS override or an override for no topic is reported", async () => {
    await expect(start(["-p", "qos_overrides./image.subscription.reliability:=sometimes"])).rejects.toThrow(
      /qos_overrides\.\/image\.subscription\.reliability must be one of reliable \| best_effort, got "sometimes"/,
    );
    const { node } = await start(["-p", "qos_overrides./nowhere.publisher.depth:=2"]);
    expect(node.logLines).toContain("WARN qos_overrides./nowhere.publisher.depth matches no topic of this node; ignored");
  });
});

describe("live node: published messages", () => {
  it("publishes depth, camera_info, points, labels and status for a frame, field by field", async () => {
    const { node } = await start([]);
    const stamp = stampAt(3);
    const image = testImage();
    node.deliver("/image", imageMessage(stamp, image));
    node.deliver("/camera_info", infoMessage(stamp));
    const status = node.publisher<"depthseg/msg/PerceptionStatus">("/status");
    await until(() => status.messages.length === 1, "status");

    const depth = node.publisher<"sensor_msgs/msg/Image">("/depth/image").messages;
    expect(depth).toHaveLength(1);
    const d = depth[0]!;
    expect(d.header).toEqual({ stamp, frame_id: FRAME_ID });
    expect([d.encoding, d.width, d.height, d.step, d.is_bigendian]).toEqual(["32FC1", W, H, W * 4, 0]);
    const dv = new DataView((d.data as Uint8Array).buffer, (d.data as Uint8Array).byteOffset);
    for (let i = 0; i < W * H; i++) expect(dv.getFloat32(4 * i, true)).toBeCloseTo(metres(image.data[3 * i]!), 5);

    const info = node.publisher<"sensor_msgs/msg/CameraInfo">("/depth/camera_info").messages[0]!;
    expect(info.header).toEqual({ stamp, frame_id: FRAME_ID });
    expect([info.width, info.height]).toEqual([W, H]);
    expect(Array.from(info.k)).toEqual([FX, 0, CX, 0, FY, CY, 0, 0, 1]);

    const cloud = node.publisher<"sensor_msgs/msg/PointCloud2">("/points").messages[0]!;
    expect(cloud.header).toEqual({ stamp, frame_id: FRAME_ID });
    expect(cloud.fields.map((f) => [f.name, f.offset, f.datatype, f.count])).toEqual([
      ["x", 0, PointFieldType.FLOAT32, 1],
      ["y", 4, PointFieldType.FLOAT32, 1],
      ["z", 8, PointFieldType.FLOAT32, 1],
      ["rgb", 12, PointFieldType.FLOAT32, 1],
      ["label", 16, PointFieldType.UINT16, 1],
    ]);
    expect([cloud.width, cloud.height, cloud.point_step, cloud.row_step, cloud.is_dense, cloud.is_bigendian]).toEqual([W, H, 20, 20 * W, false, false]);
    const cv = new DataView((cloud.data as Uint8Array).buffer, (cloud.data as Uint8Array).byteOffset);
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
        expect(cv.getUint16(at + 16, true), `pixel ${i}`).toBe(r >= b ? 0 : 2);
      }
    }

    const labels = node.publisher<"sensor_msgs/msg/Image">("/segmentation/labels").messages[0]!;
    expect([labels.encoding, labels.width, labels.height]).toEqual(["mono8", W, H]);
    expect(Array.from(labels.data as Uint8Array)).toEqual(Array.from({ length: W * H }, (_, i) => (image.data[3 * i]! >= image.data[3 * i + 2]! ? 0 : 2)));

    const s = status.messages[0]!;
    expect(s.header).toEqual({ stamp, frame_id: FRAME_ID });
    expect([s.camera, s.model, s.execution_provider, s.depth_kind, s.depth_is_metric]).toEqual(["/image", "analytic", "cpu", "metric", true]);
    expect([s.frames_processed, s.frames_dropped, s.frames_failed]).toEqual([1n, 0n, 0n]);
    expect(s.latency_total_ms).toBeGreaterThan(0);
    expect(s.latency_inference_ms).toBeGreaterThan(0);
  });

  it("builds colourised views only while they have subscribers", async () => {
    const { node } = await start([]);
    const depthColor = node.publisher("/depth/colorized");
    const labelColor = node.publisher("/segmentation/colorized");
    const status = node.publisher("/status");
    node.deliver("/image", imageMessage(stampAt(0)));
    node.deliver("/camera_info", infoMessage(stampAt(0)));
    await until(() => status.messages.length === 1, "first status");
    expect(depthColor.messages).toHaveLength(0);
    expect(labelColor.messages).toHaveLength(0);

    depthColor.subscribers = 1;
    node.deliver("/image", imageMessage(stampAt(1)));
    node.deliver("/camera_info", infoMessage(stampAt(1)));
    await until(() => status.messages.length === 2, "second status");
    expect(depthColor.messages).toHaveLength(1);
    expect(labelColor.messages).toHaveLength(0);
    const colored = depthColor.messages[0] as RclMessage<"sensor_msgs/msg/Image">;
    expect([colored.encoding, colored.width, colored.height]).toEqual(["rgb8", W, H]);
  });

  it("bad input is counted and reported, and the node keeps going with the next frame", async () => {
    const { node, live } = await start([]);
    const status = node.publisher<"depthseg/msg/PerceptionStatus">("/status");
    // One at a time: frames given while another is in flight would replace each other (latest wins).
    const bad = { ...imageMessage(stampAt(0)), encoding: "yuv422_yuy2_typo" };
    node.deliver("/image", bad);
    node.deliver("/camera_info", infoMessage(stampAt(0)));
    await until(() => live.stats.all.failed === 1, "the bad encoding's failure");
    const zeroFocal = { ...infoMessage(stampAt(1)), k: new Float64Array(9), p: new Float64Array(12) };
    node.deliver("/image", imageMessage(stampAt(1)));
    node.deliver("/camera_info", zeroFocal);
    await until(() => live.stats.all.failed === 2, "the zero focal length's failure");
    // nanosec ≥ 1e9: refused before pairing, for the image and for its CameraInfo.
    const badStamp = { sec: 100, nanosec: 1_500_000_000 };
    node.deliver("/image", imageMessage(badStamp));
    node.deliver("/camera_info", infoMessage(badStamp));
    await until(() => live.stats.all.failed === 3, "the invalid stamp's failure");
    node.deliver("/image", imageMessage(stampAt(2)));
    node.deliver("/camera_info", infoMessage(stampAt(2)));
    await until(() => status.messages.length === 1, "status of the good frame");
    expect(status.messages[0]!.header.stamp).toEqual(stampAt(2));
    expect(status.messages[0]!.frames_failed).toBe(3n);
    const counts = live.stats.all.snapshot();
    expect(counts.failedByReason).toEqual({ unknown_encoding: 1, invalid_camera_info: 1, invalid_stamp: 1 });
    expect(counts).toMatchObject({ read: 4, processed: 1, dropped: 0, failed: 3, cameraInfoRejected: 1 });
    expect(node.logLines.some((l) => l.startsWith("WARN") && l.includes("yuv422_yuy2_typo"))).toBe(true);
    const stampWarnings = node.logLines.filter((l) => l.startsWith("WARN") && l.includes("invalid_stamp: header.stamp has sec 100, nanosec 1500000000"));
    expect(stampWarnings.map((l) => l.split(":")[0])).toEqual(["WARN /image", "WARN /camera_info"]);
  });

  it("runs without `status` when depthseg/msg/PerceptionStatus is not built, and says how to get it", async () => {
    const { node } = await start([], { unavailable: ["depthseg/msg/PerceptionStatus"] });
    expect(node.publishers.map((p) => p.topic)).not.toContain("/status");
    expect(node.logLines.some((l) => l.startsWith("WARN /status is not published") && l.includes("colcon"))).toBe(true);
    node.deliver("/image", imageMessage(stampAt(0)));
    node.deliver("/camera_info", infoMessage(stampAt(0)));
    await until(() => node.publisher("/points").messages.length === 1, "points");
  });

  it("refuses to start when vision_msgs is missing, naming the package to install", async () => {
    await expect(start([], { unavailable: ["vision_msgs/msg/LabelInfo"] })).rejects.toThrow(/ros-\$ROS_DISTRO-vision-msgs/);
  });
});

describe("live node: parameters", () => {
  it("declares every live parameter with type, description, range and read-only flag", async () => {
    const { node } = await start([]);
    const describe = (name: string) => {
      const d = node.descriptors.get(name);
      if (!d) throw new Error(`${name} not declared`);
      return { type: d.type, readOnly: d.readOnly, constraints: d.additionalConstraints };
    };
    expect(describe("range.max")).toEqual({ type: 3, readOnly: false, constraints: "range: [0, 10000]" });
    expect(describe("pointcloud.decimation")).toEqual({ type: 2, readOnly: false, constraints: "range: [1, 32]" });
    expect(describe("model")).toMatchObject({ type: 4, readOnly: true });
    expect(describe("colorize.colormap")).toMatchObject({ type: 4, readOnly: false, constraints: "one of: turbo, viridis, inferno, jet" });
    expect(describe("execution_providers")).toMatchObject({ type: 9, readOnly: true });
    expect(describe("cameras")).toMatchObject({ type: 9, readOnly: true });
    expect(node.descriptors.get("range.max")!.description).toMatch(/published as NaN/);
    // Replay-only parameters are not declared by the live node.
    expect(node.descriptors.has("output_namespace")).toBe(false);
    expect(node.descriptors.has("image_topic")).toBe(false);
    expect(node.parameters.get("pointcloud.decimation")?.value).toBe(1n);
  });

  it("takes values from a params file (integers accepted for doubles) and -p, -p last", async () => {
    const dir = await tempDir();
    const file = join(dir, "params.yaml");
    await writeFile(file, "/**:\n  ros__parameters:\n    range:\n      max: 8\n      min: 0.25\n    pointcloud:\n      decimation: 2\n");
    const { node } = await start(["--params-file", file, "-p", "pointcloud.decimation:=3"]);
    expect(node.parameters.get("range.max")?.value).toBe(8);
    expect(node.parameters.get("range.max")?.type).toBe(3);
    expect(node.parameters.get("range.min")?.value).toBe(0.25);
    expect(node.parameters.get("pointcloud.decimation")?.value).toBe(3n);
  });

  it("refuses to start on an unknown or invalid parameter, naming it", async () => {
    await expect(start(["-p", "range.maxx:=3.0"])).rejects.toThrow(/unknown parameter "range.maxx"/);
    await expect(start(["-p", "pointcloud.decimation:=0"])).rejects.toThrow(/"pointcloud.decimation" must be in \[1, 32\], got 0/);
    await expect(start(["-p", "cameras:=[front, front]"])).rejects.toThrow(/cameras: "front" is listed twice/);
  });

  it("accepts valid run-time changes, applies them to the next frame, and rejects invalid ones with a reason", async () => {
    const { double, node } = await start([]);
    const set = (name: string, type: number, value: unknown) => node.setParameter(new DoubleParameter(name, type as never, value));

    // `ros2 param set ... range.max 1` sends an integer: accepted for a double parameter.
    expect(set("range.max", 2, 1n)).toEqual({ successful: true, reason: "" });
    expect(node.parameters.get("range.max")?.value).toBe(1);
    expect(set("range.min", 3, 2.0)).toEqual({ successful: false, reason: "range.max (1) must be greater than range.min (2)" });
    expect(set("colorize.colormap", 4, "rainbow")).toEqual({ successful: false, reason: 'parameter "colorize.colormap" must be one of turbo | viridis | inferno | jet, got "rainbow"' });
    expect(set("pointcloud.decimation", 2, 99n)).toEqual({ successful: false, reason: 'parameter "pointcloud.decimation" must be in [1, 32], got 99' });
    expect(set("range.max", 4, "far").successful).toBe(false); // wrong type: refused by rclnodejs itself
    expect(set("model", 4, "/elsewhere")).toEqual({ successful: false, reason: "Parameter model is readonly" });
    // Checked against the model, which has one depth output and no heads to pin.
    expect(set("depth.head", 4, "indoor")).toEqual({ successful: false, reason: 'depth.head must be auto: the model has one depth output, no heads (got "indoor")' });

    // The accepted range.max = 1 m turns every pixel deeper than 1 m into NaN on the next frame.
    const image = testImage();
    node.deliver("/image", imageMessage(stampAt(0), image));
    node.deliver("/camera_info", infoMessage(stampAt(0)));
    const depth = node.publisher<"sensor_msgs/msg/Image">("/depth/image");
    await until(() => depth.messages.length === 1, "depth");
    const data = depth.messages[0]!.data as Uint8Array;
    const dv = new DataView(data.buffer, data.byteOffset);
    for (let i = 0; i < W * H; i++) {
      const expected = metres(image.data[3 * i]!);
      const got = dv.getFloat32(4 * i, true);
      if (expected > 1) expect(got).toBeNaN();
      else expect(got).toBeCloseTo(expected, 5);
    }
    expect(double.events).not.toContain("destroy node");
  });
});

describe("live node: several cameras", () => {
  it("serves cameras round robin when inference is the bottleneck and counts drops per camera", async () => {
    const { node, live } = await start(["-p", "cameras:=[front, rear]", "-r", "front/image:=/cams/front/image_raw"], { inferenceDelayMs: 40 });
    expect(live.cameraTopics).toEqual(["/cams/front/image_raw", "/rear/image"]);
    expect(node.subscriptions.map((s) => s.topic)).toEqual(["/cams/front/image_raw", "/front/camera_info", "/rear/image", "/rear/camera_info"]);
    expect(node.publishers.map((p) => p.topic)).toContain("/front/depth/image");
    expect(node.publishers.map((p) => p.topic)).toContain("/rear/segmentation/label_info");

    // Both cameras send 8 frames 5 ms apart; one inference takes 40+ ms.
    for (let i = 0; i < 8; i++) {
      node.deliver("/cams/front/image_raw", imageMessage(stampAt(i, 200)));
      node.deliver("/front/camera_info", infoMessage(stampAt(i, 200)));
      node.deliver("/rear/image", imageMessage(stampAt(i, 200, 500)));
      node.deliver("/rear/camera_info", infoMessage(stampAt(i, 200, 500)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await live.shutdown("burst done");
    const front = live.stats.camera("/cams/front/image_raw");
    const rear = live.stats.camera("/rear/image");
    for (const camera of [front, rear]) {
      expect(camera.read).toBe(8);
      expect(camera.dropped).toBeGreaterThan(0);
      expect(camera.processed + camera.dropped + camera.failed).toBe(8);
    }
    // Fair: neither camera got more than one frame more than the other.
    expect(Math.abs(front.processed - rear.processed)).toBeLessThanOrEqual(1);
    // Processing alternated between the cameras (round robin), in status publication order.
    const order = node.double.events.filter((e) => e.endsWith("/status")).map((e) => (e.includes("/front/") ? "F" : "R"));
    for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);
    // Each camera's status carries its own counts; the last one of each includes its drops so far.
    const frontStatus = node.publisher<"depthseg/msg/PerceptionStatus">("/front/status").messages.at(-1)!;
    expect(frontStatus.camera).toBe("/cams/front/image_raw");
    expect(Number(frontStatus.frames_processed)).toBe(front.processed);
  });
});

describe("live node: diagnostics and shutdown", () => {
  it("stops itself, destroying the node, when the inference worker dies", async () => {
    const double = new RclDouble();
    const live = await LiveNode.start({
      rcl: double,
      argv: ["node", "depthseg", "--ros-args", "-p", `model:=${modelDir}`],
      startWorker: async (bundle, params, log) => {
        const worker = await startInferenceWorker(bundle, params, log);
        await worker.close(); // every later run fails with a FatalError, as when the worker thread exits
        return worker;
      },
    });
    running.push(live);
    double.node.deliver("/image", imageMessage(stampAt(0)));
    double.node.deliver("/camera_info", infoMessage(stampAt(0)));
    await live.stopped;
    expect(live.fatalError?.message).toMatch(/inference worker is closed/);
    expect(double.events).toContain("destroy node");
    expect(double.isShutdown()).toBe(true);
    expect(double.node.logLines.some((l) => l.startsWith("ERROR stopping: ") && l.includes("inference worker"))).toBe(true);
  });

  it("publishes /diagnostics at 1 Hz with rate, drops, errors and provider per camera", async () => {
    const { node } = await start([]);
    expect(node.timers.map((t) => t.period)).toEqual([1_000_000_000n]);
    node.deliver("/image", imageMessage(stampAt(0)));
    node.deliver("/camera_info", infoMessage(stampAt(0)));
    await until(() => node.publisher("/status").messages.length === 1, "status");
    node.timers[0]!.callback();
    const array = node.publisher<"diagnostic_msgs/msg/DiagnosticArray">("/diagnostics").messages[0]!;
    expect(array.status.map((s) => s.name)).toEqual(["depthseg: inference", "depthseg: /image"]);
    const camera = array.status[1]!;
    expect(camera.level).toBe(0);
    const values = Object.fromEntries(camera.values.map((kv) => [kv.key, kv.value]));
    expect(values).toMatchObject({ frames_received: "1", frames_processed: "1", frames_dropped: "0", frames_failed: "0", execution_provider: "cpu" });
    expect(Number(values["output_rate_hz"])).toBeGreaterThan(0);
    expect(array.status[0]!.values).toContainEqual({ key: "execution_provider", value: "cpu" });
  });

  it("on shutdown finishes the frame in flight, publishes it, flushes, then destroys the node and shuts rcl down", async () => {
    const { double, node, live } = await start([], { inferenceDelayMs: 150 });
    node.publisher("/points").subscribers = 1;
    node.deliver("/image", imageMessage(stampAt(0)));
    node.deliver("/camera_info", infoMessage(stampAt(0)));
    await until(() => live.stats.all.read === 1, "frame taken");
    const stopped = live.shutdown("SIGINT received");
    // Messages that arrive while stopping are not taken.
    node.deliver("/image", imageMessage(stampAt(1)));
    node.deliver("/camera_info", infoMessage(stampAt(1)));
    await stopped;
    const events = double.events;
    const lastPublish = events.lastIndexOf("publish /status");
    const flush = events.findIndex((e) => e.startsWith("waitForAllAcked /points"));
    const destroy = events.indexOf("destroy node");
    const shutdown = events.indexOf("shutdown");
    expect(lastPublish).toBeGreaterThan(-1);
    expect(flush).toBeGreaterThan(lastPublish);
    expect(destroy).toBeGreaterThan(flush);
    expect(shutdown).toBeGreaterThan(destroy);
    expect(events.filter((e) => e.startsWith("waitForAllAcked"))).toHaveLength(1);
    expect(Number(events.find((e) => e.startsWith("waitForAllAcked"))!.split(" ")[2])).toBeLessThanOrEqual(500_000_000);
    expect(node.publisher("/status").messages).toHaveLength(1);
    expect(node.timers[0]!.cancelled).toBe(true);
    expect(double.isShutdown()).toBe(true);
    expect(live.fatalError).toBeUndefined();
    // A second call is harmless.
    await live.shutdown("again");
    expect(double.events.filter((e) => e === "destroy node")).toHaveLength(1);
  });
});
