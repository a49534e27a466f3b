// What a replay writes: the node's outputs (under output_namespace), and the input camera and
// transforms passed through, so one file opens in Foxglove with everything aligned. Each with
// the QoS `ros2 bag play` offers again.

import { OUTPUT_TOPICS } from "../messages/outputMessages.js";
import { LATCHED_QOS, OUTPUT_QOS, type QosProfile } from "../transport/ros/qosProfiles.js";

export const TF_TOPIC = "/tf";
export const TF_STATIC_TOPIC = "/tf_static";
export const TF_TYPE = "tf2_msgs/msg/TFMessage";

/** `--topics` names: the outputs by their name under the namespace, plus the pass-throughs. */
export const PASSTHROUGH_CHOICES = ["camera", "tf"] as const;
export const TOPIC_CHOICES: readonly string[] = [...Object.values(OUTPUT_TOPICS), ...PASSTHROUGH_CHOICES];

/** As tf2_ros's TransformBroadcaster (keep last 100) and StaticTransformBroadcaster (latched) offer them. */
const TF_QOS: QosProfile = { history: "keep_last", depth: 100, reliability: "reliable", durability: "volatile" };
const TF_STATIC_QOS: QosProfile = { history: "keep_last", depth: 1, reliability: "reliable", durability: "transient_local" };

export interface TopicSelection {
  /** Output names (OUTPUT_TOPICS values) to write. */
  readonly outputs: ReadonlySet<string>;
  readonly camera: boolean;
  readonly tf: boolean;
}

export const ALL_TOPICS: TopicSelection = { outputs: new Set(Object.values(OUTPUT_TOPICS)), camera: true, tf: true };

/** `--topics a,b,…`; an unknown name throws naming the choices. */
export function parseTopicSelection(list: string): TopicSelection {
  const names = list.split(",").map((name) => name.trim()).filter((name) => name !== "");
  const unknown = names.filter((name) => !TOPIC_CHOICES.includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new RangeError(
      `--topics: ${unknown.length > 0 ? `unknown topic ${unknown.map((n) => `"${n}"`).join(", ")}` : "names no topic"}` +
        ` (choices: ${TOPIC_CHOICES.join(", ")})`,
    );
  }
  return {
    outputs: new Set(names.filter((name) => !(PASSTHROUGH_CHOICES as readonly string[]).includes(name))),
    camera: names.includes("camera"),
    tf: names.includes("tf"),
  };
}

/**
 * The offered QoS of every topic a replay writes: the outputs as the live node offers them,
 * /tf and /tf_static as tf2_ros does. The camera's is not known (the input bag's driver chose
 * it), so it is left unknown and `ros2 bag play` uses its default.
 */
export function replayTopicQos(outputTopic: (name: string) => string): (topic: string) => QosProfile | undefined {
  const table = new Map<string, QosProfile>(
    Object.values(OUTPUT_TOPICS).map((name) => [outputTopic(name), name === OUTPUT_TOPICS.labelInfo ? LATCHED_QOS : OUTPUT_QOS]),
  );
  table.set(TF_TOPIC, TF_QOS);
  table.set(TF_STATIC_TOPIC, TF_STATIC_QOS);
  return (topic) => table.get(topic);
}
