// QoS of every topic the live node uses, and per-topic overrides from parameters. Overrides use
// rclcpp's names (`qos_overrides.<fully qualified topic>.<publisher|subscription>.<policy>`), so a
// params file written for C++ camera nodes works here too:
//
//   /**:
//     ros__parameters:
//       qos_overrides:
//         /camera/color/image_raw:
//           subscription: { reliability: reliable, depth: 5 }

import { ParameterError, QOS_OVERRIDES_PREFIX } from "../../config/parameters.js";

export type Reliability = "reliable" | "best_effort";
export type Durability = "volatile" | "transient_local";
export type History = "keep_last" | "keep_all";
export type QosEntity = "publisher" | "subscription";

export interface QosProfile {
  readonly history: History;
  readonly depth: number;
  readonly reliability: Reliability;
  readonly durability: Durability;
}

/** Camera images: sensor data (best effort) and only the newest one queued, as latest-wins does. */
export const IMAGE_QOS: QosProfile = { history: "keep_last", depth: 1, reliability: "best_effort", durability: "volatile" };
/**
 * CameraInfo: sensor data, but a few deep: one info per image, and an info that arrives just
 * before its image must still be there to pair with it.
 */
export const CAMERA_INFO_QOS: QosProfile = { history: "keep_last", depth: 5, reliability: "best_effort", durability: "volatile" };
/** Outputs: reliable so rviz and recorders get whole clouds, depth 1 so no subscriber sees stale ones. */
export const OUTPUT_QOS: QosProfile = { history: "keep_last", depth: 1, reliability: "reliable", durability: "volatile" };
/** LabelInfo: published once; transient local so late subscribers still get it. */
export const LATCHED_QOS: QosProfile = { history: "keep_last", depth: 1, reliability: "reliable", durability: "transient_local" };
/**
 * /tf_static as tf2_ros's TransformListener subscribes to it (tf2_ros/qos.hpp StaticListenerQoS:
 * reliable, transient local, keep last 100), so the latched transforms published before the node
 * started still arrive.
 */
export const TF_STATIC_LISTENER_QOS: QosProfile = { history: "keep_last", depth: 100, reliability: "reliable", durability: "transient_local" };
/** /diagnostics: as diagnostic_updater publishes it. */
export const DIAGNOSTICS_QOS: QosProfile = { history: "keep_last", depth: 10, reliability: "reliable", durability: "volatile" };

const POLICY_CHOICES: Readonly<Record<"reliability" | "durability" | "history", readonly string[]>> = {
  reliability: ["reliable", "best_effort"],
  durability: ["volatile", "transient_local"],
  history: ["keep_last", "keep_all"],
};

export interface AppliedQos {
  readonly profile: QosProfile;
  /** The override parameters that were used, by name, with their values. */
  readonly used: ReadonlyMap<string, string | number>;
}

/**
 * `base` with the overrides for `topic` (fully qualified, after remapping) applied; a value that
 * is not a valid policy throws a ParameterError naming the parameter.
 */
export function applyQosOverrides(
  base: QosProfile,
  topic: string,
  entity: QosEntity,
  overrides: ReadonlyMap<string, unknown>,
): AppliedQos {
  const prefix = `${QOS_OVERRIDES_PREFIX}${topic}.${entity}.`;
  let profile = base;
  const used = new Map<string, string | number>();
  for (const [name, value] of overrides) {
    if (!name.startsWith(prefix)) continue;
    const policy = name.slice(prefix.length);
    switch (policy) {
      case "depth": {
        const depth = typeof value === "bigint" ? Number(value) : value;
        if (typeof depth !== "number" || !Number.isInteger(depth) || depth < 1 || depth > 1000) {
          throw new ParameterError(`${name} must be an integer in [1, 1000], got ${String(value)}`);
        }
        profile = { ...profile, depth };
        used.set(name, depth);
        break;
      }
      case "reliability":
      case "durability":
      case "history": {
        const choices = POLICY_CHOICES[policy];
        if (typeof value !== "string" || !choices.includes(value)) {
          throw new ParameterError(`${name} must be one of ${choices.join(" | ")}, got ${JSON.stringify(value)}`);
        }
        profile = { ...profile, [policy]: value };
        used.set(name, value);
        break;
      }
      default:
        throw new ParameterError(`${name}: unsupported QoS policy "${policy}" (supported: depth, history, reliability, durability)`);
    }
  }
  return { profile, used };
}

/** Override parameters that name none of `topics` (a typo, or a remapping that changed the name). */
export function unmatchedQosOverrides(
  overrides: ReadonlyMap<string, unknown>,
  usedNames: ReadonlySet<string>,
): string[] {
  return [...overrides.keys()].filter((name) => name.startsWith(QOS_OVERRIDES_PREFIX) && !usedNames.has(name));
}

export function describeQos(profile: QosProfile): string {
  return `${profile.reliability}, ${profile.durability}, ${profile.history}${profile.history === "keep_last" ? ` ${profile.depth}` : ""}`;
}
