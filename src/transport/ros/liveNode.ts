// The live ROS 2 node: rclnodejs subscriptions feed the same RxJS pipeline as `depthseg replay`,
// and the same OutputEncoder's messages go to publishers instead of a bag. One process serves one
// or more cameras (parameter `cameras`) with one inference worker, round robin.

import { performance } from "node:perf_hooks";
import { Subject, type Subscription as RxSubscription } from "rxjs";
import { CleanupStack } from "../../cleanupStack.js";
import { FatalError, FrameError } from "../../errors.js";
import type { DepthsegParams } from "../../config/parameters.js";
import { loadModelBundle, type ModelBundle } from "../../inference/bundle.js";
import { startInferenceWorker, type InferenceWorker } from "../../inference/inferenceWorker.js";
import { cv } from "../../imaging/opencv.js";
import { cameraInfoToCalibration } from "../../messages/camera.js";
import { DiagnosticsReporter } from "../../messages/diagnostics.js";
import { OUTPUT_TOPICS, OutputEncoder, type OutputMessage } from "../../messages/outputMessages.js";
import { header } from "../../messages/outputs.js";
import type { CameraImageMessage } from "../../messages/ingest.js";
import { CameraStatsRegistry, cameraPipeline, type CameraInput, type FrameSink } from "../../pipeline/cameraPipeline.js";
import { FrameProcessor, checkParamsForModel } from "../../pipeline/frameProcessor.js";
import { DEFAULT_MODEL_DIR } from "../../paths.js";
import { resolveSections, sectionsFromRosArgs } from "../../config/paramsFile.js";
import { NodeParameters } from "./nodeParameters.js";
import {
  CAMERA_INFO_QOS,
  DIAGNOSTICS_QOS,
  IMAGE_QOS,
  LATCHED_QOS,
  OUTPUT_QOS,
  TF_STATIC_LISTENER_QOS,
  applyQosOverrides,
  describeQos,
  unmatchedQosOverrides,
  type QosEntity,
  type QosProfile,
} from "./qosProfiles.js";
import {
  DURABILITY_TRANSIENT_LOCAL,
  DURABILITY_VOLATILE,
  HISTORY_KEEP_ALL,
  HISTORY_KEEP_LAST,
  PARAMETER_INTEGER,
  PARAMETER_STRING,
  RELIABILITY_BEST_EFFORT,
  RELIABILITY_RELIABLE,
  type RclMessageTypeName,
  type RclModule,
  type RclNode,
  type RclPublisher,
  type RclTimer,
} from "./rclPort.js";
import { cameraInfoFromRcl, compressedImageFromRcl, imageFromRcl, pointCloud2FromRcl, tfMessageFromRcl, toRclMessage, withOwnedData, type OutputTypeName } from "./rclMessages.js";
import { addStaticTransforms, cloudPoints, depthImageAnchors } from "../../messages/anchors.js";
import { TF_STATIC_TOPIC } from "../../replay/outputTopics.js";
import { cloudPlacer, groundPlacer } from "../../pipeline/anchorPlacement.js";
import { StaticTransforms } from "../../geometry/staticTransforms.js";

export const NODE_NAME = "depthseg";
export const DIAGNOSTICS_TOPIC = "/diagnostics";
const DIAGNOSTICS_PERIOD_NS = 1_000_000_000n;
/** How long shutdown waits, in all, for reliable subscribers to acknowledge the last messages. */
const FLUSH_TIMEOUT_NS = 500_000_000n;
/** How long shutdown waits for the frames already taken to finish. */
const DRAIN_TIMEOUT_MS = 10_000;
/** The same failure of the same camera is logged at most once in this period. */
const FAILURE_LOG_PERIOD_MS = 5_000;

export interface LiveNodeOptions {
  readonly rcl: RclModule;
  /** process.argv-shaped: rcl reads `--ros-args ... [--]` from it (remaps, params files, `-p`). */
  readonly argv: readonly string[];
  /** Starts the inference worker; tests may pass their own. */
  readonly startWorker?: (bundle: ModelBundle, params: DepthsegParams, log: (line: string) => void) => Promise<InferenceWorker>;
}

