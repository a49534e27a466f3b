// The command line itself: --help and --version for every command, --quiet, the provider line
// once per process, and the messages for a missing input or an --out that is a folder.

import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cli } from "./support/runCli.js";
import { PACKAGE_ROOT, SAMPLE_BAG } from "../src/paths.js";
import { readOutputBag, tempDir, typed } from "./support/cameraBag.js";

afterEach(() => vi.restoreAllMocks());


const COMMANDS = ["replay", "eval", "fit-head", "expose-features", "demo", "run", "models"] as const;

describe("depthseg --help and --version", () => {
  it.each(COMMANDS)("%s --help prints that command's usage on stdout and exits 0", async (name) => {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout, stderr } = await cli(name, flag);
      expect(code, stderr).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: depthseg ${name}\\b`));
      expect(stdout).toContain("--version");
      expect(stderr).toBe("");
    }
    // Also with other options around it, and as `depthseg help <command>`.
    expect((await cli(name, "--model", "x", "--help")).stdout).toMatch(new RegExp(`^Usage: depthseg ${name}\\b`));
    expect((await cli("help", name)).stdout).toMatch(new RegExp(`^Usage: depthseg ${name}\\b`));
  });

  it("replay --help lists its options", async () => {
    const { stdout } = await cli("replay", "--help");
    for (const option of ["--out", "--model", "--params", "--image-topic", "--camera-info-topic", "--realtime", "--quiet", "--summary"]) {
      expect(stdout).toContain(option);
    }
  });

  it.each([[], ...COMMANDS.map((name) => [name])])("%s --version prints package.json's version", async (...name: string[]) => {
    const { version } = JSON.parse(await readFile(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string };
    const { code, stdout } = await cli(...name, "--version");
    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });

  it("an unknown option is a usage error (exit 2) followed by that command's usage", async () => {
    const { code, stderr } = await cli("replay", "in.mcap", "--out", "o.mcap", "--bogus");
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown option '--bogus'/);
    expect(stderr).toContain("Usage: depthseg replay");
  });
});

describe("depthseg replay: paths", () => {
  it("a missing input says `no such file`, not ENOENT", async () => {
    const dir = await tempDir();
    const { code, stderr } = await cli("replay", join(dir, "missing.mcap"), "--out", join(dir, "o.mcap"));
    expect(code).toBe(1);
    expect(stderr).toBe(`depthseg: ${join(dir, "missing.mcap")}: no such file\n`);
  });

  it("--out naming a directory says so and suggests a file in it", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "outdir"));
    const { code, stderr } = await cli("replay", SAMPLE_BAG, "--out", join(dir, "outdir"));
    expect(code).toBe(1);
    expect(stderr).toBe(
      `depthseg: --out ${join(dir, "outdir")} is a directory; name the output file, e.g. --out ${join(dir, "outdir", "sample.depthseg.mcap")}\n`,
    );
  });
});

const DEMO_MODEL_WARNING =
  "warning: model depthseg-demo-synthetic-indoor (trained on synthetic-indoor (the project's rendered rooms, tools/train; no real image)): " +
  "trained on synthetic rooms only, not for real scenes: on a real camera its depth is not metres to trust, whatever depth_is_metric says; " +
  "use a real model (README: Real models)";

describe("depthseg replay: what the model knows", () => {
  it("the default (demo) model says it was trained on synthetic-indoor and is not for real scenes: stderr, summary, status", async () => {
    const dir = await tempDir();
    const output = join(dir, "o.mcap");
    const { code, stdout, stderr } = await cli("replay", SAMPLE_BAG, "--out", output);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(DEMO_MODEL_WARNING);
    expect(stdout).toContain("\n  trained on synthetic-indoor (the project's rendered rooms, tools/train; no real image)\n");
    expect(stdout).toMatch(/\n {2}WARNING {4}trained on synthetic rooms only, not for real scenes/);
    const statuses = typed(await readOutputBag(output), "/depthseg/status", "depthseg/msg/PerceptionStatus");
    expect(statuses).toHaveLength(12);
    expect(new Set(statuses.map((s) => s.trained_on))).toEqual(new Set(["synthetic-indoor (the project's rendered rooms, tools/train; no real image)"]));
    expect(statuses[0]!.depth_is_metric).toBe(true);
  });

  it("models shows trained_on and the warning", async () => {
    const { code, stdout } = await cli("models");
    expect(code).toBe(0);
    expect(stdout).toMatch(/\n {2}trained on {4}synthetic-indoor /);
    expect(stdout).toMatch(/\n {2}WARNING {7}trained on synthetic rooms only, not for real scenes/);
    expect(stdout).toContain("\n  features      features: stride 16 (for depthseg fit-head)");
  });
});

describe("depthseg --quiet and the provider line", () => {
  it("replay --quiet writes only warnings (here: the demo model's); --summary brings the summary back", async () => {
    const dir = await tempDir();
    const quiet = await cli("replay", SAMPLE_BAG, "--out", join(dir, "q.mcap"), "--quiet");
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe("");
    expect(quiet.stderr).toBe(`${DEMO_MODEL_WARNING}\n`);
    const asked = await cli("replay", SAMPLE_BAG, "--out", join(dir, "s.mcap"), "--quiet", "--summary");
    expect(asked.code).toBe(0);
    expect(asked.stdout).toMatch(/frames {5}read 12, processed 12, dropped 0, failed 0/);
    expect(asked.stderr).toBe(`${DEMO_MODEL_WARNING}\n`);
  });

  it("demo (replay, then eval: two inference workers) prints the execution-provider line once", async () => {
    const dir = await tempDir();
    const { code, stderr } = await cli("demo", "--out", dir, "--params", await cpuFallbackParams(dir));
    expect(code, stderr).toBe(0);
    expect(stderr.match(/execution providers: /g)).toHaveLength(1);
  }, 60_000);
});

/** Providers cuda then cpu: on a CPU-only machine the first fails, so there is a provider line to print. */
async function cpuFallbackParams(dir: string): Promise<string> {
  const { writeFile } = await import("node:fs/promises");
  const path = join(dir, "providers.yaml");
  await writeFile(path, "depthseg:\n  ros__parameters:\n    execution_providers: [cuda, cpu]\n");
  return path;
}

describe("depthseg replay --previews", () => {
  it("writes one camera | depth | labels PNG per frame, with the key under them", async () => {
    const { decodeCompressedImage } = await import("../src/imaging/decode.js");
    const { readdir } = await import("node:fs/promises");
    const dir = await tempDir();
    const previews = join(dir, "previews");
    const { code, stderr } = await cli("replay", SAMPLE_BAG, "--out", join(dir, "o.mcap"), "--previews", previews);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`previews (camera | depth | labels): 12 PNGs in ${previews}`);
    const files = (await readdir(previews)).sort();
    expect(files).toHaveLength(12);
    const first = decodeCompressedImage("png", await readFile(join(previews, files[0]!)));
    expect(first.width).toBe(3 * 320);
    expect(first.height).toBeGreaterThan(240);
  });

  it("refuses --previews when --topics leaves out depth/colorized", async () => {
    const { code, stderr } = await cli("replay", SAMPLE_BAG, "--out", "/tmp/x.mcap", "--previews", "/tmp/p", "--topics", "depth/image");
    expect(code).toBe(2);
    expect(stderr).toMatch(/--previews draws from depth\/colorized/);
  });
});
