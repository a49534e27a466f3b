// Model bundle: a folder with model.yaml, one or more .onnx files and optional labels.yaml.
// Everything is validated at load so a bad bundle fails once, at startup, naming the file and
// field, instead of producing wrong depth later.

import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { DepthKind } from "../frame.js";
import type { ResizeOn } from "./preprocess.js";
import { FatalError } from "../errors.js";
import { inspectOnnxFile, NotOnnxError } from "../onnx/sniff.js";
import { Fields, type YamlMap } from "./fields.js";
import { loadLabels, type LabelSet } from "./labels.js";
import {
  checkShape,
  depthOutputShape,
  domainOutputShape,
  formatShape,
  imageInputShape,
  logitsOutputShape,
  type Dim,
  type ShapePattern,
} from "./tensorShapes.js";

export type ResizeMode = "keep_aspect_lower_bound" | "stretch";
export type Interpolation = "nearest" | "linear" | "cubic" | "area";
export type ColorOrder = "rgb" | "bgr";
export type Triple = [number, number, number];
/** How a depth output is resized to the camera: OpenCV's half-pixel bilinear, or PyTorch's align_corners=True. */
export type DepthUpsample = "half_pixel" | "align_corners";

export const RESIZE_MODES: readonly ResizeMode[] = ["keep_aspect_lower_bound", "stretch"];
export const INTERPOLATIONS: readonly Interpolation[] = ["nearest", "linear", "cubic", "area"];
export const COLOR_ORDERS: readonly ColorOrder[] = ["rgb", "bgr"];
export const DEPTH_KINDS: readonly DepthKind[] = ["metric", "relative_disparity", "relative_depth"];
export const RESIZE_ON: readonly ResizeOn[] = ["uint8", "float"];
export const DEPTH_UPSAMPLES: readonly DepthUpsample[] = ["half_pixel", "align_corners"];

export interface InputSpec {
  name: string;
  /** model.yaml `size` is [height, width]. */
  height: number;
  width: number;
  multipleOf: number;
  resize: ResizeMode;
  interpolation: Interpolation;
  /** What the resize works on (preprocess.ts ResizeOn); absent: "uint8". */
  resizeOn?: ResizeOn;
  /** Applied to 0..1 pixel values: (v - mean) / std, given in R, G, B order whatever `color` says. */
  mean: Triple;
  std: Triple;
  color: ColorOrder;
}

export interface DepthOutputSpec {
  name: string;
  kind: DepthKind;
  /** Required (> 0) for metric outputs; optional clip for relative ones. */
  maxDepth?: number;
  /**
   * Metric outputs of canonical-camera models (Depth Anything 3 Metric: 300, Metric3D: 1000):
   * metres = output × f / canonical_focal, f the mean of fx and fy of the image as resized for
   * the model, so one network serves any lens and resolution.
   */
  canonicalFocal?: number;
  /**
   * How the output is resized to the camera image (absent: half_pixel, OpenCV bilinear). Depth
   * Anything V2's infer_image upsamples with align_corners=True; the bundle says so to match it.
   */
  upsample?: DepthUpsample;
}

export interface SegmentationOutputSpec {
  name: string;
  labels: LabelSet;
  labelsPath: string;
}

/**
 * A sky map shaped like the depth output (Depth Anything 3 Mono/Metric): depth is published as
 * NaN where its value is >= threshold (upstream's compute_sky_mask: sky_prediction < threshold
 * is "not sky"), rather than as the far wall the depth head makes of the sky.
 */
export interface SkyOutputSpec {
  name: string;
  threshold: number;
}

/**
 * How a confidence output's values become the published 0..1 (`depth/confidence`):
 * identity: already a 0..1 score, clipped to it; expp1: Depth Anything 3's depth_conf activation
 * (c = 1 + exp(x), so c >= 1, larger = surer), published as 1 - 1/c = sigmoid(x), which keeps
 * its order and maps it onto 0..1 (clipping would make every pixel 1).
 */
export const CONFIDENCE_ACTIVATIONS = ["identity", "expp1"] as const;
export type ConfidenceActivation = (typeof CONFIDENCE_ACTIVATIONS)[number];

