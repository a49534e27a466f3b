// rcl's command-line arguments and names, as the rclnodejs addon stand-in needs them. Each rule
// follows rcl (ros2/rcl, rolling): arguments.c (`--ros-args` ... `--`, flags and what they take),
// remap.c (first matching rule wins; a rule may be limited to one node by `node:`), expand_topic_name.c
// (`~`, relative names, `{node}`/`{ns}` substitutions), and rcl_yaml_param_parser/src/parse.c
// (node keys of a params file are the YAML keys above `ros__parameters` joined by `/`, kept as
// written; the same key again adds to the same entry, in order of first appearance).

import { readFileSync } from "node:fs";
import { parse } from "yaml";

export interface RemapRule {
  readonly node: string | undefined;
  readonly from: string;
  readonly to: string;
}

/** One value as rcl_variant_t holds it. */
export type RclVariant =
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "integer"; readonly value: number }
  | { readonly type: "double"; readonly value: number }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "bool_array"; readonly value: boolean[] }
  | { readonly type: "integer_array"; readonly value: number[] }
  | { readonly type: "double_array"; readonly value: number[] }
  | { readonly type: "string_array"; readonly value: string[] };

/** rcl_params_t: per node key (as written), parameters by name, in order of first appearance. */
export type RclParams = Map<string, Map<string, RclVariant>>;

export interface RosArguments {
  readonly remaps: RemapRule[];
  readonly params: RclParams;
  /** ROS arguments rcl did not recognise (rcl_arguments_get_unparsed_ros). */
  readonly unparsed: string[];
}

const FLAGS_WITH_VALUE = new Set(["-e", "--enclave", "--log-level", "--log-file-name", "--log-config-file"]);
const FLAGS_ALONE = new Set([
  "--enable-rosout-logs",
  "--disable-rosout-logs",
  "--enable-stdout-logs",
  "--disable-stdout-logs",
  "--enable-external-lib-logs",
  "--disable-external-lib-logs",
]);

export function parseRosArguments(argv: readonly string[]): RosArguments {
  const parsed: RosArguments = { remaps: [], params: new Map(), unparsed: [] };
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--ros-args") {
      inRos = true;
      continue;
    }
    if (!inRos) continue;
    if (arg === "--") {
      inRos = false;
      continue;
    }
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined) throw new Error(`Couldn't parse trailing ${arg} flag. No value given.`);
      i++;
      return next;
    };
    if (arg === "-r" || arg === "--remap") {
      parsed.remaps.push(parseRemapRule(value()));
    } else if (arg === "-p" || arg === "--param") {
      addParamRule(value(), parsed.params);
    } else if (arg === "--params-file") {
      addParamsFile(value(), parsed.params);
    } else if (FLAGS_WITH_VALUE.has(arg)) {
      value();
    } else if (!FLAGS_ALONE.has(arg)) {
      parsed.unparsed.push(arg);
    }
  }
  return parsed;
}

function parseRemapRule(rule: string): RemapRule {
  const match = /^(?:([A-Za-z_][A-Za-z0-9_]*):(?!=))?([^:]+):=(.+)$/.exec(rule);
  if (!match) throw new Error(`Couldn't parse remap rule: '${rule}'.`);
  return { node: match[1], from: match[2]!, to: match[3]! };
}