interface DiagnosticsIo {
  readonly publisher: RclPublisher<"diagnostic_msgs/msg/DiagnosticArray">;
  timer: RclTimer | undefined;
}

/** The topics and publishers of one camera. */
interface CameraIo {
  /** Namespace of the camera's topics relative to the node ("" for the single-camera case). */
  readonly prefix: string;
  /** Fully qualified image topic after remapping: the camera's name in stats, status and logs. */
  readonly imageTopic: string;
  readonly encoder: OutputEncoder;
  /** By topic name as the encoder writes it (relative to the node). */
  readonly publishers: Map<string, RclPublisher<RclMessageTypeName>>;
}

export class LiveNode {
  readonly #rcl: RclModule;
  readonly #node: RclNode;
  readonly #destroyNode: () => Promise<void>;
  readonly #cleanups: CleanupStack;
  readonly #input = new Subject<CameraInput>();
  readonly #cameras: CameraIo[];
  readonly #diagnostics: DiagnosticsIo;
  readonly #stats: CameraStatsRegistry;
  #pipeline: RxSubscription | undefined;
  #pipelineDone: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  /** Set as soon as shutdown starts (before #stopping is assigned), to silence expected failures. */
  #closing = false;
  #fatal: Error | undefined;
  readonly #lastFailureLog = new Map<string, number>();
  readonly #onStop: (() => void)[] = [];
  readonly #log: (level: "info" | "warn" | "error", line: string) => void;

  private constructor(init: {
    rcl: RclModule;
    node: RclNode;
    destroyNode: () => Promise<void>;
    cleanups: CleanupStack;
    cameras: CameraIo[];
    diagnostics: DiagnosticsIo;
    stats: CameraStatsRegistry;
  }) {
    this.#rcl = init.rcl;
    this.#node = init.node;
    this.#destroyNode = init.destroyNode;
    this.#cleanups = init.cleanups;
    this.#cameras = init.cameras;
    this.#diagnostics = init.diagnostics;
    this.#stats = init.stats;
    const logger = this.#node.getLogger();
    this.#log = (level, line) => void logger[level](line);
  }

  /** Initialises rcl, declares parameters, loads the model, creates topics and starts spinning. */
  static async start(options: LiveNodeOptions): Promise<LiveNode> {
    const { rcl } = options;
    await rcl.init(undefined, [...options.argv]);
    // The node shuts down itself on SIGINT/SIGTERM, after finishing the frame in flight.
    rcl.removeSignalHandlers();
    const cleanups = new CleanupStack();
    try {
      return await LiveNode.#build(rcl, options, cleanups);
    } catch (error) {
      await cleanups.closeAll();
      if (!rcl.isShutdown()) rcl.shutdown();
      throw error;
    }
  }

  static async #build(rcl: RclModule, options: LiveNodeOptions, cleanups: CleanupStack): Promise<LiveNode> {
    const node = new rcl.Node(NODE_NAME);
    // Destroyed after the worker closes on a failed start; a normal shutdown destroys it first.
    let destroyed = false;
    const destroyNode = async () => {
      if (!destroyed) node.destroy();
      destroyed = true;
    };
    cleanups.push(destroyNode);
    const logger = node.getLogger();
    const log = (line: string) => void logger.info(line);

    // rclnodejs applies only some params-file sections; rclcpp's rules apply them all (paramsFile.ts).
    const nodeFqn = node.getFullyQualifiedName();
    const overrides = resolveSections(sectionsFromRosArgs(options.argv), nodeFqn);
    if (overrides.applied.length > 0) log(`parameters of ${nodeFqn} from sections ${overrides.applied.join(", ")}`);
    const parameters = new NodeParameters({ rcl, node, overrides: overrides.values });
    const initial = parameters.params;
    const bundle = await loadModelBundle(initial.model || DEFAULT_MODEL_DIR);
    const checkForModel = (params: DepthsegParams) => checkParamsForModel(params, bundle);
    checkForModel(initial);
    parameters.declare(checkForModel);
    // Loaded now, not on the first frame: a 0.3 s stall there would drop the first frames.
    cv();
    const worker = await (options.startWorker ?? startInferenceWorker)(bundle, initial, log);
    cleanups.push(() => worker.close());

