// Message definitions (for CDR) and ros2msg schema text (for MCAP) of every ROS type we
// read or write. Standard types come from @foxglove/rosmsg-msgs-common (ros2jazzy; identical
// to ros2humble for these types, see definitions.test.ts); vision_msgs and depthseg types
// are parsed from the .msg sources in msgSources.ts.

import type { MessageDefinition } from "@foxglove/message-definition";
import { parse } from "@foxglove/rosmsg";
import { ros2jazzy } from "@foxglove/rosmsg-msgs-common";

import { LABEL_INFO_MSG, PERCEPTION_STATUS_MSG, VISION_CLASS_MSG } from "./msgSources.js";
import { dependencyOrder, ros2msgSchemaText } from "./ros2msgSchema.js";
import type { RosTypeName } from "./types.js";

export interface RosTypeSchema {
  /** ROS 2 name as rosbag2 records it, e.g. "sensor_msgs/msg/Image". */
  readonly typeName: RosTypeName;
  /** Root first, then its dependencies in schema-text order. */
  readonly definitions: readonly MessageDefinition[];
  /** What a rosbag2 MCAP Schema record holds (encoding "ros2msg"). */
  readonly schemaText: string;
}

export const ROS_TYPE_NAMES: readonly RosTypeName[] = [
  "sensor_msgs/msg/Image",
  "sensor_msgs/msg/CompressedImage",
  "sensor_msgs/msg/CameraInfo",
  "sensor_msgs/msg/PointCloud2",
  "vision_msgs/msg/LabelInfo",
  "depthseg/msg/PerceptionStatus",
  "diagnostic_msgs/msg/DiagnosticArray",
  "tf2_msgs/msg/TFMessage",
];

const localDefinitions: ReadonlyMap<string, MessageDefinition> = new Map([
  namedFromMsg("vision_msgs/VisionClass", VISION_CLASS_MSG),
  namedFromMsg("vision_msgs/LabelInfo", LABEL_INFO_MSG),
  namedFromMsg("depthseg/PerceptionStatus", PERCEPTION_STATUS_MSG),
]);

const commonDefinitions: Readonly<Record<string, MessageDefinition>> = ros2jazzy;

/** Every definition we know by short name: ROS 2 Jazzy's common packages, vision_msgs, depthseg. */
export function knownDefinitions(): Record<string, MessageDefinition> {
  return { ...commonDefinitions, ...Object.fromEntries(localDefinitions) };
}

/** Definition by short name ("sensor_msgs/Image"), local ones first. */
export function lookupDefinition(shortName: string): MessageDefinition | undefined {
  return localDefinitions.get(shortName) ?? commonDefinitions[shortName];
}

const schemas = new Map<RosTypeName, RosTypeSchema>();

export function isRosTypeName(name: string): name is RosTypeName {
  return (ROS_TYPE_NAMES as readonly string[]).includes(name);
}

/** Definitions and schema text of a known type; throws naming the known types otherwise. */
export function rosTypeSchema(typeName: string): RosTypeSchema {
  if (!isRosTypeName(typeName)) {
    throw new Error(`unknown ROS message type "${typeName}"; known types: ${ROS_TYPE_NAMES.join(", ")}`);
  }
  let schema = schemas.get(typeName);
  if (schema === undefined) {
    schema = buildSchema(typeName);
    schemas.set(typeName, schema);
  }
  return schema;
}

/** "sensor_msgs/msg/Image" -> "sensor_msgs/Image" (the form used inside definitions). */
export function shortTypeName(typeName: string): string {
  const parts = typeName.split("/");
  return parts.length === 3 && parts[1] === "msg" ? `${parts[0]}/${parts[2]}` : typeName;
}

function buildSchema(typeName: RosTypeName): RosTypeSchema {
  const root = lookupDefinition(shortTypeName(typeName));
  if (root === undefined) throw new Error(`no message definition for ${typeName}`);
  const deps = dependencyOrder(root, lookupDefinition).map((name) => {
    const def = lookupDefinition(name);
    if (def === undefined) throw new Error(`no message definition for ${name} (used by ${typeName})`);
    return def;
  });
  return {
    typeName,
    definitions: [root, ...deps],
    schemaText: ros2msgSchemaText(root, lookupDefinition),
  };
}

function namedFromMsg(name: string, text: string): [string, MessageDefinition] {
  // skipTypeFixup: dependencies live in other texts; field types are already fully qualified.
  const [root] = parse(text, { ros2: true, skipTypeFixup: true });
  if (root === undefined) throw new Error(`empty .msg text for ${name}`);
  return [name, { name, definitions: root.definitions }];
}