/** A per-pixel confidence map shaped like the depth output, published as depth/confidence. */
export interface ConfidenceOutputSpec {
  name: string;
  activation: ConfidenceActivation;
}

/** ZoeDepth-style router: argmax over `classes` picks the head of the same name. */
export interface DomainOutputSpec {
  name: string;
  classes: string[];
}

/**
 * An intermediate feature map exposed as a graph output for fitting segmentation heads
 * (`depthseg fit-head`): [1, C, h, w] with h, w the model input's height and width / `stride`
 * (rounded as the network rounds). Not fetched when running the bundle.
 */
export interface FeaturesOutputSpec {
  name: string;
  stride: number;
}

export interface BundleOutputs {
  /**
   * The depth output. A routed bundle (with `heads`) has no `outputs.depth` in model.yaml: this is
   * then its first domain class's head, the spec to use where one must stand for all heads.
   */
  depth: DepthOutputSpec;
  segmentation?: SegmentationOutputSpec;
  domain?: DomainOutputSpec;
  sky?: SkyOutputSpec;
  confidence?: ConfidenceOutputSpec;
  features?: FeaturesOutputSpec;
}

export interface ModelBundle {
  name: string;
  dir: string;
  yamlPath: string;
  /** The .onnx file: `file` from model.yaml, else the folder's only .onnx. */
  onnxPath: string;
  input: InputSpec;
  outputs: BundleOutputs;
  /** Empty unless model.yaml has `heads`. */
  heads: Record<string, DepthOutputSpec>;
  /** model.yaml `trained_on` (free text, e.g. "synthetic-indoor"): what the model knows; absent when not declared. */
  trainedOn?: string;
  /** model.yaml `warning` (free text): a limit every run should say, e.g. "not for real scenes". */
  warning?: string;
}

const TOP_KEYS = ["name", "file", "trained_on", "warning", "input", "outputs", "heads"] as const;
const INPUT_KEYS = ["name", "size", "multiple_of", "resize", "interpolation", "resize_on", "mean", "std", "color"] as const;
const OUTPUT_KEYS = ["depth", "segmentation", "domain", "confidence", "sky", "features"] as const;
const DEPTH_KEYS = ["name", "kind", "max_depth", "canonical_focal", "upsample"] as const;

