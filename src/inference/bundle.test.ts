import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InferenceSession } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FatalError } from "../errors.js";
import { bundleOutputNames, loadModelBundle, validateBundleAgainstGraph } from "./bundle.js";
import { analyticModelYaml, writeAnalyticBundle } from "../../tests/support/analyticBundle.js";

let root: string;
let count = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "depthseg-bundle-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh analytic bundle whose model.yaml is `yaml` (default: the valid one). */
async function bundleDir(yaml?: string): Promise<string> {
  const dir = join(root, `b${count++}`);
  return writeAnalyticBundle(dir, yaml === undefined ? {} : { modelYaml: yaml });
}

const VALID = analyticModelYaml();
const edit = (from: string, to: string): string => {
  if (!VALID.includes(from)) throw new Error(`fixture yaml lacks ${from}`);
  return VALID.replace(from, to);
};

describe("loadModelBundle", () => {
  it("parses a valid bundle", async () => {
    const dir = await bundleDir();
    const bundle = await loadModelBundle(dir);
    expect(bundle.name).toBe("analytic");
    expect(bundle.onnxPath).toBe(join(dir, "model.onnx"));
    expect(bundle.yamlPath).toBe(join(dir, "model.yaml"));
    expect(bundle.input).toEqual({
      name: "image",
      height: 4,
      width: 6,
      multipleOf: 1,
      resize: "stretch",
      interpolation: "nearest",
      mean: [0, 0, 0],
      std: [1, 1, 1],
      color: "rgb",
    });
    expect(bundle.outputs.depth).toEqual({ name: "depth", kind: "metric", maxDepth: 11 });
    expect(bundle.outputs.segmentation?.name).toBe("logits");
    expect(bundle.outputs.segmentation?.labels.classes.map((c) => c.name)).toEqual(["red", "green", "blue"]);
    expect(bundle.outputs.domain).toBeUndefined();
    expect(bundle.heads).toEqual({});
    expect(bundleOutputNames(bundle)).toEqual(["depth", "logits"]);
  });

  it("reads trained_on and warning as free text; absent when not declared", async () => {
    const described = await loadModelBundle(
      await bundleDir(edit("name: analytic", "name: analytic\ntrained_on: NYU Depth v2, 795 scenes\nwarning: indoor only")),
    );
    expect([described.trainedOn, described.warning]).toEqual(["NYU Depth v2, 795 scenes", "indoor only"]);
    const plain = await loadModelBundle(await bundleDir());
    expect("trainedOn" in plain || "warning" in plain).toBe(false);
  });

  it("fills defaults for optional input fields", async () => {
    const yaml = VALID.replace("  multiple_of: 1\n", "")
      .replace("  resize: stretch\n", "")
      .replace("  interpolation: nearest\n", "")
      .replace("  color: rgb\n", "");
    const bundle = await loadModelBundle(await bundleDir(yaml));
    expect(bundle.input.multipleOf).toBe(1);
    expect(bundle.input.resize).toBe("keep_aspect_lower_bound");
    expect(bundle.input.interpolation).toBe("linear");
    expect(bundle.input.color).toBe("rgb");
  });

  it("parses canonical_focal of a canonical-camera metric model, and refuses it for relative depth", async () => {
    const dir = join(root, `b${count++}`);
    await writeAnalyticBundle(dir, { canonicalFocal: 300 });
    expect((await loadModelBundle(dir)).outputs.depth).toEqual({ name: "depth", kind: "metric", maxDepth: 11, canonicalFocal: 300 });
    const relative = await bundleDir(analyticModelYaml({ relative: true }).replace("kind: relative_disparity", "kind: relative_disparity, canonical_focal: 300"));
    await expect(loadModelBundle(relative)).rejects.toThrow(/outputs\.depth\.canonical_focal: applies to metric depth only \(this output is relative_disparity\)/);
  });

  it("parses outputs.sky (Depth Anything 3's sky map); the graph must have it, and it is fetched", async () => {
    const dir = join(root, `b${count++}`);
    await writeAnalyticBundle(dir, { skyThreshold: 0.3 });
    const bundle = await loadModelBundle(dir);
    expect(bundle.outputs.sky).toEqual({ name: "sky", threshold: 0.3 });
    expect(bundleOutputNames(bundle)).toEqual(["depth", "logits", "sky"]);
    expect(() => validateBundleAgainstGraph(bundle, ["image"], ["depth", "logits"])).toThrow(
      /model\.yaml says outputs\.sky is output "sky" but the graph's outputs are \["depth","logits"\]/,
    );
    expect((await loadModelBundle(await bundleDir())).outputs.sky).toBeUndefined();
  });

  it.each([
    ["{ name: sky, threshold: 0 }", "outputs.sky.threshold: must be > 0, got 0"],
    ["{ name: sky }", "outputs.sky.threshold: is required"],
    ["{ name: depth, threshold: 0.3 }", 'outputs.sky.name: "depth" is already used by outputs.depth'],
    ["{ name: sky, threshold: 0.3, below: 1 }", "outputs.sky.below: unknown field (expected one of name, threshold)"],
  ])("rejects outputs.sky %s", async (sky, message) => {
    const dir = await bundleDir(VALID.replace("outputs:\n", `outputs:\n  sky: ${sky}\n`));
    await expect(loadModelBundle(dir)).rejects.toThrow(new FatalError(`${join(dir, "model.yaml")}: ${message}`));
  });

  it("parses outputs.confidence (activation identity by default, or expp1); the graph must have it, and it is fetched", async () => {
    const dir = await bundleDir(VALID.replace("outputs:\n", "outputs:\n  confidence: { name: conf }\n"));
    const bundle = await loadModelBundle(dir);
    expect(bundle.outputs.confidence).toEqual({ name: "conf", activation: "identity" });
    expect(bundleOutputNames(bundle)).toEqual(["depth", "logits", "conf"]);
    expect(() => validateBundleAgainstGraph(bundle, ["image"], ["depth", "logits"])).toThrow(
      /model\.yaml says outputs\.confidence is output "conf" but the graph's outputs are \["depth","logits"\]/,
    );
    const da3 = await loadModelBundle(await bundleDir(VALID.replace("outputs:\n", "outputs:\n  confidence: { name: conf, activation: expp1 }\n")));
    expect(da3.outputs.confidence).toEqual({ name: "conf", activation: "expp1" });
    expect((await loadModelBundle(await bundleDir())).outputs.confidence).toBeUndefined();
  });

  it.each([
    ["{ name: conf, activation: softplus }", 'outputs.confidence.activation: unknown activation "softplus" (expected identity | expp1)'],
    ["{ activation: expp1 }", "outputs.confidence.name: is required"],
    ["{ name: depth }", 'outputs.confidence.name: "depth" is already used by outputs.depth'],
    ["{ name: conf, range: 1 }", "outputs.confidence.range: unknown field (expected one of name, activation)"],
  ])("rejects outputs.confidence %s", async (confidence, message) => {
    const dir = await bundleDir(VALID.replace("outputs:\n", `outputs:\n  confidence: ${confidence}\n`));
    await expect(loadModelBundle(dir)).rejects.toThrow(new FatalError(`${join(dir, "model.yaml")}: ${message}`));
  });

  it("parses outputs.features (for fit-head); the graph must have it, and a run does not fetch it", async () => {
    const dir = await bundleDir(VALID.replace("outputs:\n", "outputs:\n  features: { name: feats, stride: 2 }\n"));
    const bundle = await loadModelBundle(dir);
    expect(bundle.outputs.features).toEqual({ name: "feats", stride: 2 });
    expect(bundleOutputNames(bundle)).not.toContain("feats");
    expect(() => validateBundleAgainstGraph(bundle, ["image"], ["depth", "logits"])).toThrow(
      /model\.yaml says outputs\.features is output "feats" but the graph's outputs are \["depth","logits"\]/,
    );
    expect(() => validateBundleAgainstGraph(bundle, ["image"], ["depth", "logits", "feats"])).not.toThrow();
  });

  it.each([
    ["{ name: feats }", "outputs.features.stride: is required"],
    ["{ name: feats, stride: 0 }", "outputs.features.stride: must be an integer in 1..1024, got 0"],
    ["{ name: depth, stride: 2 }", 'outputs.features.name: "depth" is already used by outputs.depth'],
  ])("rejects outputs.features %s", async (features, message) => {
    const dir = await bundleDir(VALID.replace("outputs:\n", `outputs:\n  features: ${features}\n`));
    await expect(loadModelBundle(dir)).rejects.toThrow(new FatalError(`${join(dir, "model.yaml")}: ${message}`));
  });

  it("parses relative depth without max_depth", async () => {
    const dir = join(root, `b${count++}`);
    await writeAnalyticBundle(dir, { relative: true });
    const bundle = await loadModelBundle(dir);
    expect(bundle.outputs.depth).toEqual({ name: "disparity", kind: "relative_disparity" });
  });

  it.each([
    ["resize: stretch", "resize: squash", 'input.resize: unknown resize mode "squash" (expected keep_aspect_lower_bound | stretch)'],
    ["interpolation: nearest", "interpolation: bicubic", 'input.interpolation: unknown interpolation "bicubic" (expected nearest | linear | cubic | area)'],
    ["color: rgb", "color: yuv", 'input.color: unknown color order "yuv" (expected rgb | bgr)'],
    ["size: [4, 6]\n  multiple_of: 1", "size: [30, 40]\n  multiple_of: 16", "input.size: [30, 40] (height, width) must be multiples of multiple_of 16"],
    ["size: [4, 6]", "size: [4]", "input.size: must have 2 items, got 1"],
    ["size: [4, 6]", "size: [0, 6]", "input.size[0]: must be an integer in 1..16384, got 0"],
    ["multiple_of: 1", "multipleOf: 1", "input.multipleOf: unknown field (expected one of name, size, multiple_of, resize, interpolation, resize_on, mean, std, color)"],
    ["std: [1, 1, 1]", "std: [1, 0, 1]", "input.std[1]: must be > 0, got 0"],
    ["mean: [0, 0, 0]", "mean: [0, x, 0]", 'input.mean[1]: must be a finite number, got "x"'],
    ["  name: image\n", "", "input.name: is required"],
    ["kind: metric", "kind: absolute", 'outputs.depth.kind: unknown depth kind "absolute" (expected metric | relative_disparity | relative_depth)'],
    [", max_depth: 11.0", "", "outputs.depth.max_depth: is required for metric depth (metres, > 0)"],
    ["max_depth: 11.0", "max_depth: 0", "outputs.depth.max_depth: must be > 0, got 0"],
    ["max_depth: 11.0", "max_depth: -3", "outputs.depth.max_depth: must be > 0, got -3"],
    ["max_depth: 11.0", "max_depth: 11.0, canonical_focal: 0", "outputs.depth.canonical_focal: must be > 0, got 0"],
    ["  depth: { name: depth, kind: metric, max_depth: 11.0 }\n", "", "outputs.depth: is required (every bundle needs a depth output)"],
    ["{ name: logits, labels", "{ name: depth, labels", 'outputs.segmentation.name: "depth" is already used by outputs.depth'],
    ["name: analytic", "name: analytic\nextra: 1", "extra: unknown field (expected one of name, file, trained_on, warning, input, outputs, heads)"],
    ["name: analytic", "name: analytic\ntrained_on: ''", 'trained_on: must be a non-empty string, got ""'],
    ["name: analytic", "name: analytic\nwarning: [a]", "warning: must be a non-empty string, got a list"],
  ])("rejects %s → %s", async (from, to, message) => {
    const dir = await bundleDir(edit(from, to));
    await expect(loadModelBundle(dir)).rejects.toThrow(new FatalError(`${join(dir, "model.yaml")}: ${message}`));
  });

  it("names a missing labels file", async () => {
    const dir = await bundleDir(edit("labels: labels.yaml", "labels: missing.yaml"));
    await expect(loadModelBundle(dir)).rejects.toThrow(
      new FatalError(`labels file ${join(dir, "missing.yaml")} cannot be read (ENOENT)`),
    );
  });

  describe("domain routing", () => {
    // A routed bundle has heads instead of outputs.depth.
    const NO_DEPTH = edit("  depth: { name: depth, kind: metric, max_depth: 11.0 }\n", "");
    const routed = (domain: string, heads: string): string =>
      `${NO_DEPTH}  domain: ${domain}\nheads:\n${heads}`;
    const twoHeads =
      "  indoor: { name: depth_indoor, kind: metric, max_depth: 20 }\n" +
      "  outdoor: { name: depth_outdoor, kind: metric, max_depth: 80 }\n";

    it("parses domain and heads; the first class's head stands for outputs.depth", async () => {
      const bundle = await loadModelBundle(await bundleDir(routed("{ name: domain_logits, classes: [outdoor, indoor] }", twoHeads)));
      expect(bundle.outputs.domain).toEqual({ name: "domain_logits", classes: ["outdoor", "indoor"] });
      expect(bundle.heads).toEqual({
        indoor: { name: "depth_indoor", kind: "metric", maxDepth: 20 },
        outdoor: { name: "depth_outdoor", kind: "metric", maxDepth: 80 },
      });
      expect(bundle.outputs.depth).toEqual({ name: "depth_outdoor", kind: "metric", maxDepth: 80 });
      expect(bundleOutputNames(bundle)).toEqual(["depth_outdoor", "logits", "domain_logits", "depth_indoor"]);
      // The graph check names heads by their own field, and does not ask for an outputs.depth.
      expect(() => validateBundleAgainstGraph(bundle, ["image"], ["depth_indoor", "logits", "domain_logits"])).toThrow(
        'model.yaml says heads.outdoor is output "depth_outdoor" but the graph\'s outputs are ["depth_indoor","logits","domain_logits"]',
      );
      expect(() => validateBundleAgainstGraph(bundle, ["image"], ["depth_indoor", "depth_outdoor", "logits", "domain_logits"])).not.toThrow();
    });

    it.each([
      [routed("{ name: d, classes: [indoor, outdoor, underwater] }", twoHeads), 'heads: has no head for domain class "underwater"'],
      [routed("{ name: d, classes: [indoor, city] }", twoHeads), 'heads: has no head for domain class "city"'],
      [`${NO_DEPTH}heads:\n${twoHeads}`, "heads: needs outputs.domain to choose between them"],
      [`${VALID}  domain: { name: d, classes: [indoor, outdoor] }\nheads:\n${twoHeads}`, "outputs.depth: must be left out when `heads` are given: depth comes from the head outputs.domain picks"],
      [routed("{ name: d, classes: [indoor, outdoor] }", "  indoor: { name: x, kind: metric, max_depth: 5 }\n  outdoor: { name: y, kind: relative_disparity }\n"), "heads.outdoor.kind: must be metric (routing picks between metric heads)"],
      [routed("{ name: d, classes: [indoor, outdoor] }", "  indoor: { name: logits, kind: metric, max_depth: 5 }\n  outdoor: { name: y, kind: metric, max_depth: 5 }\n"), 'outputs.segmentation.name: "logits" is already used by heads.indoor'],
      [routed("{ name: y, classes: [indoor, outdoor] }", "  indoor: { name: x, kind: metric, max_depth: 5 }\n  outdoor: { name: y, kind: metric, max_depth: 5 }\n"), 'outputs.domain.name: "y" is already used by heads.outdoor'],
      [`${VALID}  domain: { name: d, classes: [indoor, outdoor] }\n`, "outputs.domain: needs `heads` (one depth head per domain class)"],
      [routed("{ name: d, classes: [indoor] }", twoHeads), "outputs.domain.classes: must list at least two classes"],
      [routed("{ name: d, classes: [indoor, outdoor] }", "  indoor: { name: x, kind: metric }\n  outdoor: { name: y, kind: metric, max_depth: 5 }\n"), "heads.indoor.max_depth: is required for metric depth (metres, > 0)"],
    ])("rejects routing config %#", async (yaml, message) => {
      const dir = await bundleDir(yaml);
      await expect(loadModelBundle(dir)).rejects.toThrow(new FatalError(`${join(dir, "model.yaml")}: ${message}`));
    });
  });

  describe("model file", () => {
    it("uses `file` when given and names it when missing", async () => {
      const dir = await bundleDir(`file: other.onnx\n${VALID}`);
      await expect(loadModelBundle(dir)).rejects.toThrow(
        new FatalError(`${join(dir, "model.yaml")}: file: ${join(dir, "other.onnx")} does not exist`),
      );
    });

    it("needs `file` when the folder has several .onnx files", async () => {
      const dir = await bundleDir();
      await writeFile(join(dir, "b.onnx"), "x");
      await expect(loadModelBundle(dir)).rejects.toThrow(
        new FatalError(`${join(dir, "model.yaml")}: file: is needed: ${dir} holds several .onnx files (b.onnx, model.onnx)`),
      );
      await writeFile(join(dir, "model.yaml"), `file: model.onnx\n${VALID}`);
      expect((await loadModelBundle(dir)).onnxPath).toBe(join(dir, "model.onnx"));
    });

    it("fails when the folder has no .onnx file", async () => {
      const dir = await bundleDir();
      await rm(join(dir, "model.onnx"));
      await expect(loadModelBundle(dir)).rejects.toThrow(new FatalError(`model bundle ${dir} has no .onnx file`));
    });

    it("rejects a file that is not ONNX", async () => {
      const dir = await bundleDir();
      await writeFile(join(dir, "model.onnx"), "<html>404 Not Found</html>\n");
      await expect(loadModelBundle(dir)).rejects.toThrow(`${join(dir, "model.onnx")} is not an ONNX model: `);
      await expect(loadModelBundle(dir)).rejects.toBeInstanceOf(FatalError);
    });
  });

  describe("bundle path", () => {
    it("names a missing folder", async () => {
      const dir = join(root, "does-not-exist");
      await expect(loadModelBundle(dir)).rejects.toThrow(new FatalError(`model bundle not found: ${dir}`));
    });

    it("names a folder without model.yaml", async () => {
      const dir = join(root, "empty");
      await mkdir(dir);
      await expect(loadModelBundle(dir)).rejects.toThrow(new FatalError(`model bundle ${dir} has no model.yaml`));
    });

    it("names a file given instead of a folder", async () => {
      const dir = await bundleDir();
      const file = join(dir, "model.onnx");
      await expect(loadModelBundle(file)).rejects.toThrow(
        new FatalError(`model bundle ${file} is not a folder (expected a folder holding model.yaml and an .onnx file)`),
      );
    });
  });

  it("loads the committed models/tiny bundle and it matches its graph", async () => {
    const dir = fileURLToPath(new URL("../../models/tiny", import.meta.url));
    const bundle = await loadModelBundle(dir);
    expect(bundle.input.height).toBe(240);
    expect(bundle.input.width).toBe(320);
    expect(bundle.input.multipleOf).toBe(16);
    expect(bundle.outputs.depth).toEqual({ name: "depth", kind: "metric", maxDepth: 10 });
    expect(bundle.outputs.segmentation?.labels.classes.map((c) => c.name)).toEqual([
      "floor", "wall", "ceiling", "furniture", "person", "object",
    ]);
    const session = await InferenceSession.create(bundle.onnxPath);
    expect(() => validateBundleAgainstGraph(bundle, session.inputNames, session.outputNames)).not.toThrow();
  });
});

