// --class-map: a dataset's label ids → the model's class ids, for scoring a model on a dataset
// with other classes. The file is YAML, one entry per dataset id:
//
//   # dataset id: model id, or ignore
//   7: 0        # road → road
//   8: 1
//   0: ignore   # unlabelled
//
// Dataset ids not in the file are ignored too, and counted (eval warns with their pixel counts).
// Pure apart from the file read: labels in, labels out.

import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { FatalError } from "../errors.js";

const MAX_ID = 65535;

export interface ClassMap {
  readonly source: string;
  /** Dataset id → model id; "ignore" entries are absent from here. */
  readonly toModel: ReadonlyMap<number, number>;
  /** Dataset ids mapped to ignore on purpose. */
  readonly ignored: ReadonlySet<number>;
  /** toModel as a table over every id, -1 where none. */
  readonly lut: Int32Array;
}

export async function loadClassMap(path: string): Promise<ClassMap> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new FatalError(`--class-map ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseClassMap(text, path);
}

export function parseClassMap(text: string, source: string): ClassMap {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new FatalError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new FatalError(`${source}: expected a map of dataset id to model id or "ignore" (e.g. "7: 0")`);
  }
  const toModel = new Map<number, number>();
  const ignored = new Set<number>();
  const isId = (v: number) => Number.isInteger(v) && v >= 0 && v <= MAX_ID;
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const id = Number(key);
    if (key.trim() === "" || !isId(id)) throw new FatalError(`${source}: "${key}" is not a dataset id (an integer in 0..${MAX_ID})`);
    if (value === "ignore") ignored.add(id);
    else if (typeof value === "number" && isId(value)) toModel.set(id, value);
    else throw new FatalError(`${source}: ${key}: ${JSON.stringify(value)} is neither a model class id (0..${MAX_ID}) nor "ignore"`);
  }
  if (toModel.size === 0) throw new FatalError(`${source}: maps no dataset id to a model class`);
  const lut = new Int32Array(MAX_ID + 1).fill(-1);
  for (const [from, to] of toModel) lut[from] = to;
  return { source, toModel, ignored, lut };
}

/**
 * Dataset labels → model ids; `ignoreValue` for ignored and unmapped ids (and for pixels that
 * already were `ignoreValue`, the dataset's void). Counts the unmapped pixels per dataset id.
 */
export function applyClassMap(
  map: ClassMap,
  labels: Uint8Array | Uint16Array,
  ignoreValue: number,
  unmapped: Map<number, number>,
): Uint16Array {
  const { lut } = map;
  const out = new Uint16Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    const mapped = lut[v]!;
    if (mapped >= 0 && v !== ignoreValue) {
      out[i] = mapped;
      continue;
    }
    out[i] = ignoreValue;
    if (v !== ignoreValue && !map.ignored.has(v)) unmapped.set(v, (unmapped.get(v) ?? 0) + 1);
  }
  return out;
}