export async function loadModelBundle(dir: string): Promise<ModelBundle> {
  const absDir = resolve(dir);
  await requireFolder(dir, absDir);
  const yamlPath = join(dir, "model.yaml");
  let text: string;
  try {
    text = await readFile(yamlPath, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new FatalError(`model bundle ${dir} has no model.yaml`);
    throw new FatalError(`${yamlPath} cannot be read (${code ?? String(err)})`);
  }

  const f = new Fields(yamlPath);
  const root = f.map(f.parseYaml(text), "");
  f.onlyKeys(root, "", TOP_KEYS);
  const name = root["name"] === undefined ? basename(absDir) : f.string(root["name"], "name");
  const input = parseInput(f, f.map(f.required(root, "", "input"), "input"));
  const outputsMap = f.map(f.required(root, "", "outputs"), "outputs");
  const heads = root["heads"] === undefined ? {} : parseHeads(f, root["heads"]);
  const outputs = await parseOutputs(f, outputsMap, dir, heads);
  const onnxPath = await resolveModelFile(f, root["file"], dir);
  const trainedOn = optionalText(f, root["trained_on"], "trained_on");
  const warning = optionalText(f, root["warning"], "warning");
  return {
    name, dir: absDir, yamlPath, onnxPath, input, outputs, heads,
    ...(trainedOn !== undefined ? { trainedOn } : {}),
    ...(warning !== undefined ? { warning } : {}),
  };
}

/** An optional free-text key: absent, or a non-empty string. */
function optionalText(f: Fields, value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : f.string(value, path).trim();
}

/** Every graph output a run reads, de-duplicated, in a stable order (features only fit-head reads). */
export function bundleOutputNames(bundle: ModelBundle): string[] {
  // A routed bundle's outputs.depth is one of its heads, listed below.
  const names = [bundle.outputs.depth.name];
  if (bundle.outputs.segmentation) names.push(bundle.outputs.segmentation.name);
  if (bundle.outputs.domain) names.push(bundle.outputs.domain.name);
  if (bundle.outputs.sky) names.push(bundle.outputs.sky.name);
  if (bundle.outputs.confidence) names.push(bundle.outputs.confidence.name);
  for (const head of Object.values(bundle.heads)) names.push(head.name);
  return [...new Set(names)];
}

/** Throws one FatalError listing every way the graph's names differ from model.yaml. */
export function validateBundleAgainstGraph(
  bundle: ModelBundle,
  inputNames: readonly string[],
  outputNames: readonly string[],
): void {
  const problems: string[] = [];
  const inputs = JSON.stringify(inputNames);
  const outputs = JSON.stringify(outputNames);
  if (!inputNames.includes(bundle.input.name)) {
    problems.push(`model.yaml says input "${bundle.input.name}" but the graph's inputs are ${inputs}`);
  } else if (inputNames.length > 1) {
    problems.push(`the graph has inputs ${inputs} but model.yaml describes only "${bundle.input.name}"`);
  }
  const routed = Object.keys(bundle.heads).length > 0;
  const wanted: [string, string][] = routed ? [] : [["outputs.depth", bundle.outputs.depth.name]];
  if (bundle.outputs.segmentation) wanted.push(["outputs.segmentation", bundle.outputs.segmentation.name]);
  if (bundle.outputs.domain) wanted.push(["outputs.domain", bundle.outputs.domain.name]);
  if (bundle.outputs.sky) wanted.push(["outputs.sky", bundle.outputs.sky.name]);
  if (bundle.outputs.confidence) wanted.push(["outputs.confidence", bundle.outputs.confidence.name]);
  for (const [head, spec] of Object.entries(bundle.heads)) wanted.push([`heads.${head}`, spec.name]);
  if (bundle.outputs.features) wanted.push(["outputs.features", bundle.outputs.features.name]);
  for (const [field, name] of wanted) {
    if (!outputNames.includes(name)) {
      problems.push(`model.yaml says ${field} is output "${name}" but the graph's outputs are ${outputs}`);
    }
  }
  if (problems.length > 0) {
    throw new FatalError(`${bundle.yamlPath} does not match ${bundle.onnxPath}: ${problems.join("; ")}`);
  }
}

export interface BundleTensor {
  /** The model.yaml field naming it. */
  readonly field: string;
  /** Its graph output name. */
  readonly name: string;
  readonly shapes: readonly ShapePattern[];
  /** Where its channel count comes from, for messages ("" for depth). */
  readonly note: string;
}

/** Each graph output the bundle uses, with the shapes it may have. */
export function bundleTensorShapes(bundle: ModelBundle): BundleTensor[] {
  const out: BundleTensor[] = [];
  if (Object.keys(bundle.heads).length === 0) {
    out.push({ field: "outputs.depth", name: bundle.outputs.depth.name, shapes: depthOutputShape(), note: "" });
  }
  for (const [head, spec] of Object.entries(bundle.heads)) {
    out.push({ field: `heads.${head}`, name: spec.name, shapes: depthOutputShape(), note: "" });
  }
  const { segmentation, domain, sky, confidence } = bundle.outputs;
  if (sky) out.push({ field: "outputs.sky", name: sky.name, shapes: depthOutputShape(), note: "" });
  if (confidence) out.push({ field: "outputs.confidence", name: confidence.name, shapes: depthOutputShape(), note: "" });
  if (segmentation) {
    const classes = segmentation.labels.classes.length;
    out.push({
      field: "outputs.segmentation",
      name: segmentation.name,
      shapes: logitsOutputShape(classes),
      note: ` (${classes} classes in ${segmentation.labelsPath})`,
    });
  }
  if (domain) {
    const classes = domain.classes.length;
    out.push({ field: "outputs.domain", name: domain.name, shapes: domainOutputShape(classes), note: ` (${classes} outputs.domain.classes)` });
  }
  return out;
}

/**
 * Checks the graph's shapes against what the bundle needs: input [1, 3, H, W] (a fixed H×W only
 * with `resize: stretch` to exactly `size`), depth [1, 1, H, W] or [1, H, W], one logit channel
 * per class in labels.yaml, one domain channel per class. Throws one FatalError listing every
 * mismatch; returns the tensors (input or outputs) whose fit depends on symbolic dimensions, for
 * a dry run to decide.
 */
export function checkBundleShapes(
  bundle: ModelBundle,
  inputShapes: Readonly<Record<string, readonly Dim[]>>,
  outputShapes: Readonly<Record<string, readonly Dim[]>>,
): { undecided: string[] } {
  const problems: string[] = [];
  const undecided: string[] = [];
  const inputDims = inputShapes[bundle.input.name] ?? [];
  const input = checkShape(inputDims, imageInputShape());
  if (input.fits === false) problems.push(`input "${bundle.input.name}" ${input.problem}`);
  else if (input.fits === "unknown") undecided.push(bundle.input.name);
  const [height, width] = [inputDims[2], inputDims[3]];
  if (input.fits !== false && (typeof height === "number" || typeof width === "number")) {
    const size = `[${bundle.input.height}, ${bundle.input.width}]`;
    if (bundle.input.resize !== "stretch") {
      problems.push(`input "${bundle.input.name}" has a fixed size ${formatShape(inputDims)}: it needs resize: stretch (model.yaml has ${bundle.input.resize})`);
    } else if ((typeof height === "number" && height !== bundle.input.height) || (typeof width === "number" && width !== bundle.input.width)) {
      problems.push(`input "${bundle.input.name}" has shape ${formatShape(inputDims)} but model.yaml's input.size is ${size}`);
    }
  }
  for (const { field, name, shapes, note } of bundleTensorShapes(bundle)) {
    const check = checkShape(outputShapes[name] ?? [], shapes);
    if (check.fits === false) problems.push(`${field} "${name}" ${check.problem}${note}`);
    else if (check.fits === "unknown") undecided.push(name);
  }
  if (problems.length > 0) {
    throw new FatalError(`${bundle.onnxPath} does not fit ${bundle.yamlPath}: ${problems.join("; ")}`);
  }
  return { undecided };
}

async function requireFolder(dir: string, absDir: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(absDir)).isDirectory();
  } catch {
    throw new FatalError(`model bundle not found: ${dir}`);
  }
  if (!isDir) {
    throw new FatalError(`model bundle ${dir} is not a folder (expected a folder holding model.yaml and an .onnx file)`);
  }
}

