// depth/confidence end to end (replay): the model's own confidence output, resized as its depth
// is and clipped to 0..1, checked value by value against what the graph computes; and, for a
// model without one, the confidence derived from depth edges and the scale fit, checked against
// the synthetic world's exact depth (edges where the true depth jumps, flat where it does not).

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveParameters } from "../src/config/parameters.js";
import { OUTPUT_TOPICS } from "../src/messages/outputMessages.js";
import type { Image, PerceptionStatus } from "../src/messages/types.js";
import { DEFAULT_MODEL_DIR } from "../src/paths.js";
import { parseTopicSelection, type TopicSelection } from "../src/replay/outputTopics.js";
import { replay } from "../src/replay/replay.js";
import { readOutputBag, tempDir, typed } from "./support/cameraBag.js";
import { writeConfidenceBundle, writeRelativeBundle } from "./support/relativeBundle.js";
import { DEPTH_CAMERA_TOPIC, writeScaleBag, type ScaleBag } from "./support/scaleBags.js";

const NS = "/depthseg";
const floats = (image: Image) => new Float32Array(image.data.slice().buffer);
// confidence = GAIN·z + OFFSET in the graph: 1 (clipped) nearer than 2 m, 0 (clipped) beyond 4.5 m.
const GAIN = -0.4;
const OFFSET = 1.8;
// expp1: x = GAIN_X·z + OFFSET_X, c = 1 + exp(x); sigmoid(x) is 0.5 at 3 m.
const GAIN_X = -2;
const OFFSET_X = 6;

let bag: ScaleBag;
let confidenceModel: string;

beforeAll(async () => {
  bag = await writeScaleBag(join(await tempDir(), "seq.mcap"), { frames: 4, seed: 7, anchors: "depth_image" });
  confidenceModel = await writeConfidenceBundle(join(await tempDir(), "confidence"), GAIN, OFFSET);
});

interface Replayed {
  readonly depth: Float32Array[];
  readonly confidence: Float32Array[];
  readonly confidenceImages: Image[];
  readonly status: PerceptionStatus[];
}

async function run(model: string, extra: Record<string, unknown> = {}, topics?: TopicSelection, input = bag.path): Promise<Replayed> {
  const output = join(await tempDir(), "out.mcap");
  await replay({
    input,
    output,
    params: resolveParameters({ model, execution_providers: ["cpu"], ...extra }),
    realtime: false,
    log: () => {},
    showProgress: false,
    ...(topics ? { topics } : {}),
  });
  const out = await readOutputBag(output);
  const confidenceImages = typed(out, `${NS}/${OUTPUT_TOPICS.confidence}`, "sensor_msgs/msg/Image");
  return {
    depth: typed(out, `${NS}/depth/image`, "sensor_msgs/msg/Image").map(floats),
    confidence: confidenceImages.map(floats),
    confidenceImages,
    status: typed(out, `${NS}/status`, "depthseg/msg/PerceptionStatus"),
  };
}

