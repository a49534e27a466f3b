// ROS 2 params-YAML (`<node>: ros__parameters: {...}`) and `-p` rules, applied to a node the way
// rclcpp applies them, so one file serves `depthseg run` and `depthseg replay --params`.
//
// rclnodejs 2.2.0 applies only a file's `/**` section and the one named exactly like the node
// (lib/node.js _getNativeParameterOverrides), so a launch_ros params file (keyed by the fully
// qualified name, `/depthseg/depthseg:`) or a `ros2 param dump` never reached the node. The
// rules here are rclcpp's (rclcpp/src/rclcpp/detail/resolve_parameter_overrides.cpp and
// parameter_map.cpp): every section key of every `--params-file`, and every `-p` rule (key `/**`
// unless it names a node), goes into one list in order of first appearance, a repeated key
// updating its entry (rcl_yaml_param_parser). A key matches when, with a leading `/` added and
// `/*` read as one namespace level (`/**` as any number), it equals the node's fully qualified
// name. Matching entries are applied in list order, later ones overriding earlier ones. One
// addition keeps rclnodejs's own rule: a key equal to the bare node name matches too.

import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { ParameterError } from "./parameters.js";

export const NODE_NAME = "depthseg";
/** The fully qualified name the launch files give the node; offline runs apply its sections. */
export const DEFAULT_NODE_FQN = `/${NODE_NAME}/${NODE_NAME}`;

const PARAMS_KEY = "ros__parameters";

/** Section key as written → dotted parameter names and values, in order of first appearance (rcl_params_t). */
export type ParameterSections = Map<string, Map<string, unknown>>;

/** Adds the sections of one params file (text). Throws ParameterError naming `source`. */
export function addParamsYaml(sections: ParameterSections, text: string, source: string): void {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new ParameterError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  if (doc === null || doc === undefined) return;
  if (!isRecord(doc)) throw new ParameterError(`${source}: expected a map of node names at the top level`);
  addNodeKeys(sections, doc, [], source);
}

/** rcl parse.c: keys above `ros__parameters` are joined by `/` into the node key. */
function addNodeKeys(sections: ParameterSections, map: Record<string, unknown>, names: readonly string[], source: string): void {
  for (const [key, value] of Object.entries(map)) {
    if (key === PARAMS_KEY) {
      if (names.length === 0) throw new ParameterError(`${source}: "${PARAMS_KEY}" needs a node name above it`);
      if (!isRecord(value)) throw new ParameterError(`${source}: section "${names.join("/")}" has no "${PARAMS_KEY}" map`);
      const entry = sectionEntry(sections, names.join("/"));
      const flat: Record<string, unknown> = {};
      flatten(value, "", flat);
      for (const [name, v] of Object.entries(flat)) entry.set(name, v);
    } else if (isRecord(value)) {
      addNodeKeys(sections, value, [...names, key], source);
    } else {
      throw new ParameterError(`${source}: section "${[...names, key].join("/")}" has no "${PARAMS_KEY}" map`);
    }
  }
}

/** Adds one `-p [node:]name:=value` rule; the value is YAML, as rcl reads it. */
export function addParamRule(sections: ParameterSections, rule: string): void {
  // Names may hold `/` (qos_overrides./topic.publisher.depth).
  const match = /^(?:([A-Za-z0-9_/*]+):(?!=))?([A-Za-z_][A-Za-z0-9_./]*):=(.*)$/s.exec(rule);
  if (!match) throw new ParameterError(`cannot parse parameter rule "${rule}"; expected [node:]name:=value`);
  let value: unknown;
  try {
    value = parse(match[3]!);
  } catch (error) {
    throw new ParameterError(`-p ${rule}: the value is not valid YAML: ${(error as Error).message}`);
  }
  sectionEntry(sections, match[1] ?? "/**").set(match[2]!, value);
}

function sectionEntry(sections: ParameterSections, key: string): Map<string, unknown> {
  let entry = sections.get(key);
  if (!entry) sections.set(key, (entry = new Map()));
  return entry;
}

/** Whether a section key applies to the node `nodeFqn` ("/ns/name"). */
export function sectionMatches(key: string, nodeFqn: string): boolean {
  const name = nodeFqn.slice(nodeFqn.lastIndexOf("/") + 1);
  if (key === name) return true; // rclnodejs's rule
  const absolute = key.startsWith("/") ? key : `/${key}`;
  // rclcpp is_node_name_matched: "/*" -> "(/\w+)" (so "/**" -> "(/\w+)*"), then a full match.
  const pattern = absolute.replaceAll("/*", "(/\\w+)");
  return new RegExp(`^${pattern}$`).test(nodeFqn);
}

export interface ResolvedParameters {
  /** Dotted names → values from every matching section, later sections winning. */
  readonly values: Record<string, unknown>;
  /** The section keys that applied, in order. */
  readonly applied: string[];
}

export function resolveSections(sections: ParameterSections, nodeFqn: string): ResolvedParameters {
  const values: Record<string, unknown> = {};
  const applied: string[] = [];
  for (const [key, entry] of sections) {
    if (!sectionMatches(key, nodeFqn)) continue;
    applied.push(key);
    for (const [name, value] of entry) values[name] = value;
  }
  return { values, applied };
}

/** The sections of every `--params-file` and `-p` inside `--ros-args ... [--]`, in command-line order. */
export function sectionsFromRosArgs(argv: readonly string[], readText: (path: string) => string = readParamsText): ParameterSections {
  const sections: ParameterSections = new Map();
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--ros-args") inRos = true;
    else if (arg === "--") inRos = false;
    else if (inRos && (arg === "--params-file" || arg === "-p" || arg === "--param")) {
      const value = argv[++i];
      if (value === undefined) throw new ParameterError(`${arg} needs a value`);
      if (arg === "--params-file") addParamsYaml(sections, readText(value), value);
      else addParamRule(sections, value);
    }
  }
  return sections;
}

function readParamsText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new ParameterError(`cannot read params file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

/**
 * The parameters a params file gives the node `nodeFqn` (offline runs: the launch files' name).
 * A file with no section for it is refused, since nothing in it would apply.
 */
export function parseParamsYaml(text: string, source: string, nodeFqn = DEFAULT_NODE_FQN): Record<string, unknown> {
  const sections: ParameterSections = new Map();
  addParamsYaml(sections, text, source);
  const { values, applied } = resolveSections(sections, nodeFqn);
  if (applied.length === 0) {
    throw new ParameterError(
      `${source}: no section for node ${nodeFqn} (found: ${[...sections.keys()].join(", ") || "none"}); ` +
        `expected "/**:", "${nodeFqn}:" or "${NODE_NAME}:" with "${PARAMS_KEY}:" below it`,
    );
  }
  return values;
}

export async function loadParamsFile(path: string, nodeFqn = DEFAULT_NODE_FQN): Promise<Record<string, unknown>> {
  return parseParamsYaml(readParamsText(path), path, nodeFqn);
}

/** Nested `ros__parameters` maps → dotted names (`range: {max: 5}` → `range.max`), as rcl does. */
export function flatten(map: Record<string, unknown>, prefix: string, out: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(map)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isRecord(value)) flatten(value, name, out);
    else out[name] = value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