function parseInput(f: Fields, m: YamlMap): InputSpec {
  f.onlyKeys(m, "input", INPUT_KEYS);
  const name = f.string(f.required(m, "input", "name"), "input.name");
  const multipleOf =
    m["multiple_of"] === undefined ? 1 : f.integer(m["multiple_of"], "input.multiple_of", 1, 4096);
  const [height, width] = f.tuple(f.required(m, "input", "size"), "input.size", 2, (v, p) =>
    f.integer(v, p, 1, 16384),
  ) as [number, number];
  if (height % multipleOf !== 0 || width % multipleOf !== 0) {
    f.fail("input.size", `[${height}, ${width}] (height, width) must be multiples of multiple_of ${multipleOf}`);
  }
  const triple = (key: "mean" | "std", check: (v: unknown, p: string) => number): Triple => {
    const t = f.tuple(f.required(m, "input", key), `input.${key}`, 3, check);
    return [t[0]!, t[1]!, t[2]!];
  };
  return {
    name,
    height,
    width,
    multipleOf,
    resize: m["resize"] === undefined ? "keep_aspect_lower_bound" : f.oneOf(m["resize"], "input.resize", RESIZE_MODES, "resize mode"),
    interpolation:
      m["interpolation"] === undefined ? "linear" : f.oneOf(m["interpolation"], "input.interpolation", INTERPOLATIONS, "interpolation"),
    ...(m["resize_on"] === undefined ? {} : { resizeOn: f.oneOf(m["resize_on"], "input.resize_on", RESIZE_ON, "resize_on") }),
    mean: triple("mean", (v, p) => f.number(v, p)),
    std: triple("std", (v, p) => f.positive(v, p)),
    color: m["color"] === undefined ? "rgb" : f.oneOf(m["color"], "input.color", COLOR_ORDERS, "color order"),
  };
}

