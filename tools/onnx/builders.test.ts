import { createHash } from "node:crypto";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import {
  analyticDepth,
  analyticDisparity,
  buildAnalyticModel,
  buildRoutedAnalyticModel,
  buildTinyModel,
  routedOutdoorDepth,
} from "./builders.js";
import { mulberry32 } from "../../src/synthetic/prng.js";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

// 2x3 image, planar RGB: red varies, green is 0.5, blue marks two pixels as "blue wins".
const RED = [0, 0.1, 0.25, 0.5, 0.73, 1];
const GREEN = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
const BLUE = [0.9, 0, 0, 0, 0.6, 0];
const image = (): Float32Array => new Float32Array([...RED, ...GREEN, ...BLUE]);

describe("buildAnalyticModel", () => {
  it("outputs depth = 0.5 + 10 * red and logits = image, bit-exact", async () => {
    const session = await InferenceSession.create(buildAnalyticModel());
    expect(session.inputNames).toEqual(["image"]);
    expect(session.outputNames).toEqual(["depth", "logits"]);
    const out = await session.run({ image: new Tensor("float32", image(), [1, 3, 2, 3]) });
    const depth = out["depth"]!;
    expect(depth.dims).toEqual([1, 1, 2, 3]);
    expect([...(depth.data as Float32Array)]).toEqual(RED.map(analyticDepth));
    expect([...(depth.data as Float32Array)].slice(0, 4)).toEqual([0.5, 1.5, 3, 5.5]);
    const logits = out["logits"]!;
    expect(logits.dims).toEqual([1, 3, 2, 3]);
    expect([...(logits.data as Float32Array)]).toEqual([...image()]);
  });

  it("routed variant: two metric heads from red and a router of the mean green and blue", async () => {
    const session = await InferenceSession.create(buildRoutedAnalyticModel());
    expect(session.outputNames).toEqual(["depth_indoor", "depth_outdoor", "domain_logits", "logits"]);
    const out = await session.run({ image: new Tensor("float32", image(), [1, 3, 2, 3]) });
    expect([...(out["depth_indoor"]!.data as Float32Array)]).toEqual(RED.map(analyticDepth));
    expect([...(out["depth_outdoor"]!.data as Float32Array)]).toEqual(RED.map(routedOutdoorDepth));
    expect(routedOutdoorDepth(0.25)).toBe(12);
    const domain = out["domain_logits"]!;
    expect(domain.dims).toEqual([1, 2, 1, 1]);
    const [green, blue] = domain.data as Float32Array;
    expect(green).toBeCloseTo(0.5, 6);
    expect(blue).toBeCloseTo(1.5 / 6, 6);
  });

  it("relative variant outputs disparity = 2 * red + 0.5", async () => {
    const session = await InferenceSession.create(buildAnalyticModel({ relative: true }));
    expect(session.outputNames).toEqual(["disparity", "logits"]);
    const out = await session.run({ image: new Tensor("float32", image(), [1, 3, 2, 3]) });
    expect([...(out["disparity"]!.data as Float32Array)]).toEqual(RED.map(analyticDisparity));
    expect(analyticDisparity(0.25)).toBe(1);
  });

  it("accepts any H, W", async () => {
    const session = await InferenceSession.create(buildAnalyticModel());
    const out = await session.run({ image: new Tensor("float32", new Float32Array(3 * 5 * 7).fill(0.2), [1, 3, 5, 7]) });
    expect(out["depth"]!.dims).toEqual([1, 1, 5, 7]);
    expect((out["depth"]!.data as Float32Array)[34]).toBe(analyticDepth(0.2));
  });
});

describe("buildTinyModel", () => {
  const bytes = buildTinyModel({ seed: 42, classes: 6 });

  it("is small and deterministic for a seed", () => {
    expect(bytes.length).toBeLessThan(20_000);
    expect(sha(buildTinyModel({ seed: 42, classes: 6 }))).toBe(sha(bytes));
    expect(sha(buildTinyModel({ seed: 43, classes: 6 }))).not.toBe(sha(bytes));
  });

  it.each([
    [32, 48],
    [30, 46],
  ])("runs at %i x %i with half-resolution outputs and positive depth", async (h, w) => {
    const session = await InferenceSession.create(bytes);
    expect(session.outputNames).toEqual(["depth", "logits"]);
    const next = mulberry32(7);
    const input = Float32Array.from({ length: 3 * h * w }, () => next() * 4 - 2);
    const out = await session.run({ image: new Tensor("float32", input, [1, 3, h, w]) });
    expect(out["depth"]!.dims).toEqual([1, 1, h / 2, w / 2]);
    expect(out["logits"]!.dims).toEqual([1, 6, h / 2, w / 2]);
    const depth = out["depth"]!.data as Float32Array;
    expect(Math.min(...depth)).toBeGreaterThan(0.5);
    expect(Math.max(...depth)).toBeLessThan(30);
  });

  it("rejects a non-positive class count", () => {
    expect(() => buildTinyModel({ seed: 1, classes: 0 })).toThrow("classes must be a positive integer, got 0");
  });
});
