import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { workerReply } from "./workerReply.js";

const wait = (worker: Worker) =>
  workerReply<{ type: string; n?: number }, number>(worker, {
    settle: (m) => (m.type === "answer" ? { value: m.n! } : m.type === "refused" ? { error: new Error("refused") } : undefined),
    failed: (e) => new Error(`failed: ${e.message}`),
    exited: (code) => new Error(`exited (code ${code})`),
  });
const run = (code: string) => new Worker(`const { parentPort } = require("node:worker_threads"); ${code}`, { eval: true });

describe("workerReply: a worker's first answer, or its failure", () => {
  it("skips other messages, resolves on the answer and leaves no listener behind", async () => {
    const worker = run(`parentPort.postMessage({ type: "progress" }); parentPort.postMessage({ type: "answer", n: 42 }); setTimeout(() => {}, 200);`);
    await expect(wait(worker)).resolves.toBe(42);
    expect(worker.listenerCount("message") + worker.listenerCount("error") + worker.listenerCount("exit")).toBe(0);
    await worker.terminate();
  });

  it("rejects with the waiter's error for a refusal, a thrown error and an exit", async () => {
    await expect(wait(run(`parentPort.postMessage({ type: "refused" }); setTimeout(() => {}, 200);`))).rejects.toThrow("refused");
    await expect(wait(run(`throw new Error("boom");`))).rejects.toThrow("failed: boom");
    await expect(wait(run(`process.exit(3);`))).rejects.toThrow("exited (code 3)");
  });
});