    const qos = new QosResolver(rcl, node, parameters.qosOverrides);
    const cameras = (initial.cameras.length > 0 ? initial.cameras : [""]).map((prefix) =>
      createCameraPublishers(node, prefix, bundle, worker.provider, qos, (line) => void logger.warn(line)),
    );
    const diagnostics: DiagnosticsIo = {
      publisher: node.createPublisher("diagnostic_msgs/msg/DiagnosticArray", DIAGNOSTICS_TOPIC, qos.options(DIAGNOSTICS_TOPIC, "publisher", DIAGNOSTICS_QOS)),
      timer: undefined,
    };
    const stats = new CameraStatsRegistry();
    const live = new LiveNode({ rcl, node, destroyNode, cleanups, cameras, diagnostics, stats });

    const processor = new FrameProcessor(bundle, worker, () => parameters.params);
    // scale.source points: the clouds are placed with the robot's /tf_static tree (read below);
    // ground_plane with scale.ground_frame: so is the floor.
    const transforms = new StaticTransforms();
    live.#startPipeline(processor, () => parameters.params, transforms);
    if (initial.scale.source === "points" || groundFrameOf(initial) !== "") live.#subscribeStaticTransforms(transforms, qos);
    for (const camera of cameras) {
      live.#subscribe(camera, initial, qos);
      live.#subscribeAnchors(camera, initial, qos);
    }
    for (const name of qos.unmatched()) void logger.warn(`${name} matches no topic of this node; ignored`);
    qos.declareUsed();

    const reporter = new DiagnosticsReporter({
      nodeName: node.name(),
      model: bundle.name,
      provider: worker.provider,
      depthKind: bundle.outputs.depth.kind,
    });
    const startSec = performance.now() / 1000;
    for (const camera of cameras) stats.camera(camera.imageTopic);
    diagnostics.timer = node.createTimer(DIAGNOSTICS_PERIOD_NS, () => {
      const snapshots = new Map([...stats.cameras()].map(([topic, s]) => [topic, s.snapshot()] as const));
      const message = reporter.report(header(node.now().toMsg(), ""), snapshots, performance.now() / 1000, startSec);
      diagnostics.publisher.publish(toRclMessage<"diagnostic_msgs/msg/DiagnosticArray">(message));
    });

