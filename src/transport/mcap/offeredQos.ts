// rosbag2's `offered_qos_profiles` channel metadata: the QoS the recorded publisher offered,
// which `ros2 bag play` offers again (transient local = latched, so a late subscriber still
// gets a message published once).
//
// Written as a YAML list in the integer form of rosbag2 metadata version <= 8. rosbag2's MCAP
// plugin decodes it with the bag's metadata version, which is 8 when the file has no "rosbag2"
// metadata record (ours has none), and Humble reads only this form; Jazzy's names
// ("reliable", version 9) would fail to parse there.

import type { QosProfile } from "../ros/qosProfiles.js";

/** rmw_qos_*_policy_t values (rmw/types.h). */
const HISTORY = { keep_last: 1, keep_all: 2 } as const;
const RELIABILITY = { reliable: 1, best_effort: 2 } as const;
const DURABILITY = { transient_local: 1, volatile: 2 } as const;
const LIVELINESS_AUTOMATIC = 1;

/** One publisher's profile as rosbag2 records it; durations 0 = unspecified (the rmw default). */
export function offeredQosYaml(profile: QosProfile): string {
  const unspecified = (key: string) => [`  ${key}:`, "    sec: 0", "    nsec: 0"];
  return [
    `- history: ${HISTORY[profile.history]}`,
    `  depth: ${profile.history === "keep_last" ? profile.depth : 0}`,
    `  reliability: ${RELIABILITY[profile.reliability]}`,
    `  durability: ${DURABILITY[profile.durability]}`,
    ...unspecified("deadline"),
    ...unspecified("lifespan"),
    `  liveliness: ${LIVELINESS_AUTOMATIC}`,
    ...unspecified("liveliness_lease_duration"),
    "  avoid_ros_namespace_conventions: false",
  ].join("\n");
}