function parseDepth(f: Fields, value: unknown, path: string): DepthOutputSpec {
  const m = f.map(value, path);
  f.onlyKeys(m, path, DEPTH_KEYS);
  const name = f.string(f.required(m, path, "name"), `${path}.name`);
  const kind = f.oneOf(f.required(m, path, "kind"), `${path}.kind`, DEPTH_KINDS, "depth kind");
  if (kind === "metric" && m["max_depth"] === undefined) {
    f.fail(`${path}.max_depth`, "is required for metric depth (metres, > 0)");
  }
  const spec: DepthOutputSpec = { name, kind };
  if (m["upsample"] !== undefined) spec.upsample = f.oneOf(m["upsample"], `${path}.upsample`, DEPTH_UPSAMPLES, "upsample");
  if (m["max_depth"] !== undefined) spec.maxDepth = f.positive(m["max_depth"], `${path}.max_depth`);
  if (m["canonical_focal"] !== undefined) {
    if (kind !== "metric") f.fail(`${path}.canonical_focal`, `applies to metric depth only (this output is ${kind})`);
    spec.canonicalFocal = f.positive(m["canonical_focal"], `${path}.canonical_focal`);
  }
  return spec;
}

async function parseOutputs(
  f: Fields,
  m: YamlMap,
  dir: string,
  heads: Record<string, DepthOutputSpec>,
): Promise<BundleOutputs> {
  f.onlyKeys(m, "outputs", OUTPUT_KEYS);
  const routed = Object.keys(heads).length > 0;
  // With heads, the head routing picks is the depth output: a second, unrouted depth output would
  // leave two answers to "which depth is published".
  if (routed && m["depth"] !== undefined) {
    f.fail("outputs.depth", "must be left out when `heads` are given: depth comes from the head outputs.domain picks");
  }
  if (!routed && m["depth"] === undefined) f.fail("outputs.depth", "is required (every bundle needs a depth output)");
  const used = new Map<string, string>();
  const claim = (name: string, field: string): void => {
    const other = used.get(name);
    if (other !== undefined) f.fail(`${field}.name`, `"${name}" is already used by ${other}`);
    used.set(name, field);
  };
  let depth: DepthOutputSpec | undefined;
  if (routed) {
    for (const [head, spec] of Object.entries(heads)) claim(spec.name, `heads.${head}`);
  } else {
    depth = parseDepth(f, m["depth"], "outputs.depth");
    claim(depth.name, "outputs.depth");
  }
  let segmentation: SegmentationOutputSpec | undefined;
  let domain: DomainOutputSpec | undefined;

  if (m["segmentation"] !== undefined) {
    const s = f.map(m["segmentation"], "outputs.segmentation");
    f.onlyKeys(s, "outputs.segmentation", ["name", "labels"]);
    const name = f.string(f.required(s, "outputs.segmentation", "name"), "outputs.segmentation.name");
    claim(name, "outputs.segmentation");
    const labelsFile = f.string(f.required(s, "outputs.segmentation", "labels"), "outputs.segmentation.labels");
    const labelsPath = join(dir, labelsFile);
    segmentation = { name, labels: await loadLabels(labelsPath), labelsPath };
  }

  if (m["domain"] !== undefined) {
    const d = f.map(m["domain"], "outputs.domain");
    f.onlyKeys(d, "outputs.domain", ["name", "classes"]);
    const name = f.string(f.required(d, "outputs.domain", "name"), "outputs.domain.name");
    claim(name, "outputs.domain");
    const classes = f.list(f.required(d, "outputs.domain", "classes"), "outputs.domain.classes")
      .map((v, i) => f.string(v, `outputs.domain.classes[${i}]`));
    if (classes.length < 2) f.fail("outputs.domain.classes", "must list at least two classes");
    if (new Set(classes).size !== classes.length) f.fail("outputs.domain.classes", "has duplicates");
    domain = { name, classes };
  }
  let sky: SkyOutputSpec | undefined;
  if (m["sky"] !== undefined) {
    const s = f.map(m["sky"], "outputs.sky");
    f.onlyKeys(s, "outputs.sky", ["name", "threshold"]);
    const name = f.string(f.required(s, "outputs.sky", "name"), "outputs.sky.name");
    claim(name, "outputs.sky");
    sky = { name, threshold: f.positive(f.required(s, "outputs.sky", "threshold"), "outputs.sky.threshold") };
  }
  let confidence: ConfidenceOutputSpec | undefined;
  if (m["confidence"] !== undefined) {
    const c = f.map(m["confidence"], "outputs.confidence");
    f.onlyKeys(c, "outputs.confidence", ["name", "activation"]);
    const name = f.string(f.required(c, "outputs.confidence", "name"), "outputs.confidence.name");
    claim(name, "outputs.confidence");
    const activation =
      c["activation"] === undefined ? "identity" : f.oneOf(c["activation"], "outputs.confidence.activation", CONFIDENCE_ACTIVATIONS, "activation");
    confidence = { name, activation };
  }
  let features: FeaturesOutputSpec | undefined;
  if (m["features"] !== undefined) {
    const s = f.map(m["features"], "outputs.features");
    f.onlyKeys(s, "outputs.features", ["name", "stride"]);
    const name = f.string(f.required(s, "outputs.features", "name"), "outputs.features.name");
    claim(name, "outputs.features");
    features = { name, stride: f.integer(f.required(s, "outputs.features", "stride"), "outputs.features.stride", 1, 1024) };
  }
  checkRouting(f, domain, heads);
  // checkRouting guarantees a routed bundle's domain has a head for its first class.
  const outputs: BundleOutputs = { depth: depth ?? heads[domain!.classes[0]!]! };
  if (segmentation) outputs.segmentation = segmentation;
  if (domain) outputs.domain = domain;
  if (sky) outputs.sky = sky;
  if (confidence) outputs.confidence = confidence;
  if (features) outputs.features = features;
  return outputs;
}