    // Latched: subscribers that come later still get the class map.
    const stamp = node.now().toMsg();
    for (const camera of cameras) {
      const info = camera.encoder.labelInfo(header(stamp, ""), 0n);
      if (info) publishOutput(camera, info);
    }
    node.spin();
    log(
      `ready: ${bundle.name} (${bundle.outputs.depth.kind}) on ${worker.provider}; ` +
        cameras.map((c) => `${c.imageTopic} -> ${node.resolveTopicName(c.encoder.topic(OUTPUT_TOPICS.depth))}`).join("; "),
    );
    return live;
  }

  /** The image topics served, fully qualified. */
  get cameraTopics(): string[] {
    return this.#cameras.map((c) => c.imageTopic);
  }

  get stats(): CameraStatsRegistry {
    return this.#stats;
  }

  /** Set when the pipeline ended on an error that stops the node (e.g. the inference worker died). */
  get fatalError(): Error | undefined {
    return this.#fatal;
  }

  /**
   * Stops taking frames, lets the frames already taken finish and publish, flushes reliable
   * publishers, then destroys the node and shuts rcl down. Safe to call more than once.
   */
  shutdown(reason = "shutdown requested"): Promise<void> {
    this.#stopping ??= this.#shutdown(reason);
    return this.#stopping;
  }

  /** Resolves when the node has shut down (by a signal, or by itself on a fatal error). */
  get stopped(): Promise<void> {
    return this.#stopping ?? new Promise<void>((resolve) => this.#onStop.push(resolve));
  }

  async #shutdown(reason: string): Promise<void> {
    this.#closing = true;
    this.#log("info", `${reason}: finishing the frames in flight`);
    this.#input.complete();
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.#pipelineDone.then(() => true),
      new Promise<boolean>((resolve) => (drainTimer = setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS))),
    ]);
    clearTimeout(drainTimer);
    if (!drained) this.#log("warn", `frames still in flight after ${DRAIN_TIMEOUT_MS / 1000} s; stopping anyway`);
    this.#pipeline?.unsubscribe();
    this.#diagnostics.timer?.cancel();
    this.#flushPublishers();
    const all = this.#stats.all;
    this.#log("info", `stopped: ${all.processed} frames processed, ${all.dropped} dropped, ${all.failed} failed`);
    await this.#destroyNode();
    const cleanupError = await this.#cleanups.closeAll();
    // The node (and its logger) is gone: report on stderr.
    if (cleanupError !== undefined) process.stderr.write(`depthseg: while stopping: ${(cleanupError as Error).message ?? String(cleanupError)}\n`);
    if (!this.#rcl.isShutdown()) this.#rcl.shutdown();
    for (const resolve of this.#onStop.splice(0)) resolve();
  }

  /**
   * Waits (blocking, as rcl does) for reliable subscribers to acknowledge the last messages, all
   * publishers together within FLUSH_TIMEOUT_NS. Middleware without acknowledgements throws: that
   * only means there is nothing to wait for.
   */
  #flushPublishers(): void {
    const deadline = process.hrtime.bigint() + FLUSH_TIMEOUT_NS;
    for (const camera of this.#cameras) {
      for (const publisher of camera.publishers.values()) {
        const left = deadline - process.hrtime.bigint();
        if (left <= 0n) return;
        if (publisher.subscriptionCount === 0) continue;
        try {
          publisher.waitForAllAcked(left);
        } catch {
          return;
        }
      }
    }
  }

  #startPipeline(processor: FrameProcessor, params: () => DepthsegParams, transforms: StaticTransforms): void {
    const initial = params();
    const sink: FrameSink = {
      writeOutputs: async (outputs) => {
        const camera = this.#cameraFor(outputs.frame.cameraTopic);
        const t0 = performance.now();
        for (const message of camera.encoder.encode(outputs)) publishOutput(camera, message);
        return performance.now() - t0;
      },
      writeStatus: async (outputs, cameraStats, totalMs) => {
        const camera = this.#cameraFor(outputs.frame.cameraTopic);
        publishOutput(camera, camera.encoder.status(outputs, cameraStats, totalMs));
      },
    };
    const results = this.#input.pipe(
      cameraPipeline({
        processor,
        sink,
        syncSlopSec: () => params().syncSlopSec,
        maxInFlight: initial.maxInFlight,
        select: (cameraTopic) => {
          const camera = this.#cameraFor(cameraTopic);
          // Colourised views and confidence cost a pass per frame: built only while someone watches.
          return {
            depthColorized: hasSubscribers(camera, OUTPUT_TOPICS.depthColorized),
            labelsColorized: hasSubscribers(camera, OUTPUT_TOPICS.labelsColorized),
            confidence: hasSubscribers(camera, OUTPUT_TOPICS.confidence),
          };
        },
        stats: this.#stats,
        lossless: false,
        rectify: initial.rectify,
        warn: (line) => this.#log("warn", line),
        onCameraInfoRejected: (error) => this.#logFailure(error),
        // Clouds are placed with /tf_static when it links their frame to the camera's, else with scale.extrinsics.
        ...(initial.scale.source === "depth_image" || initial.scale.source === "points"
          ? {
              anchors: {
                placeCloud: cloudPlacer(transforms, () => params().scale.extrinsics, (line) => this.#log("warn", line), (line) => this.#log("info", line)),
              },
            }
          : {}),
        ...(groundFrameOf(initial) !== ""
          ? { groundPlane: groundPlacer(transforms, groundFrameOf(initial), () => params().scale, (line) => this.#log("warn", line), (line) => this.#log("info", line)) }
          : {}),
      }),
    );
    this.#pipelineDone = new Promise<void>((resolve) => {
      this.#pipeline = results.subscribe({
        next: (result) => {
          if (!result.ok) this.#logFailure(result.error);
        },
        error: (error: unknown) => {
          // A FatalError (inference worker gone, ...) fails every later frame: stop the node.
          this.#fatal = error instanceof Error ? error : new Error(String(error));
          this.#log("error", `stopping: ${this.#fatal.message}`);
          resolve();
          void this.shutdown("fatal error");
        },
        complete: () => resolve(),
      });
    });
  }

  #subscribe(camera: CameraIo, params: DepthsegParams, qos: QosResolver): void {
    const node = this.#node;
    const topics = cameraInputTopics(node, camera.prefix, params.imageTransport);
    // A message that cannot be converted still reaches the pipeline, which counts it (an image
    // as read and failed, so read = processed + dropped + failed holds).
    const push = (make: () => CameraInput, topic: string, message: "image" | "camera_info") => {
      let input: CameraInput;
      try {
        input = make();
      } catch (error) {
        const frameError = new FrameError("bad_message", (error as Error).message, topic);
        input = { kind: "unreadable", message, cameraTopic: camera.imageTopic, error: frameError };
      }
      this.#input.next(input);
    };
    const imageInput = (image: CameraImageMessage): CameraInput => ({
      kind: "image",
      pending: {
        cameraTopic: camera.imageTopic,
        stamp: image.message.header.stamp,
        frameId: image.message.header.frame_id,
        image,
        receivedAt: performance.now(),
      },
    });
    if (params.imageTransport === "compressed") {
      node.createSubscription("sensor_msgs/msg/CompressedImage", topics.image, qos.options(topics.image, "subscription", IMAGE_QOS), (msg) =>
        push(() => imageInput({ encoding: "compressed", message: compressedImageFromRcl(msg) }), camera.imageTopic, "image"),
      );
    } else {
      node.createSubscription("sensor_msgs/msg/Image", topics.image, qos.options(topics.image, "subscription", IMAGE_QOS), (msg) =>
        push(() => imageInput({ encoding: "raw", message: imageFromRcl(msg) }), camera.imageTopic, "image"),
      );
    }
    node.createSubscription("sensor_msgs/msg/CameraInfo", topics.cameraInfo, qos.options(topics.cameraInfo, "subscription", CAMERA_INFO_QOS), (msg) =>
      push(() => {
        const info = cameraInfoFromRcl(msg);
        return {
          kind: "info",
          cameraTopic: camera.imageTopic,
          infoTopic: topics.cameraInfo,
          stamp: info.header.stamp,
          calibration: cameraInfoToCalibration(info),
        };
      }, topics.cameraInfo, "camera_info"),
    );
  }

  /** scale.source depth_image / points: the anchor topic, resolved in the camera's namespace as `image` is. */
  #subscribeAnchors(camera: CameraIo, params: DepthsegParams, qos: QosResolver): void {
    const { source, topic } = params.scale;
    if (source !== "depth_image" && source !== "points") return;
    const resolved = this.#node.resolveTopicName(topic.startsWith("/") ? topic : join(camera.prefix, topic));
    // Anchors are not frames: a bad one is logged (rate-limited) and its frames keep the last scale.
    const push = (make: () => CameraInput) => {
      try {
        this.#input.next(make());
      } catch (error) {
        const why = error instanceof FrameError ? error.detail : (error as Error).message;
        this.#logFailure(new FrameError("bad_message", `scale anchors left out: ${why}`, resolved));
      }
    };
    if (source === "depth_image") {
      this.#node.createSubscription("sensor_msgs/msg/Image", resolved, qos.options(resolved, "subscription", IMAGE_QOS), (msg) =>
        push(() => {
          const image = imageFromRcl(msg);
          return { kind: "anchors", cameraTopic: camera.imageTopic, stamp: image.header.stamp, anchors: depthImageAnchors(image) };
        }),
      );
    } else {
      this.#node.createSubscription("sensor_msgs/msg/PointCloud2", resolved, qos.options(resolved, "subscription", IMAGE_QOS), (msg) =>
        push(() => {
          const cloud = pointCloud2FromRcl(msg);
          return { kind: "anchors", cameraTopic: camera.imageTopic, stamp: cloud.header.stamp, anchors: { kind: "cloud", frameId: cloud.header.frame_id, points: cloudPoints(cloud) } };
        }),
      );
    }
  }

  /** /tf_static into `transforms`, as tf2_ros's static listener reads it (latched: earlier publications arrive too). */
  #subscribeStaticTransforms(transforms: StaticTransforms, qos: QosResolver): void {
    const topic = this.#node.resolveTopicName(TF_STATIC_TOPIC);
    this.#node.createSubscription("tf2_msgs/msg/TFMessage", topic, qos.options(topic, "subscription", TF_STATIC_LISTENER_QOS), (msg) => {
      try {
        addStaticTransforms(transforms, tfMessageFromRcl(msg));
      } catch (error) {
        this.#logFailure(new FrameError("bad_message", `transforms left out of placing the scale anchors: ${(error as Error).message}`, topic));
      }
    });
  }

  #cameraFor(imageTopic: string): CameraIo {
    const camera = this.#cameras.find((c) => c.imageTopic === imageTopic);
    if (!camera) throw new FatalError(`internal: no camera for ${imageTopic}`);
    return camera;
  }

  /** Bad input is logged, but one broken camera at 30 Hz must not flood the log. */
  #logFailure(error: FrameError): void {
    if (this.#closing) return; // images left unpaired at shutdown are counted, not reported
    const key = `${error.topic ?? ""} ${error.reason}`;
    const now = performance.now();
    const last = this.#lastFailureLog.get(key);
    if (last !== undefined && now - last < FAILURE_LOG_PERIOD_MS) return;
    this.#lastFailureLog.set(key, now);
    this.#log("warn", error.message);
  }
}

