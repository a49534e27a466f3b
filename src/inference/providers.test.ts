import { listSupportedBackends } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { FatalError } from "../errors.js";
import { buildAnalyticModel } from "../../tools/onnx/builders.js";
import { createSessionWithFallback, describeFallbacks, ortProviderName } from "./providers.js";

// This onnxruntime-node build ships CPU only; CUDA/TensorRT libraries are not bundled.
const cudaUsable = listSupportedBackends().some((b) => b.name === "cuda" && b.bundled);

describe("ortProviderName", () => {
  it("maps config names and aliases to ORT names", () => {
    expect(["TensorRT", "trt", "cuda", "cpu", "coreml", "dml", "directml"].map(ortProviderName)).toEqual([
      "tensorrt", "tensorrt", "cuda", "cpu", "coreml", "dml", "dml",
    ]);
  });

  it("rejects unknown names", () => {
    expect(() => ortProviderName("tpu")).toThrow(
      new FatalError('unknown execution provider "tpu" (expected one of tensorrt, trt, cuda, cpu, coreml, dml, directml)'),
    );
  });
});

describe("createSessionWithFallback", () => {
  it.skipIf(cudaUsable)("falls back from cuda to cpu and records why", async () => {
    const result = await createSessionWithFallback(buildAnalyticModel(), ["cuda", "cpu"], { intraOpThreads: 1 });
    expect(result.provider).toBe("cpu");
    expect(result.fallbacks).toHaveLength(1);
    expect(result.fallbacks[0]?.provider).toBe("cuda");
    expect(result.fallbacks[0]?.reason.length).toBeGreaterThan(0);
    expect(result.session.outputNames).toEqual(["depth", "logits"]);
    expect(describeFallbacks(result)).toBe(`cuda unavailable (${result.fallbacks[0]?.reason}); using cpu`);
  });

  it("uses the first provider when it loads", async () => {
    const result = await createSessionWithFallback(buildAnalyticModel(), ["cpu", "cuda"], { interOpThreads: 1 });
    expect(result.provider).toBe("cpu");
    expect(result.fallbacks).toEqual([]);
    expect(describeFallbacks(result)).toBe("using cpu");
  });

  it("names every provider's reason when all fail", async () => {
    const notAModel = new Uint8Array([1, 2, 3]);
    const err = await createSessionWithFallback(notAModel, ["cpu"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toMatch(
      /^could not create an ONNX Runtime session for in-memory model with any provider \(cpu: .*protobuf parsing failed.*\)$/,
    );
  });

  it("needs at least one provider", async () => {
    await expect(createSessionWithFallback(buildAnalyticModel(), [])).rejects.toThrow("no execution providers configured");
  });
});
