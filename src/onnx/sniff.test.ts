import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAnalyticModel } from "../../tools/onnx/builders.js";
import { inspectOnnxFile } from "./sniff.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "depthseg-sniff-"));
});

async function file(name: string, content: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe("inspectOnnxFile", () => {
  it("accepts a generated model and reports its ir_version and size", async () => {
    const model = buildAnalyticModel();
    const info = await inspectOnnxFile(await file("ok.onnx", model));
    expect(info).toEqual({ irVersion: 8, sizeBytes: model.length });
  });

  it("names why a file is not ONNX", async () => {
    await expect(inspectOnnxFile(await file("empty.onnx", ""))).rejects.toThrow("the file is empty");
    await expect(inspectOnnxFile(await file("text.onnx", "hello world, not a model\n"))).rejects.toThrow(
      /does not fit a ModelProto|wire type|no ir_version|runs past/,
    );
    await expect(
      inspectOnnxFile(await file("lfs.onnx", "version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 12\n")),
    ).rejects.toThrow("Git LFS pointer");
    const model = buildAnalyticModel();
    await expect(inspectOnnxFile(await file("cut.onnx", model.subarray(0, model.length - 10)))).rejects.toThrow(
      /runs past the end of the file/,
    );
  });

  it("requires a graph", async () => {
    // ir_version 8 only.
    await expect(inspectOnnxFile(await file("nograph.onnx", new Uint8Array([0x08, 0x08])))).rejects.toThrow(
      "it has no graph",
    );
  });
});