/**
 * The topics one camera is read from, fully qualified, as image_transport's CameraSubscriber
 * finds them: `camera_info` beside the image topic (image_transport::getCameraInfoTopic) and
 * `<image>/compressed` for the compressed transport, so remapping `image` carries both along.
 * Either one remapped on its own (`-r camera_info:=...`, `-r image/compressed:=...`) wins.
 */
export function cameraInputTopics(node: Pick<RclNode, "resolveTopicName">, prefix: string, transport: "raw" | "compressed"): { image: string; cameraInfo: string } {
  const image = node.resolveTopicName(join(prefix, "image"));
  const remappedOnItsOwn = (name: string): string | undefined => {
    const resolved = node.resolveTopicName(name);
    return resolved === node.resolveTopicName(name, true) ? undefined : resolved;
  };
  const cameraInfo = remappedOnItsOwn(join(prefix, "camera_info")) ?? `${image.slice(0, image.lastIndexOf("/")) || ""}/camera_info`;
  const compressed = remappedOnItsOwn(join(prefix, "image/compressed")) ?? `${image}/compressed`;
  return { image: transport === "compressed" ? compressed : image, cameraInfo };
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

function hasSubscribers(camera: CameraIo, name: string): boolean {
  return (camera.publishers.get(camera.encoder.topic(name))?.subscriptionCount ?? 0) > 0;
}

function publishOutput(camera: CameraIo, out: OutputMessage): void {
  const publisher = camera.publishers.get(out.topic);
  // No publisher: the status type is not available (logged once at start).
  publisher?.publish(toRclMessage<OutputTypeName>(withOwnedData(out.message)));
}

/** The output topics of one camera, by name relative to the node, and their message types. */
const OUTPUT_TYPES: readonly [name: string, type: OutputTypeName][] = [
  [OUTPUT_TOPICS.depth, "sensor_msgs/msg/Image"],
  [OUTPUT_TOPICS.depthInfo, "sensor_msgs/msg/CameraInfo"],
  [OUTPUT_TOPICS.depthColorized, "sensor_msgs/msg/Image"],
  [OUTPUT_TOPICS.confidence, "sensor_msgs/msg/Image"],
  [OUTPUT_TOPICS.points, "sensor_msgs/msg/PointCloud2"],
  [OUTPUT_TOPICS.labels, "sensor_msgs/msg/Image"],
  [OUTPUT_TOPICS.labelsColorized, "sensor_msgs/msg/Image"],
  [OUTPUT_TOPICS.labelInfo, "vision_msgs/msg/LabelInfo"],
  [OUTPUT_TOPICS.status, "depthseg/msg/PerceptionStatus"],
];

function createCameraPublishers(
  node: RclNode,
  prefix: string,
  bundle: ModelBundle,
  provider: string,
  qos: QosResolver,
  warn: (line: string) => void,
): CameraIo {
  const encoder = new OutputEncoder({ namespace: prefix, bundle, provider });
  const publishers = new Map<string, RclPublisher<RclMessageTypeName>>();
  for (const [name, type] of OUTPUT_TYPES) {
    if ((name === OUTPUT_TOPICS.labels || name === OUTPUT_TOPICS.labelsColorized || name === OUTPUT_TOPICS.labelInfo) && !bundle.outputs.segmentation) {
      continue;
    }
    const topic = encoder.topic(name);
    const base = name === OUTPUT_TOPICS.labelInfo ? LATCHED_QOS : OUTPUT_QOS;
    try {
      publishers.set(topic, node.createPublisher(type, topic, qos.options(topic, "publisher", base)));
    } catch (error) {
      if (type !== "depthseg/msg/PerceptionStatus") throw missingType(type, error);
      // Our own message exists only once the colcon package is built and sourced; the rest of
      // the node works without it, so it runs and says how to get `status`.
      warn(
        `${node.resolveTopicName(topic)} is not published: depthseg/msg/PerceptionStatus is not available ` +
          `(${(error as Error).message}). Build the depthseg package with colcon and source its install/setup.bash.`,
      );
    }
  }
  return { prefix, imageTopic: node.resolveTopicName(join(prefix, "image")), encoder, publishers };
}

function missingType(type: string, error: unknown): FatalError {
  const pkg = type.split("/")[0]!;
  return new FatalError(
    `cannot publish ${type}: ${(error as Error).message}\n` +
      `Install it (e.g. \`sudo apt install ros-$ROS_DISTRO-${pkg.replaceAll("_", "-")}\`), then regenerate rclnodejs's messages ` +
      "(`npx generate-ros-messages` in the depthseg folder).",
  );
}

/** QoS of each topic: our default, then the `qos_overrides.*` parameters for its resolved name. */
class QosResolver {
  readonly #used = new Map<string, string | number>();

  constructor(
    readonly rcl: RclModule,
    readonly node: RclNode,
    readonly overrides: ReadonlyMap<string, unknown>,
  ) {}

  options(topic: string, entity: QosEntity, base: QosProfile): { qos: InstanceType<RclModule["QoS"]> } {
    const resolved = this.node.resolveTopicName(topic);
    const applied = applyQosOverrides(base, resolved, entity, this.overrides);
    for (const [name, value] of applied.used) this.#used.set(name, value);
    if (applied.used.size > 0) void this.node.getLogger().info(`${resolved} (${entity}): QoS ${describeQos(applied.profile)}`);
    return { qos: toRclQos(this.rcl, applied.profile) };
  }

  unmatched(): string[] {
    return unmatchedQosOverrides(this.overrides, new Set(this.#used.keys()));
  }

  /** The overrides in effect become read-only parameters, as in rclcpp, so `ros2 param get` shows them. */
  declareUsed(): void {
    if (this.#used.size === 0) return;
    const { rcl } = this;
    const names = [...this.#used.keys()];
    const parameters = names.map((name) => {
      const value = this.#used.get(name)!;
      return typeof value === "number"
        ? new rcl.Parameter(name, PARAMETER_INTEGER, BigInt(value))
        : new rcl.Parameter(name, PARAMETER_STRING, value);
    });
    const descriptors = parameters.map((p) => new rcl.ParameterDescriptor(p.name, p.type, "QoS override (read only)", true));
    this.node.declareParameters(parameters, descriptors, true);
  }
}

function toRclQos(rcl: RclModule, profile: QosProfile): InstanceType<RclModule["QoS"]> {
  return new rcl.QoS(
    profile.history === "keep_all" ? HISTORY_KEEP_ALL : HISTORY_KEEP_LAST,
    profile.depth,
    profile.reliability === "reliable" ? RELIABILITY_RELIABLE : RELIABILITY_BEST_EFFORT,
    profile.durability === "transient_local" ? DURABILITY_TRANSIENT_LOCAL : DURABILITY_VOLATILE,
  );
}

/** scale.ground_frame when the floor comes from TF (scale.source ground_plane), else "". */
function groundFrameOf(params: DepthsegParams): string {
  return params.scale.source === "ground_plane" ? params.scale.groundFrame : "";
}
