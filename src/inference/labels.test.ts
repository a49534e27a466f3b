import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FatalError } from "../errors.js";
import { loadLabels, parseLabels } from "./labels.js";

const ok = `classes:
  - { id: 0, name: floor, color: [128, 64, 128] }
  - { id: 7, name: wall, color: [70, 70, 70] }
`;

describe("parseLabels", () => {
  it("parses ids, names and colours in channel order", () => {
    expect(parseLabels(ok, "labels.yaml")).toEqual({
      classes: [
        { id: 0, name: "floor", color: [128, 64, 128] },
        { id: 7, name: "wall", color: [70, 70, 70] },
      ],
    });
  });

  it.each([
    ["classes: []", "x.yaml: classes: must list at least one class"],
    ["- 1", "x.yaml: must be a mapping, got a list"],
    ["classes: [{ id: 0, name: a, color: [1, 2, 3] }, { id: 0, name: b, color: [1, 2, 3] }]", "x.yaml: classes[1].id: id 0 is already used by classes[0]"],
    ["classes: [{ id: 65535, name: a, color: [1, 2, 3] }]", "x.yaml: classes[0].id: must be an integer in 0..65534, got 65535"],
    ["classes: [{ id: -1, name: a, color: [1, 2, 3] }]", "x.yaml: classes[0].id: must be an integer in 0..65534, got -1"],
    ["classes: [{ id: 1.5, name: a, color: [1, 2, 3] }]", "x.yaml: classes[0].id: must be an integer in 0..65534, got 1.5"],
    ["classes: [{ id: 1, name: a, color: [1, 2, 256] }]", "x.yaml: classes[0].color[2]: must be an integer in 0..255, got 256"],
    ["classes: [{ id: 1, name: a, color: [1, 2] }]", "x.yaml: classes[0].color: must have 3 items, got 2"],
    ["classes: [{ id: 1, color: [1, 2, 3] }]", "x.yaml: classes[0].name: is required"],
    ["classes: [{ id: 1, name: '', color: [1, 2, 3] }]", 'x.yaml: classes[0].name: must be a non-empty string, got ""'],
    ["classes: [{ id: 1, name: a, colour: [1, 2, 3] }]", "x.yaml: classes[0].colour: unknown field (expected one of id, name, color)"],
  ])("rejects %s", (text, message) => {
    expect(() => parseLabels(text, "x.yaml")).toThrow(new FatalError(message));
  });

  it("reports YAML syntax errors with the file name", () => {
    expect(() => parseLabels("classes: [", "x.yaml")).toThrow(/^x\.yaml: invalid YAML: /);
  });
});

describe("loadLabels", () => {
  it("reads a file and names a missing one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "depthseg-labels-"));
    await writeFile(join(dir, "labels.yaml"), ok);
    expect((await loadLabels(join(dir, "labels.yaml"))).classes.map((c) => c.id)).toEqual([0, 7]);
    await expect(loadLabels(join(dir, "nope.yaml"))).rejects.toThrow(`labels file ${join(dir, "nope.yaml")} cannot be read (ENOENT)`);
  });
});
