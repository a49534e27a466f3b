// `npm run bench:live`: the live node at camera rate, through rclnodejs's own JavaScript with its
// native addon stood in (tests/support/rclHarness.ts; no ROS here): a camera driver node publishes
// frames, real inference runs on the bundled tiny model.
//
//   npm run bench:live [-- --seconds 4 --rate 30 --json out.json]
//
// Warm-up runs, then runs in one process, each feeding 640x480 rgb8 frames at `--rate` Hz per camera:
//   one camera, no colourised subscribers | one camera, both colourised views subscribed |
//   two cameras (cameras: [front, rear]) sharing the one inference worker.
// Reported as ratios between them (see bench/README.md): the cost of colourised views the node
// skips without subscribers, and how fairly two cameras share the worker.

import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { header } from "../src/messages/outputs.js";
import { TINY_MODEL_DIR } from "../src/paths.js";
import type { PipelineStats } from "../src/pipeline/stats.js";
import { calibrationToCameraInfo } from "../src/messages/camera.js";
import { LiveNode } from "../src/transport/ros/liveNode.js";
import { toRclMessage } from "../src/transport/ros/rclMessages.js";
import type { RclMessage } from "../src/transport/ros/rclPort.js";
import { PeerNode, loadRealRclnodejs } from "../tests/support/rclHarness.js";
import { prepareRclnodejsPackages } from "../tests/support/rclnodejsPackages.js";
import { drawScene } from "../tools/make-sample-bag.js";

const WIDTH = 640;
const HEIGHT = 480;
const FRAME_ID = "camera_color_optical_frame";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "4" },
    rate: { type: "string", default: "30" },
    json: { type: "string" },
  },
});
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
if (!(SECONDS > 0) || !(RATE > 0)) throw new Error("--seconds and --rate must be > 0");

const images = Array.from({ length: 8 }, (_, i) => drawScene(i, WIDTH, HEIGHT));
const calibration = pinholeCalibration(WIDTH, HEIGHT, 525, 525, 319.5, 239.5);
prepareRclnodejsPackages();
// The driver's publishing (rclnodejs message classes, CDR) runs in this process too and is counted.
const real = loadRealRclnodejs("full");

interface CameraResult {
  readonly camera: string;
  readonly sent: number;
  /** Taken from the subscription; sent − read were replaced in the keep-last(1) queue, as DDS does. */
  readonly read: number;
  readonly processed: number;
  readonly dropped: number;
  readonly failed: number;
  readonly failedByReason: Readonly<Record<string, number>>;
  readonly latencyP50Ms: number;
  readonly latencyP95Ms: number;
  /** postprocess (where the colour maps are) + encode (message building and publishing), p50. */
  readonly postprocessEncodeP50Ms: number;
}

interface RunResult {
  readonly name: string;
  readonly cameras: CameraResult[];
}

function messagesAt(index: number, startSec: number): [RclMessage<"sensor_msgs/msg/Image">, RclMessage<"sensor_msgs/msg/CameraInfo">] {
  const ns = Math.round((index * 1e9) / RATE);
  const stamp = { sec: startSec + Math.floor(ns / 1e9), nanosec: ns % 1e9 };
  const image = images[index % images.length]!;
  const hdr = header(stamp, FRAME_ID);
  return [
    toRclMessage<"sensor_msgs/msg/Image">({ header: hdr, height: HEIGHT, width: WIDTH, encoding: "rgb8", is_bigendian: 0, step: WIDTH * 3, data: image.data }),
    toRclMessage<"sensor_msgs/msg/CameraInfo">(calibrationToCameraInfo(hdr, calibration)),
  ];
}

