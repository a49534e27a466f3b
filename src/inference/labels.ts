// Segmentation class table (labels.yaml). Entry i describes logits channel i; `id` is the value
// published in segmentation/labels (65535 stays free: it means "unlabelled").
//
// classes:
//   - { id: 0, name: floor, color: [128, 64, 128] }

import { readFile } from "node:fs/promises";
import { FatalError } from "../errors.js";
import { Fields } from "./fields.js";

export type Rgb = [number, number, number];

export interface LabelClass {
  id: number;
  name: string;
  color: Rgb;
}

export interface LabelSet {
  classes: LabelClass[];
}

export const MAX_LABEL_ID = 65534;

export async function loadLabels(path: string): Promise<LabelSet> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FatalError(`labels file ${path} cannot be read (${code ?? String(err)})`);
  }
  return parseLabels(text, path);
}

export function parseLabels(yamlText: string, sourceName: string): LabelSet {
  const f = new Fields(sourceName);
  const root = f.map(f.parseYaml(yamlText), "");
  f.onlyKeys(root, "", ["classes"]);
  const entries = f.list(f.required(root, "", "classes"), "classes");
  if (entries.length === 0) f.fail("classes", "must list at least one class");

  const seen = new Map<number, number>();
  const classes = entries.map((entry, i): LabelClass => {
    const path = `classes[${i}]`;
    const m = f.map(entry, path);
    f.onlyKeys(m, path, ["id", "name", "color"]);
    const id = f.integer(f.required(m, path, "id"), `${path}.id`, 0, MAX_LABEL_ID);
    const name = f.string(f.required(m, path, "name"), `${path}.name`);
    const color = f.tuple(f.required(m, path, "color"), `${path}.color`, 3, (v, p) => f.integer(v, p, 0, 255));
    const previous = seen.get(id);
    if (previous !== undefined) f.fail(`${path}.id`, `id ${id} is already used by classes[${previous}]`);
    seen.set(id, i);
    return { id, name, color: [color[0]!, color[1]!, color[2]!] };
  });
  return { classes };
}
