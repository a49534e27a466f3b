import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../paths.js";
import { PARAMETER_SPECS, resolveParameters } from "./parameters.js";
import { parameterTableMarkdown } from "./parameterTable.js";
import { loadParamsFile } from "./paramsFile.js";

describe("parameter documentation", () => {
  it("the README's parameter table is the one generated from the schema", async () => {
    const readme = await readFile(join(PACKAGE_ROOT, "README.md"), "utf8");
    expect(readme).toContain(parameterTableMarkdown());
  });

  it("config/depthseg.params.yaml sets every parameter but `cameras`, to its default", async () => {
    const values = await loadParamsFile(join(PACKAGE_ROOT, "config", "depthseg.params.yaml"));
    // cameras defaults to an empty list, which rcl's YAML parser cannot read: it is a comment there.
    const expected = PARAMETER_SPECS.map((s) => s.name).filter((name) => name !== "cameras");
    expect(Object.keys(values).sort()).toEqual(expected.sort());
    expect(resolveParameters(values)).toEqual(resolveParameters({}));
  });
});
