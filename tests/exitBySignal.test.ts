// A second Ctrl-C must leave at once without the abort that process.exit() causes while the
// inference worker is inside session.run.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "./support/cameraBag.js";

const CHILD = fileURLToPath(new URL("./support/exitMidInference.ts", import.meta.url));

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

async function runChild(how: "signal" | "exit"): Promise<Ended> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, how, await tempDir()], { stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("exitBySignal", () => {
  it("ends the process by SIGINT (status 130 in a shell) while session.run executes, without aborting", async () => {
    const ended = await runChild("signal");
    expect(ended.stdout).toBe("leaving\n"); // it got as far as the exit, mid-run
    expect(ended.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(ended).toMatchObject({ code: null, signal: "SIGINT" });
  });
});
