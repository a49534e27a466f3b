import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FatalError, FrameError } from "../errors.js";
import { analyticDepth } from "../../tools/onnx/builders.js";
import { loadModelBundle } from "./bundle.js";
import { analyticModelYaml, writeAnalyticBundle } from "../../tests/support/analyticBundle.js";
import { InferenceWorker, startInferenceWorker, threadCountWarnings } from "./inferenceWorker.js";
import type { SharedSlot } from "./sharedSlots.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "depthseg-worker-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Answers `load` as worker.ts does, then exits with code 3 on the first `run`. */
const EXITS_ON_RUN = {
  eval: true,
  script: `
    const { parentPort } = require("node:worker_threads");
    parentPort.on("message", (m) => {
      if (m.type === "load") {
        // The analytic model's declared shapes, as session.inputMetadata/outputMetadata give them.
        parentPort.postMessage({
          type: "loaded", provider: "cpu", fallbacks: [], inputNames: [m.inputName], outputNames: m.outputNames,
          inputShapes: { [m.inputName]: [1, 3, "H", "W"] },
          outputShapes: { depth: [1, 1, "H", "W"], logits: [1, 3, "H", "W"] },
        });
      } else if (m.type === "run") {
        process.exit(3);
      }
    });`,
} as const;

const RED = [0, 0.1, 0.25, 0.5, 0.73, 1];
const GREEN = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
const BLUE = [0.9, 0, 0, 0, 0.6, 0];