describe("validateBundleAgainstGraph", () => {
  it("names a wrong output read from a real graph", async () => {
    const dir = await bundleDir(edit("{ name: logits,", "{ name: segmentation,"));
    const bundle = await loadModelBundle(dir);
    const session = await InferenceSession.create(bundle.onnxPath);
    expect(() => validateBundleAgainstGraph(bundle, session.inputNames, session.outputNames)).toThrow(
      new FatalError(
        `${bundle.yamlPath} does not match ${bundle.onnxPath}: ` +
          'model.yaml says outputs.segmentation is output "segmentation" but the graph\'s outputs are ["depth","logits"]',
      ),
    );
  });

  it("lists every mismatch: input name, extra inputs, each missing output", async () => {
    const bundle = await loadModelBundle(await bundleDir());
    const check = (inputs: string[], outputs: string[]): string => {
      try {
        validateBundleAgainstGraph(bundle, inputs, outputs);
        return "no error";
      } catch (err) {
        return (err as Error).message.replace(`${bundle.yamlPath} does not match ${bundle.onnxPath}: `, "");
      }
    };
    expect(check(["image"], ["depth", "logits"])).toBe("no error");
    expect(check(["pixel_values"], ["depth", "logits"])).toBe(
      'model.yaml says input "image" but the graph\'s inputs are ["pixel_values"]',
    );
    expect(check(["image", "mask"], ["depth", "logits"])).toBe(
      'the graph has inputs ["image","mask"] but model.yaml describes only "image"',
    );
    expect(check(["image"], ["predicted_depth"])).toBe(
      'model.yaml says outputs.depth is output "depth" but the graph\'s outputs are ["predicted_depth"]; ' +
        'model.yaml says outputs.segmentation is output "logits" but the graph\'s outputs are ["predicted_depth"]',
    );
  });
});
