// `depthseg run` at the edges a machine without ROS can reach: usage, ROS detection, and a
// missing rclnodejs. The node itself is covered by liveNode.contract.test.ts.

import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main, runLiveNode } from "../src/cli.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { PACKAGE_ROOT } from "../src/paths.js";
import { rosEnvironment } from "../src/transport/ros/rosEnvironment.js";
import { tempDir } from "./support/cameraBag.js";
import { loadRealRclnodejs } from "./support/rclHarness.js";

let stdout = "";
let stderr = "";
afterEach(() => vi.restoreAllMocks());

async function cli(env: Record<string, string | undefined>, ...args: string[]): Promise<number> {
  stdout = "";
  stderr = "";
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const saved = { AMENT_PREFIX_PATH: process.env["AMENT_PREFIX_PATH"], ROS_DISTRO: process.env["ROS_DISTRO"] };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return await main(["run", ...args]);
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

const NO_ROS = { AMENT_PREFIX_PATH: undefined, ROS_DISTRO: undefined };

describe("depthseg run", () => {
  it("detects ROS 2 from AMENT_PREFIX_PATH or ROS_DISTRO", () => {
    expect(rosEnvironment({})).toEqual({ sourced: false, distro: "" });
    expect(rosEnvironment({ ROS_DISTRO: "jazzy" })).toEqual({ sourced: true, distro: "jazzy" });
    expect(rosEnvironment({ AMENT_PREFIX_PATH: "/opt/ros/humble" })).toEqual({ sourced: true, distro: "" });
  });

  it("--help explains the ROS arguments and exits 0, even without ROS", async () => {
    expect(await cli(NO_ROS, "--help")).toBe(0);
    expect(stdout).toMatch(/--params-file/);
    expect(stdout).toMatch(/-r image:=/);
  });

  it("refuses options outside --ros-args with exit 2, pointing to -p", async () => {
    expect(await cli({ ROS_DISTRO: "jazzy" }, "--model", "x")).toBe(2);
    expect(stderr).toMatch(/ROS arguments only .*-p model:=/);
  });

  it("without ROS 2 sourced exits 1, saying to source it and pointing to replay", async () => {
    expect(await cli(NO_ROS, "--ros-args", "-r", "image:=/x")).toBe(1);
    expect(stderr).toMatch(/ROS 2 is not sourced/);
    expect(stderr).toMatch(/npm ci/);
    expect(stderr).toMatch(/depthseg replay/);
  });

  it.skipIf(existsSync(join(PACKAGE_ROOT, "node_modules", "rclnodejs")))(
    "with ROS sourced but rclnodejs not installed, exits 1 saying how to install it",
    async () => {
      expect(await cli({ ROS_DISTRO: "jazzy", AMENT_PREFIX_PATH: "/opt/ros/jazzy" }, "--ros-args")).toBe(1);
      expect(stderr).toMatch(/^depthseg: rclnodejs is not installed/);
      expect(stderr).toMatch(/source ROS 2, then run `npm ci`/);
      expect(stderr).not.toMatch(/    at /);
    },
  );
});

describe("depthseg run: signals (through rclnodejs's own JavaScript, native addon stood in)", () => {
  const real = loadRealRclnodejs("full");
  async function started(): Promise<{ signals: EventEmitter; exit: string[]; code: Promise<number> }> {
    const model = await writeAnalyticBundle(join(await tempDir(), "analytic"));
    real.standIn.events.length = 0;
    real.standIn.log.length = 0;
    const signals = new EventEmitter();
    const exit: string[] = [];
    const code = runLiveNode(real.rcl, ["node", "depthseg", "--ros-args", "-p", `model:=${model}`], signals, (c) => exit.push(c));
    while (signals.listenerCount("SIGTERM") === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    return { signals, exit, code };
  }

  it("SIGTERM stops the node cleanly with exit code 0 and removes its handlers", async () => {
    const { signals, exit, code } = await started();
    signals.emit("SIGTERM", "SIGTERM");
    expect(await code).toBe(0);
    expect(exit).toEqual([]);
    expect(real.standIn.events.slice(-2)).toEqual(["destroy node /depthseg", "shutdown"]);
    expect(real.standIn.log.map((l) => l.message)).toContain("SIGTERM received: finishing the frames in flight");
    expect(real.rcl.isShutdown()).toBe(true);
    expect(signals.listenerCount("SIGINT") + signals.listenerCount("SIGTERM")).toBe(0);
  });

  it("a second Ctrl-C ends the process at once by SIGINT", async () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const { signals, exit, code } = await started();
    signals.emit("SIGINT", "SIGINT");
    signals.emit("SIGINT", "SIGINT");
    expect(exit).toEqual(["SIGINT"]);
    expect(await code).toBe(0);
  });
});
