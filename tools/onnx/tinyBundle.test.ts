import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { tinyBundleFiles } from "./tinyBundle.js";

describe("tinyBundleFiles", () => {
  it("matches the committed models/tiny files byte for byte (rerun tools/build-models.ts if not)", async () => {
    const files = tinyBundleFiles();
    expect(Object.keys(files).sort()).toEqual(["labels.yaml", "model.onnx", "model.yaml"]);
    for (const [name, content] of Object.entries(files)) {
      const committed = await readFile(new URL(`../../models/tiny/${name}`, import.meta.url));
      const expected = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
      expect(committed.equals(expected), name).toBe(true);
    }
  });

  it("keeps the model well under 1 MB", () => {
    expect((tinyBundleFiles()["model.onnx"] as Uint8Array).length).toBeLessThan(100_000);
  });
});
