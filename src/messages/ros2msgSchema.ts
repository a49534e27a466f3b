// Builds the `ros2msg` schema text rosbag2 stores in MCAP Schema records, from parsed
// MessageDefinitions. Format (rosbag2 docs/message_definition_encoding.md and
// rosbag2_cpp LocalMessageDefinitionSource::get_full_text): the main type's .msg text, then
// for every dependency, depth-first, each dependency's own dependencies in sorted order and
// each type once: "\n", a line of 80 '=', a line "MSG: pkg/Type", then that type's text.
// The dependency name is the one used in the field ("std_msgs/Header", no "/msg/").

import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";

export const SCHEMA_SEPARATOR = "=".repeat(80);

// @foxglove/rosmsg parses `builtin_interfaces/Time` into the primitive "time"; a ROS 2 .msg
// file must spell the message type, and rosbag2 lists it as a dependency.
const BUILTIN_TYPES: Readonly<Record<string, string>> = {
  time: "builtin_interfaces/Time",
  duration: "builtin_interfaces/Duration",
};

export type DefinitionLookup = (name: string) => MessageDefinition | undefined;

/** Dependencies of `root` in the order rosbag2 writes them (excluding root itself). */
export function dependencyOrder(root: MessageDefinition, lookup: DefinitionLookup): string[] {
  const seen = new Set<string>();
  const order: string[] = [];
  const visit = (def: MessageDefinition, depth: number): void => {
    if (depth > 32) {
      throw new Error(`message definition of ${root.name ?? "?"} nests deeper than 32 levels`);
    }
    for (const dep of directDependencies(def)) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      order.push(dep);
      visit(requireDefinition(dep, lookup), depth + 1);
    }
  };
  visit(root, 0);
  return order;
}

/** Full ros2msg schema text of `root` with all its dependencies. */
export function ros2msgSchemaText(root: MessageDefinition, lookup: DefinitionLookup): string {
  let text = msgText(root);
  for (const dep of dependencyOrder(root, lookup)) {
    text += `\n${SCHEMA_SEPARATOR}\nMSG: ${dep}\n${msgText(requireDefinition(dep, lookup))}`;
  }
  return text;
}

/** One type's fields and constants in .msg syntax, one per line, newline-terminated. */
export function msgText(def: MessageDefinition): string {
  return def.definitions.map((field) => `${fieldLine(field)}\n`).join("");
}

function directDependencies(def: MessageDefinition): string[] {
  const deps = new Set<string>();
  for (const field of def.definitions) {
    if (field.isConstant === true) continue;
    const builtin = BUILTIN_TYPES[field.type];
    if (builtin !== undefined) deps.add(builtin);
    else if (field.isComplex === true) deps.add(field.type);
  }
  return [...deps].sort();
}

function requireDefinition(name: string, lookup: DefinitionLookup): MessageDefinition {
  const def = lookup(name);
  if (def === undefined) throw new Error(`no message definition for dependency ${name}`);
  return def;
}

function fieldLine(field: MessageDefinitionField): string {
  let type = BUILTIN_TYPES[field.type] ?? field.type;
  if (field.upperBound !== undefined) type += `<=${field.upperBound}`;
  if (field.isArray === true) {
    const bound =
      field.arrayLength !== undefined
        ? String(field.arrayLength)
        : field.arrayUpperBound !== undefined
          ? `<=${field.arrayUpperBound}`
          : "";
    type += `[${bound}]`;
  }
  if (field.isConstant === true) {
    return `${type} ${field.name}=${field.valueText ?? String(field.value)}`;
  }
  const defaultText = field.defaultValue === undefined ? "" : ` ${formatDefault(field.defaultValue)}`;
  return `${type} ${field.name}${defaultText}`;
}

function formatDefault(value: NonNullable<MessageDefinitionField["defaultValue"]>): string {
  if (Array.isArray(value)) {
    return `[${(value as readonly (string | number | bigint | boolean)[]).map(formatScalar).join(", ")}]`;
  }
  return formatScalar(value);
}

function formatScalar(value: string | number | bigint | boolean): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
