// Bundles that load but cannot run a frame are refused at start (exit 1, one line) instead of
// failing every frame of a run that then exits 0 with an empty output.

import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import { resolveParameters } from "../src/config/parameters.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { loadModelBundle } from "../src/inference/bundle.js";
import { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { buildAnalyticModel } from "../tools/onnx/builders.js";
import { replay } from "../src/replay/replay.js";
import {
  TWO_LABELS_YAML,
  analyticWithInputRank,
  analyticWithSymbolicChannels,
  twoChannelDepthModel,
  writeBundleWith,
} from "./support/badModels.js";
import { cameraInfo, rgb8, stampAt, tempDir, writeCameraBag } from "./support/cameraBag.js";

const W = 8;
const H = 6;

describe("bundles that do not fit are refused at start", () => {
  let dir: string;
  let input: string;
  let stderr = "";
  beforeAll(async () => {
    dir = await tempDir();
    const stamp = stampAt(0);
    const image = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(200) };
    input = await writeCameraBag(join(dir, "in.mcap"), [{ stamp, image: rgb8(stamp, image), info: cameraInfo(stamp, pinholeCalibration(W, H, 10, 10, 3.5, 2.5)) }]);
  });
  afterEach(() => vi.restoreAllMocks());

  const replayExit = async (bundle: string) => {
    stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const out = join(dir, `${bundle.split("/").at(-1)}.out.mcap`);
    return { code: await main(["replay", input, "--out", out, "--model", bundle, "--quiet"]) };
  };

  const cases: [string, () => Uint8Array, string | undefined, RegExp][] = [
    ["rank-3 input", () => analyticWithInputRank(3), undefined, /input "image" has shape \[3, H, W\], must be \[1, 3, H, W\]/],
    ["rank-5 input", () => analyticWithInputRank(5), undefined, /input "image" has shape \[1, 1, 3, H, W\], must be \[1, 3, H, W\]/],
    [
      "a depth output with 2 channels",
      twoChannelDepthModel,
      undefined,
      /outputs\.depth "depth" has shape \[1, 2, H, W\], must be \[1, 1, H, W\] or \[1, H, W\]/,
    ],
    [
      "2 labels for 3 logit channels",
      () => buildAnalyticModel(),
      TWO_LABELS_YAML,
      /outputs\.segmentation "logits" has shape \[1, 3, H, W\], must be \[1, 2, H, W\] \(2 classes in .*labels\.yaml\)/,
    ],
    [
      "2 labels for 3 logit channels, shapes symbolic (found by the dry run)",
      analyticWithSymbolicChannels,
      TWO_LABELS_YAML,
      /on a dry run with input \[1, 3, 6, 8\], outputs\.segmentation "logits" has shape \[1, 3, 6, 8\], must be \[1, 2, H, W\]/,
    ],
  ];

  it.each(cases)("%s: exit 1 with one line naming the problem", async (name, model, labels, problem) => {
    const bundle = await writeBundleWith(join(dir, name.replaceAll(/\W+/g, "_")), model(), [H, W], labels);
    const { code } = await replayExit(bundle);
    expect(code).toBe(1);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^depthseg: .*model\.onnx does not fit .*model\.yaml: /);
    expect(stderr).toMatch(problem);
  });

  it("a fixed-size graph input needs resize: stretch to exactly input.size", async () => {
    const bundle = await loadModelBundle(await writeBundleWith(join(dir, "fixed"), buildAnalyticModel(), [H, W]));
    const { checkBundleShapes } = await import("../src/inference/bundle.js");
    const shapes = { depth: [1, 1, 6, 8], logits: [1, 3, 6, 8] };
    expect(checkBundleShapes(bundle, { image: [1, 3, 6, 8] }, shapes)).toEqual({ undecided: [] });
    expect(() => checkBundleShapes(bundle, { image: [1, 3, 12, 8] }, shapes)).toThrow(
      /input "image" has shape \[1, 3, 12, 8\] but model.yaml's input.size is \[6, 8\]/,
    );
    expect(() => checkBundleShapes({ ...bundle, input: { ...bundle.input, resize: "keep_aspect_lower_bound" } }, { image: [1, 3, 6, 8] }, shapes)).toThrow(
      /has a fixed size \[1, 3, 6, 8\]: it needs resize: stretch/,
    );
  });

  it("a bundle whose shapes are symbolic but fit passes its dry run and runs", async () => {
    const bundleDir = await writeBundleWith(join(dir, "symbolic-ok"), analyticWithSymbolicChannels(), [H, W]);
    const worker = await InferenceWorker.start({ bundle: await loadModelBundle(bundleDir), providers: ["cpu"] });
    await worker.close();
    const summary = await replay({
      input,
      output: join(dir, "symbolic-ok.out.mcap"),
      params: resolveParameters({ model: bundleDir, execution_providers: ["cpu"] }),
      realtime: false,
      log: () => {},
      showProgress: false,
    });
    expect(summary.stats).toMatchObject({ read: 1, processed: 1, failed: 0 });
  });
});
