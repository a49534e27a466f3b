// tools/synth.ts (the CLI), run in process.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readOutputBag, tempDir } from "../../tests/support/cameraBag.js";
import { frameStem, parseSynthArgs, runSynth } from "../../tools/synth.js";
import { SYNTHETIC_TOPICS } from "./bag.js";

describe("tools/synth.ts", () => {
  it("parses the documented flags with defaults, and rejects bad ones", () => {
    const o = parseSynthArgs(["--out", "x", "--scenes", "2", "--frames", "4", "--width", "160", "--height", "120", "--seed", "1"]);
    expect(o).toMatchObject({ out: "x", format: "folder", scenes: 2, frames: 4, width: 160, height: 120, seed: 1, depthScale: 1000, framesPerLoop: 4 });
    expect(() => parseSynthArgs(["--out", "x", "--scenes", "2", "--frames", "4", "--width", "160", "--height", "120"])).toThrow(/--seed/);
    expect(() => parseSynthArgs(["--out", "x", "--format", "zip", "--scenes", "1", "--frames", "1", "--width", "8", "--height", "8", "--seed", "0"])).toThrow(/--format/);
    expect(() => parseSynthArgs(["--out", "x", "--scenes", "0", "--frames", "1", "--width", "8", "--height", "8", "--seed", "0"])).toThrow(/--scenes/);
    expect(frameStem(12, 3)).toBe("s12_f0003");
  });

  it("folder format: one flat dataset, scenes numbered from the seed; deterministic", async () => {
    const run = async () => {
      const out = join(await tempDir(), "ds");
      await runSynth(parseSynthArgs(["--out", out, "--scenes", "2", "--frames", "2", "--width", "40", "--height", "30", "--seed", "7", "--quiet"]));
      return out;
    };
    const [a, b] = [await run(), await run()];
    const stems = ["s7_f0000", "s7_f0001", "s8_f0000", "s8_f0001"];
    for (const sub of ["rgb", "depth", "labels"]) {
      expect((await readdir(join(a, sub))).sort()).toEqual(stems.map((s) => `${s}.png`));
      for (const stem of stems) {
        const [x, y] = await Promise.all([readFile(join(a, sub, `${stem}.png`)), readFile(join(b, sub, `${stem}.png`))]);
        expect(x.equals(y)).toBe(true);
      }
    }
    const meta = JSON.parse(await readFile(join(a, "scenes.json"), "utf8"));
    expect(meta.scenes.map((s: { seed: number }) => s.seed)).toEqual([7, 8]);
  });

  it("mcap format: one bag for a .mcap path, one bag per scene for a folder", async () => {
    const dir = await tempDir();
    const common = ["--format", "mcap", "--scenes", "2", "--frames", "2", "--width", "32", "--height", "24", "--seed", "3", "--quiet"];
    await runSynth(parseSynthArgs(["--out", join(dir, "all.mcap"), ...common]));
    const all = await readOutputBag(join(dir, "all.mcap"));
    expect(all.get(SYNTHETIC_TOPICS.depth)).toHaveLength(4);
    await runSynth(parseSynthArgs(["--out", join(dir, "bags"), ...common]));
    expect((await readdir(join(dir, "bags"))).sort()).toEqual(["scene_3.mcap", "scene_4.mcap"]);
    expect((await readOutputBag(join(dir, "bags", "scene_4.mcap"))).get(SYNTHETIC_TOPICS.labels)).toHaveLength(2);
  });
});