function parseHeads(f: Fields, value: unknown): Record<string, DepthOutputSpec> {
  const m = f.map(value, "heads");
  const heads: Record<string, DepthOutputSpec> = {};
  for (const [key, spec] of Object.entries(m)) heads[key] = parseDepth(f, spec, `heads.${key}`);
  if (Object.keys(heads).length === 0) f.fail("heads", "is empty (omit it, or list one head per domain class)");
  return heads;
}

/** Heads and domain classes must pair up one to one, or routing could pick a missing head. */
function checkRouting(f: Fields, domain: DomainOutputSpec | undefined, heads: Record<string, DepthOutputSpec>): void {
  const headNames = Object.keys(heads);
  if (headNames.length === 0) {
    if (domain) f.fail("outputs.domain", "needs `heads` (one depth head per domain class)");
    return;
  }
  if (!domain) f.fail("heads", "needs outputs.domain to choose between them");
  for (const cls of domain.classes) {
    if (!headNames.includes(cls)) f.fail("heads", `has no head for domain class "${cls}"`);
  }
  for (const head of headNames) {
    if (!domain.classes.includes(head)) f.fail(`heads.${head}`, `is not a class of outputs.domain (${domain.classes.join(", ")})`);
    // ZoeDepth-style heads each give metres for their domain; relative outputs have one head.
    if (heads[head]!.kind !== "metric") f.fail(`heads.${head}.kind`, "must be metric (routing picks between metric heads)");
  }
}

async function resolveModelFile(f: Fields, file: unknown, dir: string): Promise<string> {
  let modelPath: string;
  if (file !== undefined) {
    modelPath = join(dir, f.string(file, "file"));
    const isFile = await stat(modelPath).then((s) => s.isFile(), () => false);
    if (!isFile) f.fail("file", `${modelPath} does not exist`);
  } else {
    const onnx = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith(".onnx")).sort();
    if (onnx.length === 0) throw new FatalError(`model bundle ${dir} has no .onnx file`);
    if (onnx.length > 1) {
      f.fail("file", `is needed: ${dir} holds several .onnx files (${onnx.join(", ")})`);
    }
    modelPath = join(dir, onnx[0]!);
  }
  try {
    await inspectOnnxFile(modelPath);
  } catch (err) {
    if (err instanceof NotOnnxError) throw new FatalError(`${modelPath} is not an ONNX model: ${err.message}`);
    throw new FatalError(`${modelPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return modelPath;
}