async function run(name: string, cameras: readonly string[], colorizedSubscribers: boolean, seconds = SECONDS): Promise<RunResult> {
  const rosArgs = ["-p", `model:=${TINY_MODEL_DIR}`, "-p", "execution_providers:=[cpu]"];
  if (cameras.length > 1) rosArgs.push("-p", `cameras:=[${cameras.join(", ")}]`);
  const live = await LiveNode.start({ rcl: real.rcl, argv: ["node", "depthseg", "--ros-args", ...rosArgs] });
  const driver = new PeerNode(real, "camera_driver");
  const prefixes = cameras.length > 1 ? cameras.map((c) => `/${c}`) : [""];
  if (colorizedSubscribers) {
    for (const prefix of prefixes) {
      driver.record("sensor_msgs/msg/Image", `${prefix}/depth/colorized`);
      driver.record("sensor_msgs/msg/Image", `${prefix}/segmentation/colorized`);
    }
  }
  // Frames at the camera rate, every camera in step, as drivers publish them.
  const total = Math.round(seconds * RATE);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    prefixes.forEach((prefix, c) => {
      const [image, info] = messagesAt(i, 100 + c * 1000);
      driver.publish("sensor_msgs/msg/Image", `${prefix}/image`, image);
      driver.publish("sensor_msgs/msg/CameraInfo", `${prefix}/camera_info`, info);
    });
  }
  await live.shutdown("bench run done");
  return {
    name,
    cameras: live.cameraTopics.map((topic) => summarise(topic, total, live.stats.camera(topic))),
  };
}

function summarise(camera: string, sent: number, stats: PipelineStats): CameraResult {
  const total = stats.latency("total");
  return {
    camera,
    sent,
    read: stats.read,
    processed: stats.processed,
    dropped: stats.dropped,
    failed: stats.failed,
    failedByReason: stats.snapshot().failedByReason,
    latencyP50Ms: total?.p50 ?? NaN,
    latencyP95Ms: total?.p95 ?? NaN,
    postprocessEncodeP50Ms: (stats.latency("postprocess")?.p50 ?? NaN) + (stats.latency("encode")?.p50 ?? NaN),
  };
}

// Not reported: the first runs pay for JIT, OpenCV and ONNX Runtime warm-up.
await run("warm-up", ["camera"], true, 3);
await run("warm-up", ["camera"], false, 3);
// Colourised off and on alternate, three times, so drift in the machine hits both alike.
const pairs: [RunResult, RunResult][] = [];
for (let k = 0; k < 3; k++) {
  pairs.push([await run("1 camera, colourised views off", ["camera"], false), await run("1 camera, colourised views subscribed", ["camera"], true)]);
}
const pair = await run("2 cameras, one worker", ["front", "rear"], false);

const rows = [...pairs.flat(), pair].flatMap((r) =>
  r.cameras.map(
    (c) =>
      `${r.name.padEnd(40)} ${c.camera.padEnd(14)} sent ${String(c.sent).padStart(4)}  read ${String(c.read).padStart(4)}  processed ${String(c.processed).padStart(4)}  dropped ${String(c.dropped).padStart(4)}  failed ${c.failed}${c.failed ? ` ${JSON.stringify(c.failedByReason)}` : ""}  latency p50 ${c.latencyP50Ms.toFixed(1).padStart(6)} ms  p95 ${c.latencyP95Ms.toFixed(1).padStart(6)} ms  postprocess+encode p50 ${c.postprocessEncodeP50Ms.toFixed(1).padStart(5)} ms`,
  ),
);
const [front, rear] = pair.cameras as [CameraResult, CameraResult];
const ratios = {
  colorizedCostRatio: median(pairs.map(([off, on]) => on.cameras[0]!.postprocessEncodeP50Ms / off.cameras[0]!.postprocessEncodeP50Ms)),
  twoCameraFairness: Math.min(front.processed, rear.processed) / Math.max(front.processed, rear.processed),
  // Against the mean of the single-camera runs.
  twoCameraThroughputRatio: (front.processed + rear.processed) / mean(pairs.flat().map((r) => r.cameras[0]!.processed)),
};
process.stdout.write(
  `live node through rclnodejs (native addon stood in): ${WIDTH}x${HEIGHT} rgb8 at ${RATE} Hz per camera for ${SECONDS} s, models/tiny on cpu\n` +
    `${rows.join("\n")}\n\n` +
    `colourised views subscribed / off (postprocess+encode p50, median of 3 pairs)  ${ratios.colorizedCostRatio.toFixed(2)}\n` +
    `two cameras: fairness (fewer / more processed)      ${ratios.twoCameraFairness.toFixed(2)}\n` +
    `two cameras: frames processed / one camera's        ${ratios.twoCameraThroughputRatio.toFixed(2)}\n`,
);
if (args.json) await writeFile(args.json, JSON.stringify({ rate: RATE, seconds: SECONDS, runs: [...pairs.flat(), pair], ratios }, null, 2));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