function addParamRule(rule: string, params: RclParams): void {
  const match = /^(?:([A-Za-z_/*][A-Za-z0-9_/*]*):(?!=))?([A-Za-z_][A-Za-z0-9_./]*):=(.*)$/s.exec(rule);
  if (!match) throw new Error(`Couldn't parse parameter override rule: '${rule}'. Expected {node_name}:{param_name}:={param_value}.`);
  const variant = variantOf(parse(match[3]!, { intAsBigInt: true }));
  if (!variant) throw new Error(`Couldn't parse parameter override rule: '${rule}'.`);
  setParam(params, match[1] ?? "/**", match[2]!, variant);
}

function addParamsFile(path: string, params: RclParams): void {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, "utf8"), { intAsBigInt: true });
  } catch (error) {
    throw new Error(`Couldn't parse params file: '--params-file ${path}'. Error: ${(error as Error).message}`);
  }
  walkNodeKeys(doc, [], params, path);
}

/** parse.c MAP_NODE_NAME_LVL: keys accumulate into the node name until `ros__parameters`. */
function walkNodeKeys(map: unknown, names: string[], params: RclParams, path: string): void {
  if (map === null || map === undefined) return;
  if (!isRecord(map)) throw new Error(`Couldn't parse params file: '--params-file ${path}'. Error: expected a map of node names`);
  for (const [key, value] of Object.entries(map)) {
    if (key === "ros__parameters") {
      if (names.length === 0) throw new Error(`Couldn't parse params file: '--params-file ${path}'. Error: There are no node names before ros__parameters`);
      const node = names.join("/");
      if (!params.has(node)) params.set(node, new Map());
      walkParams(value, "", node, params, path);
    } else {
      walkNodeKeys(value, [...names, key], params, path);
    }
  }
}

function walkParams(map: unknown, prefix: string, node: string, params: RclParams, path: string): void {
  if (!isRecord(map)) throw new Error(`Couldn't parse params file: '--params-file ${path}'. Error: ros__parameters of ${node} is not a map`);
  for (const [key, value] of Object.entries(map)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isRecord(value)) {
      walkParams(value, name, node, params, path);
      continue;
    }
    const variant = variantOf(value);
    if (!variant) throw new Error(`Couldn't parse params file: '--params-file ${path}'. Error: cannot type ${node} ${name}`);
    setParam(params, node, name, variant);
  }
}

function setParam(params: RclParams, node: string, name: string, variant: RclVariant): void {
  let entry = params.get(node);
  if (!entry) params.set(node, (entry = new Map()));
  entry.set(name, variant);
}

/** How rcl's YAML parser types a scalar or a sequence (parse.c get_value / parse_value). */
function variantOf(value: unknown): RclVariant | undefined {
  if (typeof value === "boolean") return { type: "bool", value };
  if (typeof value === "bigint") return { type: "integer", value: Number(value) };
  if (typeof value === "number") return { type: "double", value };
  if (typeof value === "string") return { type: "string", value };
  if (Array.isArray(value) && value.length > 0) {
    const items = value.map(variantOf);
    const first = items[0]?.type;
    if (!first || !items.every((item) => item?.type === first)) return undefined;
    const values = items.map((item) => item!.value);
    switch (first) {
      case "bool":
        return { type: "bool_array", value: values as boolean[] };
      case "integer":
        return { type: "integer_array", value: values as number[] };
      case "double":
        return { type: "double_array", value: values as number[] };
      case "string":
        return { type: "string_array", value: values as string[] };
      default:
        return undefined;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** rcl_expand_topic_name for a node `name` in namespace `ns` ("/" or "/a/b"). */
export function expandTopicName(topic: string, name: string, ns: string): string {
  const nodeFqn = ns === "/" ? `/${name}` : `${ns}/${name}`;
  let expanded = topic.replaceAll("{node}", name).replaceAll("{ns}", ns).replaceAll("{namespace}", ns);
  if (expanded === "~") expanded = nodeFqn;
  else if (expanded.startsWith("~/")) expanded = `${nodeFqn}${expanded.slice(1)}`;
  else if (!expanded.startsWith("/")) expanded = ns === "/" ? `/${expanded}` : `${ns}/${expanded}`;
  validateFullTopicName(expanded);
  return expanded;
}

export function validateFullTopicName(topic: string): void {
  if (!/^\/([A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*)?$/.test(topic) || topic.includes("__")) {
    throw new Error(`topic name "${topic}" is invalid`);
  }
}

/** rcl_remap_topic_name: the first rule (for all nodes, or for this one) whose expanded `from` is `expanded`. */
export function remapName(expanded: string, rules: readonly RemapRule[], name: string, ns: string): string {
  for (const rule of rules) {
    if (rule.node !== undefined && rule.node !== name) continue;
    if (rule.from.startsWith("__")) continue;
    if (expandTopicName(rule.from, name, ns) === expanded) return expandTopicName(rule.to, name, ns);
  }
  return expanded;
}

/** rcl_remap_node_name / rcl_remap_node_namespace (`__node`, `__name`, `__ns`). */
export function remapNode(rules: readonly RemapRule[], name: string, ns: string): { name: string; ns: string } {
  let newName = name;
  for (const rule of rules) {
    if (rule.node !== undefined && rule.node !== name) continue;
    if (rule.from === "__node" || rule.from === "__name") {
      newName = rule.to;
      break;
    }
  }
  let newNs = ns;
  for (const rule of rules) {
    if (rule.node !== undefined && rule.node !== name) continue;
    if (rule.from === "__ns") {
      newNs = rule.to;
      break;
    }
  }
  if (newNs === "") newNs = "/";
  if (!newNs.startsWith("/")) newNs = `/${newNs}`;
  return { name: newName, ns: newNs };
}
