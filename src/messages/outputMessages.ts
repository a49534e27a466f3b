// Emit edge: one frame's outputs → the ROS messages of the node's output topics. Used by replay
// (written to MCAP) and by the live node (published), so both write the same thing.

import { stampToNanoseconds } from "../frame.js";
import type { ModelBundle } from "../inference/bundle.js";
import type { FrameOutputs } from "../pipeline/frameProcessor.js";
import type { PipelineStats } from "../pipeline/stats.js";
import { calibrationToCameraInfo } from "./camera.js";
import { depthImage, header, labelImage, labelInfo, perceptionStatus, pointCloud2, rgbImage } from "./outputs.js";
import type { Header, RosMessageMap, RosTypeName } from "./types.js";

/** Output topic names relative to the node's namespace (DESIGN.md). */
export const OUTPUT_TOPICS = {
  depth: "depth/image",
  depthInfo: "depth/camera_info",
  depthColorized: "depth/colorized",
  confidence: "depth/confidence",
  points: "points",
  labels: "segmentation/labels",
  labelsColorized: "segmentation/colorized",
  labelInfo: "segmentation/label_info",
  status: "status",
} as const;

/** What the node publishes (not the transforms replay passes through from its input). */
type PublishedTypeName = Exclude<RosTypeName, "tf2_msgs/msg/TFMessage">;

export type OutputMessage = {
  [K in PublishedTypeName]: {
    readonly topic: string;
    readonly typeName: K;
    /** The input frame's stamp, so outputs line up with the camera in a bag. */
    readonly logTime: bigint;
    readonly message: RosMessageMap[K];
  };
}[PublishedTypeName];

export interface OutputEncoderOptions {
  /** Absolute namespace for replay ("/depthseg"); "" gives relative names for a live node. */
  readonly namespace: string;
  readonly bundle: ModelBundle;
  readonly provider: string;
}

export class OutputEncoder {
  readonly #namespace: string;
  readonly #bundle: ModelBundle;
  readonly #provider: string;
  /** One more than the largest class id: ids at or above it are unlabelled in the label image. */
  readonly #labelIdBound: number;
  #labelInfoSent = false;
  /** The mono8 label image's bytes, reused frame after frame (see encode). */
  #labelBytes: Uint8Array | undefined;

  constructor(options: OutputEncoderOptions) {
    this.#namespace = options.namespace.replace(/\/+$/, "");
    this.#bundle = options.bundle;
    this.#provider = options.provider;
    const classes = options.bundle.outputs.segmentation?.labels.classes ?? [];
    this.#labelIdBound = classes.length > 0 ? Math.max(...classes.map((c) => c.id)) + 1 : 0;
  }

  topic(name: string): string {
    return this.#namespace ? `${this.#namespace}/${name}` : name;
  }

  /**
   * Every output of the frame except `status` (which needs the frame's final latency). The
   * arrays are the frame's own (FrameOutputs' lifetime), except the mono8 label image's bytes,
   * which this encoder reuses: they are valid until its next encode(). Both sinks consume the
   * messages at once (CDR-encoded for a bag, published synchronously by a live node). The
   * buffer is a whole ArrayBuffer of its own: rclnodejs sends a typed array's bytes from the
   * start of its ArrayBuffer, so a view into a larger one would publish the wrong bytes.
   */
  encode(outputs: FrameOutputs): OutputMessage[] {
    const { frame } = outputs;
    const { width, height } = frame.image;
    const hdr = header(frame.stamp, frame.frameId);
    const logTime = stampToNanoseconds(frame.stamp);
    const out: OutputMessage[] = [];
    const push = <K extends RosTypeName>(name: string, typeName: K, message: RosMessageMap[K]): void => {
      out.push({ topic: this.topic(name), typeName, logTime, message } as OutputMessage);
    };

    const info = this.labelInfo(hdr, logTime);
    if (info) out.push(info);
    push(OUTPUT_TOPICS.depth, "sensor_msgs/msg/Image", depthImage(hdr, outputs.depth, width, height));
    // Depth is published at the camera resolution, so its intrinsics are the camera's.
    push(OUTPUT_TOPICS.depthInfo, "sensor_msgs/msg/CameraInfo", calibrationToCameraInfo(hdr, frame.calibration));
    if (outputs.depthColorized) {
      push(OUTPUT_TOPICS.depthColorized, "sensor_msgs/msg/Image", rgbImage(hdr, outputs.depthColorized, width, height));
    }
    if (outputs.confidence) {
      // 32FC1 like depth, 0..1 (depth/confidence).
      push(OUTPUT_TOPICS.confidence, "sensor_msgs/msg/Image", depthImage(hdr, outputs.confidence, width, height));
    }
    const cloud = outputs.cloud;
    push(
      OUTPUT_TOPICS.points,
      "sensor_msgs/msg/PointCloud2",
      pointCloud2(hdr, {
        width: cloud.width,
        height: cloud.height,
        pointStep: cloud.pointStep,
        rowStep: cloud.rowStep,
        fields: cloud.fields,
        data: cloud.data,
        isDense: cloud.isDense,
      }),
    );
    if (outputs.labels) {
      if (this.#labelBytes?.length !== width * height) this.#labelBytes = new Uint8Array(width * height);
      const image = labelImage(hdr, outputs.labels, width, height, this.#labelIdBound, this.#labelBytes);
      push(OUTPUT_TOPICS.labels, "sensor_msgs/msg/Image", image);
    }
    if (outputs.labelsColorized) {
      push(OUTPUT_TOPICS.labelsColorized, "sensor_msgs/msg/Image", rgbImage(hdr, outputs.labelsColorized, width, height));
    }
    return out;
  }

  /**
   * LabelInfo, the first time it is asked for (undefined after that, or without segmentation).
   * Latched (transient local) on a live node, which sends it at start; replay writes it before
   * the first label image.
   */
  labelInfo(hdr: Header, logTime: bigint): OutputMessage | undefined {
    const segmentation = this.#bundle.outputs.segmentation;
    if (!segmentation || this.#labelInfoSent) return undefined;
    this.#labelInfoSent = true;
    return {
      topic: this.topic(OUTPUT_TOPICS.labelInfo),
      typeName: "vision_msgs/msg/LabelInfo",
      logTime,
      message: labelInfo(hdr, segmentation.labels.classes, 0),
    };
  }

  status(outputs: FrameOutputs, cameraStats: PipelineStats, totalMs: number): OutputMessage {
    const { frame } = outputs;
    return {
      topic: this.topic(OUTPUT_TOPICS.status),
      typeName: "depthseg/msg/PerceptionStatus",
      logTime: stampToNanoseconds(frame.stamp),
      message: perceptionStatus(header(frame.stamp, frame.frameId), {
        camera: frame.cameraTopic,
        model: this.#bundle.name,
        trainedOn: this.#bundle.trainedOn ?? "",
        executionProvider: this.#provider,
        depthKind: outputs.depthKind,
        depthIsMetric: outputs.depthIsMetric,
        depthHead: outputs.depthHead,
        depthScale: outputs.depthScale,
        depthShift: outputs.depthShift,
        depthValidFraction: outputs.depthValidFraction,
        ...(outputs.scale ? { scale: outputs.scale } : {}),
        timings: outputs.timings,
        totalMs,
        framesProcessed: cameraStats.processed,
        framesDropped: cameraStats.dropped,
        framesFailed: cameraStats.failed,
      }),
    };
  }
}