/** Relative span (max - min) / min of the true depth over each pixel's 3x3 neighbourhood. */
function trueSpan(truth: Float32Array, width: number, height: number): Float32Array {
  const span = new Float32Array(truth.length).fill(NaN);
  for (let v = 1; v < height - 1; v++) {
    for (let u = 1; u < width - 1; u++) {
      let lo = Infinity, hi = -Infinity;
      for (let dv = -1; dv <= 1; dv++) for (let du = -1; du <= 1; du++) {
        const z = truth[(v + dv) * width + u + du]!;
        lo = Math.min(lo, z);
        hi = Math.max(hi, z);
      }
      if (lo > 0) span[v * width + u] = (hi - lo) / lo;
    }
  }
  return span;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe("depth/confidence from the model's confidence output", () => {
  it("is the graph's confidence resized as depth is, clipped to 0..1: equal to clip(gain·depth + offset) pixel by pixel", async () => {
    const result = await run(confidenceModel);
    expect(result.confidence).toHaveLength(bag.groundTruth.length);
    const image = result.confidenceImages[0]!;
    expect([image.encoding, image.width, image.height, image.step]).toEqual(["32FC1", bag.width, bag.height, 4 * bag.width]);
    let worst = 0;
    const share = { low: 0, high: 0, between: 0, pixels: 0 };
    for (const [f, confidence] of result.confidence.entries()) {
      const depth = result.depth[f]!;
      for (let i = 0; i < depth.length; i++) {
        const z = depth[i]!;
        // The resize is linear and its weights sum to 1, so resizing gain·z + offset gives
        // gain·(resized z) + offset: the published depth predicts the published confidence.
        const want = z > 0 ? Math.min(1, Math.max(0, GAIN * z + OFFSET)) : 0;
        worst = Math.max(worst, Math.abs(confidence[i]! - want));
        share.pixels++;
        if (want === 0) share.low++;
        else if (want === 1) share.high++;
        else share.between++;
      }
    }
    const shares = { low: share.low / share.pixels, high: share.high / share.pixels, between: share.between / share.pixels };
    process.stdout.write(`model confidence: max |published - clip(gain·depth + offset)| ${worst.toExponential(2)}; shares ${JSON.stringify(shares)}\n`);
    expect(worst).toBeLessThan(1e-5);
    // Both clips and the linear part are exercised.
    expect(Math.min(shares.low, shares.high, shares.between)).toBeGreaterThan(0.02);
  });

  it("expp1 (Depth Anything 3's 1 + exp(x)): published as 1 - 1/c = sigmoid(x), here where the camera is the model's output size", async () => {
    // 80x60: the demo's output (half its 160x120 input) is the camera's size, so nothing is resized.
    const small = await writeScaleBag(join(await tempDir(), "small.mcap"), { frames: 2, seed: 7, anchors: "none", width: 80, height: 60 });
    const model = await writeConfidenceBundle(join(await tempDir(), "expp1"), GAIN_X, OFFSET_X, "expp1");
    const result = await run(model, {}, undefined, small.path);
    let worst = 0;
    let lo = 1, hi = 0;
    for (const [f, confidence] of result.confidence.entries()) {
      expect(confidence).toHaveLength(80 * 60);
      const depth = result.depth[f]!;
      for (let i = 0; i < depth.length; i++) {
        const z = depth[i]!;
        const want = z > 0 ? 1 / (1 + Math.exp(-(GAIN_X * z + OFFSET_X))) : 0;
        worst = Math.max(worst, Math.abs(confidence[i]! - want));
        if (z > 0) {
          lo = Math.min(lo, confidence[i]!);
          hi = Math.max(hi, confidence[i]!);
        }
      }
    }
    process.stdout.write(`model confidence (expp1): max |published - sigmoid(gain·depth + offset)| ${worst.toExponential(2)}, range ${lo.toFixed(3)} … ${hi.toFixed(3)}\n`);
    expect(worst).toBeLessThan(1e-5);
    // Spread over 0..1, not clipped to 1 as identity would make every c >= 1.
    expect(lo).toBeLessThan(0.2);
    expect(hi).toBeGreaterThan(0.8);
  });

  it("is not computed or written unless --topics asks for it, as the colourised views", async () => {
    const result = await run(confidenceModel, {}, parseTopicSelection("depth/image,status"));
    expect(result.depth).toHaveLength(bag.groundTruth.length);
    expect(result.confidence).toHaveLength(0);
  });
});

describe("depth/confidence derived when the model has none", () => {
  it("is lower on the true depth edges than on flat surfaces", async () => {
    const result = await run(DEFAULT_MODEL_DIR);
    const edge: number[] = [], flat: number[] = [];
    for (const [f, confidence] of result.confidence.entries()) {
      const span = trueSpan(bag.groundTruth[f]!, bag.width, bag.height);
      for (let i = 0; i < span.length; i++) {
        const s = span[i]!;
        if (!(result.depth[f]![i]! > 0)) continue;
        if (s > 0.3) edge.push(confidence[i]!);
        else if (s < 0.01) flat.push(confidence[i]!);
      }
    }
    const report = { edgePixels: edge.length, flatPixels: flat.length, meanEdge: mean(edge), meanFlat: mean(flat) };
    process.stdout.write(`derived confidence (demo model): ${JSON.stringify(report)}\n`);
    expect(edge.length).toBeGreaterThan(100);
    expect(flat.length).toBeGreaterThan(1000);
    expect(report.meanEdge).toBeLessThan(0.6 * report.meanFlat);
    expect(report.meanFlat).toBeGreaterThan(0.7);
    expect(Math.min(...result.confidence.map((c) => Math.min(...c)))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...result.confidence.map((c) => Math.max(...c)))).toBeLessThanOrEqual(1);
  });

  it("with scale recovery, is capped by the fit's trust: at most 1 - residual / scale.inlier_tolerance", async () => {
    const relative = await writeRelativeBundle(join(await tempDir(), "relative"), 2, 0.1);
    const tolerance = 0.15;
    const result = await run(relative.dir, { "scale.source": "depth_image", "scale.topic": DEPTH_CAMERA_TOPIC, "scale.inlier_tolerance": tolerance });
    for (const [f, confidence] of result.confidence.entries()) {
      const status = result.status[f]!;
      expect(status.depth_is_metric).toBe(true);
      const trust = 1 - status.scale_residual / tolerance;
      const top = Math.max(...confidence);
      process.stdout.write(`frame ${f}: scale residual ${status.scale_residual.toFixed(4)}, trust ${trust.toFixed(4)}, highest confidence ${top.toFixed(4)}\n`);
      expect(trust).toBeGreaterThan(0);
      expect(trust).toBeLessThan(1);
      // The cap holds, and the flattest pixels (edge term about 1) come within 1 % of it.
      expect(top).toBeLessThanOrEqual(trust + 1e-6);
      expect(top).toBeGreaterThan(0.99 * trust);
    }
  });
});