describe("InferenceWorker", () => {
  it("round-trips the analytic model, recovers from bad runs, and closes", async () => {
    const bundle = await loadModelBundle(await writeAnalyticBundle(join(root, "analytic")));
    const worker = await InferenceWorker.start({ bundle, providers: ["cuda", "cpu"], intraOpThreads: 1 });
    try {
      expect(worker.provider).toBe("cpu");
      expect(worker.inputNames).toEqual(["image"]);
      expect(worker.outputNames).toEqual(["depth", "logits"]);

      const input = new Float32Array([...RED, ...GREEN, ...BLUE]);
      const result = await worker.run(input, [1, 3, 2, 3]);
      // The input buffer was transferred, not copied, and comes back with the result for reuse.
      expect(input.length).toBe(0);
      expect([...(result.input ?? [])]).toEqual([...new Float32Array([...RED, ...GREEN, ...BLUE])]);
      expect(result.outputs["depth"]?.dims).toEqual([1, 1, 2, 3]);
      expect([...(result.outputs["depth"]?.data ?? [])]).toEqual(RED.map(analyticDepth));
      expect(result.outputs["logits"]?.dims).toEqual([1, 3, 2, 3]);
      expect([...(result.outputs["logits"]?.data ?? [])]).toEqual([...new Float32Array([...RED, ...GREEN, ...BLUE])]);
      expect(result.inferenceMs).toBeGreaterThanOrEqual(0);

      // Data length does not match dims.
      const short = worker.run(new Float32Array(5), [1, 3, 2, 3]);
      await expect(short).rejects.toBeInstanceOf(FrameError);
      await expect(short).rejects.toThrow(/^inference_failed: .*size\(18\) does not match data length\(5\)/);
      // Right length, wrong channel count: ORT itself rejects the run.
      await expect(worker.run(new Float32Array(18), [1, 2, 3, 3])).rejects.toThrow(/inference_failed: .*invalid dimensions/i);

      // A view into a larger buffer is copied, leaving the caller's buffer intact.
      const big = new Float32Array(100).fill(0.25);
      const again = await worker.run(big.subarray(10, 28), [1, 3, 2, 3]);
      expect(big.length).toBe(100);
      expect([...(again.outputs["depth"]?.data ?? [])]).toEqual([3, 3, 3, 3, 3, 3]);

      // Concurrent runs resolve to their own results.
      const [a, b] = await Promise.all([
        worker.run(new Float32Array(3).fill(0.5), [1, 3, 1, 1]),
        worker.run(new Float32Array(3).fill(1), [1, 3, 1, 1]),
      ]);
      expect([...(a.outputs["depth"]?.data ?? [])]).toEqual([5.5]);
      expect([...(b.outputs["depth"]?.data ?? [])]).toEqual([10.5]);
    } finally {
      await worker.close();
    }
    await expect(worker.run(new Float32Array(3), [1, 3, 1, 1])).rejects.toThrow(new FatalError("inference worker is closed"));
  });

  it("runs in shared slots: outputs are views of the slot, kept until released, grown when a run needs more", async () => {
    const bundle = await loadModelBundle(await writeAnalyticBundle(join(root, "slots")));
    const worker = await InferenceWorker.start({ bundle, providers: ["cpu"], intraOpThreads: 1, sharedSlots: 2 });
    try {
      const runIn = (slot: SharedSlot, red: number[], green: number[], blue: number[], dims: number[]) => {
        slot.floatInput(red.length * 3).set([...red, ...green, ...blue]);
        return worker.runInSlot(slot, dims);
      };
      const a = worker.slots.acquire()!;
      const b = worker.slots.acquire()!;
      expect(worker.slots.acquire()).toBeUndefined(); // both busy: a caller would transfer instead

      // Two runs in flight, one per slot: neither overwrites the other's outputs.
      const [ra, rb] = await Promise.all([runIn(a, RED, GREEN, BLUE, [1, 3, 2, 3]), runIn(b, [1, 0.5], [0, 0], [0, 0], [1, 3, 1, 2])]);
      const depthA = ra.outputs["depth"]!;
      expect(depthA.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(depthA.dims).toEqual([1, 1, 2, 3]);
      expect([...depthA.data]).toEqual(RED.map(analyticDepth));
      expect([...ra.outputs["logits"]!.data]).toEqual([...new Float32Array([...RED, ...GREEN, ...BLUE])]);
      expect([...rb.outputs["depth"]!.data]).toEqual([1, 0.5].map((r) => analyticDepth(Math.fround(r))));
      expect(ra.input).toBeUndefined(); // nothing to hand back: the input stays in the slot

      // b runs again while a is still held: a's views keep their values.
      await runIn(b, [0.25], [0], [0], [1, 3, 1, 1]);
      expect([...depthA.data]).toEqual(RED.map(analyticDepth));

      // a, released and run again with a larger input, grows its buffers; results are right.
      worker.slots.release(a);
      const c = worker.slots.acquire()!;
      expect(c).toBe(a);
      const red = Array.from({ length: 12 }, (_, i) => Math.fround(i / 12));
      const rc = await runIn(c, red, red.map(() => 0), red.map(() => 0), [1, 3, 3, 4]);
      expect(rc.outputs["depth"]!.dims).toEqual([1, 1, 3, 4]);
      expect([...rc.outputs["depth"]!.data]).toEqual(red.map(analyticDepth));
      expect(rc.outputs["depth"]!.data.buffer).not.toBe(depthA.data.buffer);
      // And smaller again: the grown buffers serve it, a view of their first values.
      const rd = await runIn(c, [0.5], [0], [0], [1, 3, 1, 1]);
      expect(rd.outputs["depth"]!.data.buffer).toBe(rc.outputs["depth"]!.data.buffer);
      expect([...rd.outputs["depth"]!.data]).toEqual([analyticDepth(0.5)]);

      // A run ORT refuses rejects as a frame error; the slot stays usable.
      await expect(runIn(c, [0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 2, 3, 3])).rejects.toBeInstanceOf(FrameError);
      expect([...(await runIn(c, [0.5], [0], [0], [1, 3, 1, 1])).outputs["depth"]!.data]).toEqual([analyticDepth(0.5)]);
      worker.slots.release(c);
      worker.slots.release(b);
      expect(worker.slots.inUse).toBe(0);
    } finally {
      await worker.close();
    }
  });

  it("rejects pending runs when the worker dies, and every later run", async () => {
    const bundle = await loadModelBundle(await writeAnalyticBundle(join(root, "crash")));
    // A stand-in thread that loads like worker.ts, then exits without replying to the first run,
    // as a native crash would. (Terminating the real worker mid-run would abort this process:
    // see the next test.)
    const worker = await InferenceWorker.start({ bundle, providers: ["cpu"], entry: EXITS_ON_RUN });
    const pending = worker.run(new Float32Array(3), [1, 3, 1, 1]);
    await expect(pending).rejects.toThrow(new FatalError("inference worker exited unexpectedly (code 3)"));
    await expect(worker.run(new Float32Array(3), [1, 3, 1, 1])).rejects.toThrow(/inference worker exited unexpectedly/);
    await worker.close(); // the thread is already gone: resolves at once
  });

  it("closes while a run is in progress without aborting the process, whatever the timing", async () => {
    // Worker.terminate() landing inside session.run kills the whole process with
    // "terminate called after throwing an instance of 'Napi::Error'"; close() must not.
    const bundle = await loadModelBundle(await writeAnalyticBundle(join(root, "close-mid-run")));
    for (const delayMs of [0, 2, 5, 10, 20, 40]) {
      const worker = await InferenceWorker.start({ bundle, providers: ["cpu"], intraOpThreads: 1 });
      const running = worker.run(new Float32Array(3 * 1500 * 1500).fill(0.5), [1, 3, 1500, 1500]);
      const settled = running.then(
        () => "resolved",
        (err: unknown) => (err as Error).message,
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await worker.close();
      // Either the result came back before close, or close rejected the run; never anything else.
      expect(["resolved", "inference worker is closed"]).toContain(await settled);
      await expect(worker.run(new Float32Array(3), [1, 3, 1, 1])).rejects.toThrow(new FatalError("inference worker is closed"));
    }
  });

  it("refuses a bundle whose model.yaml names an output the graph lacks", async () => {
    const yaml = analyticModelYaml().replace("{ name: logits,", "{ name: seg_logits,");
    const bundle = await loadModelBundle(await writeAnalyticBundle(join(root, "mismatch"), { modelYaml: yaml }));
    await expect(InferenceWorker.start({ bundle, providers: ["cpu"] })).rejects.toThrow(
      new FatalError(
        `${bundle.yamlPath} does not match ${bundle.onnxPath}: ` +
          'model.yaml says outputs.segmentation is output "seg_logits" but the graph\'s outputs are ["depth","logits"]',
      ),
    );
  });

  it("reports a model that fails to load", async () => {
    const bundle = await loadModelBundle(await writeAnalyticBundle(join(root, "gone")));
    await rm(bundle.onnxPath);
    const err = await InferenceWorker.start({ bundle, providers: ["cpu"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toMatch(/^cannot load model: could not create an ONNX Runtime session for .*model\.onnx with any provider \(cpu: /);
  });

  it("runs the committed tiny bundle at half resolution", async () => {
    const bundle = await loadModelBundle(fileURLToPath(new URL("../../models/tiny", import.meta.url)));
    const worker = await InferenceWorker.start({ bundle, providers: ["cpu"] });
    try {
      const result = await worker.run(new Float32Array(3 * 240 * 320).fill(0.1), [1, 3, 240, 320]);
      expect(result.outputs["depth"]?.dims).toEqual([1, 1, 120, 160]);
      expect(result.outputs["logits"]?.dims).toEqual([1, 6, 120, 160]);
      const depth = result.outputs["depth"]?.data ?? new Float32Array();
      expect(Math.min(...depth)).toBeGreaterThan(0.5);
      expect(Math.max(...depth)).toBeLessThan(10);
    } finally {
      await worker.close();
    }
  });

  it("warns when a thread count exceeds the CPU cores", async () => {
    expect(threadCountWarnings({ intraOpThreads: 256, interOpThreads: 0 }, 2)).toEqual([
      "warning: intra_op_threads is 256 but this machine has 2 CPU cores: ONNX Runtime's threads will compete for them " +
        "and inference slows down; use at most 2, or 0 to let ONNX Runtime choose",
    ]);
    expect(threadCountWarnings({ intraOpThreads: 2, interOpThreads: 3 }, 2).map((w) => w.split(" is ")[0])).toEqual(["warning: inter_op_threads"]);
    expect(threadCountWarnings({ intraOpThreads: 0, interOpThreads: 2 }, 2)).toEqual([]);

    const cores = availableParallelism();
    const log: string[] = [];
    const bundle = await loadModelBundle(await writeAnalyticBundle(join(root, "threads")));
    const worker = await startInferenceWorker(bundle, { executionProviders: ["cpu"], intraOpThreads: cores + 1, interOpThreads: 0 }, (line) => log.push(line));
    await worker.close();
    expect(log).toEqual([expect.stringMatching(new RegExp(`^warning: intra_op_threads is ${cores + 1} but this machine has ${cores} CPU cores`))]);
  });
});
