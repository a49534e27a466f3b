// ROS 2 params-YAML (`<node>: ros__parameters: {...}`), the same file for live and offline runs.

import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { ParameterError } from "./parameters.js";

export const NODE_NAME = "depthseg";

/**
 * Returns the dotted-name parameters that apply to `nodeName` (`/**` wildcards first, then the
 * node's own section so it wins), as rcl does when it loads a params file.
 */
export function parseParamsYaml(text: string, source: string, nodeName = NODE_NAME): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new ParameterError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc)) throw new ParameterError(`${source}: expected a map of node names at the top level`);

  const matching = Object.keys(doc)
    .filter((key) => matchesNode(key, nodeName))
    .sort((a, b) => specificity(a) - specificity(b));
  if (matching.length === 0) {
    throw new ParameterError(
      `${source}: no section for node "${nodeName}" (found: ${Object.keys(doc).join(", ") || "none"}); ` +
        `expected "${nodeName}:" or "/**:" with "ros__parameters:" below it`,
    );
  }
  const flat: Record<string, unknown> = {};
  for (const key of matching) {
    const section = doc[key];
    if (!isRecord(section) || !isRecord(section["ros__parameters"])) {
      throw new ParameterError(`${source}: section "${key}" has no "ros__parameters" map`);
    }
    flatten(section["ros__parameters"], "", flat);
  }
  return flat;
}

export async function loadParamsFile(path: string, nodeName = NODE_NAME): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ParameterError(`cannot read params file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return parseParamsYaml(text, path, nodeName);
}

function matchesNode(key: string, nodeName: string): boolean {
  if (key === "/**" || key === nodeName || key === `/${nodeName}`) return true;
  // "/**/depthseg" or "/robot/depthseg": any namespace, this node.
  return key.startsWith("/") && key.endsWith(`/${nodeName}`);
}

function specificity(key: string): number {
  return key === "/**" ? 0 : key.includes("*") ? 1 : 2;
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
