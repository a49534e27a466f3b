// The bench's ViT-S/14 + DPT graph (tools/export/standins.py DepthAnythingV2SmallArchitecture,
// exported with export_depth_anything_v2.py --random-weights) must have the compute of Depth
// Anything V2 Small: its parameter count and tensor shapes are checked here against upstream's
// (depth_anything_v2/dpt.py, encoder 'vits'; counted once from the upstream code), and, where the
// upstream clone is there (DEPTHSEG_UPSTREAM_DIR, default /work/upstream, as
// tests/upstreamParity.test.ts), with upstream's weights loaded it must compute upstream's output.
// Needs Python with torch, as tests/exportScript.test.ts; skipped without.

import { spawnSync } from "node:child_process";
import { runChild } from "./support/childProcess.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../src/paths.js";

const PYTHON = process.env["DEPTHSEG_PYTHON"] ?? "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
const UPSTREAM_DA2 = join(process.env["DEPTHSEG_UPSTREAM_DIR"] ?? "/work/upstream", "Depth-Anything-V2");
/** The last stdout line of a python run (asynchronously: see tests/support/childProcess.ts). */
async function python(args: string[]): Promise<string> {
  const run = await runChild(PYTHON, args, { timeoutMs: 170_000 });
  if (run.status !== 0) throw new Error(`python ${args.slice(0, 2).join(" ")} failed (${run.status ?? run.signal}):\n${run.stderr.slice(-4000)}`);
  return run.stdout.trim().split("\n").pop()!;
}
const hasUpstream = hasTorch && existsSync(join(UPSTREAM_DA2, "depth_anything_v2", "dpt.py"));

const PROBE = `
import json, sys
sys.dont_write_bytecode = True
sys.path.insert(0, ${JSON.stringify(join(PACKAGE_ROOT, "tools", "export"))})
import torch
from standins import DepthAnythingV2SmallArchitecture
m = DepthAnythingV2SmallArchitecture().eval()
# A small non-square input keeps the test quick; the position table (37x37, for 518 px) is resampled to it.
x = torch.rand(1, 3, 112, 154)
with torch.no_grad():
    feats = m.pretrained.get_intermediate_layers(x, [2, 5, 8, 11], return_class_token=True)
    y = m(x)
print(json.dumps({
    "params": sum(p.numel() for p in m.parameters()),
    "blocks": len(m.pretrained.blocks),
    "features": [list(f.shape) for f, _ in feats],
    "output": list(y.shape),
    "positive": float((y > 0).float().mean()),
}))
`;

describe("ViT-S/14 + DPT bench architecture (needs python3 with torch; skipped without)", () => {
  it.skipIf(!hasTorch)("has Depth Anything V2 Small's parameters, token grid and output size, and a positive output", async () => {
    const probe = JSON.parse(await python(["-c", PROBE])) as {
      params: number; blocks: number; features: number[][]; output: number[]; positive: number;
    };
    // Upstream DepthAnythingV2(encoder='vits') has 24,785,089 parameters; 74,240 of them have no
    // compute (DINOv2's mask_token, 384, and refinenet4's residual unit for a skip it never gets,
    // 2 x (64·64·9 + 64)) and are left out here.
    expect(probe.params).toBe(24_785_089 - 384 - 2 * (64 * 64 * 9 + 64));
    expect(probe.blocks).toBe(12);
    // 112x154 -> an 8x11 patch grid of 384-wide tokens at each of the 4 tapped blocks.
    expect(probe.features).toEqual(Array.from({ length: 4 }, () => [1, 8 * 11, 384]));
    expect(probe.output).toEqual([1, 112, 154]);
    // depthseg rejects a frame whose depth is mostly <= 0; random weights must not produce that.
    expect(probe.positive).toBeGreaterThan(0.99);
  }, 180_000);

  it.skipIf(!hasUpstream)("computes upstream DepthAnythingV2(encoder='vits')'s output from upstream's weights (needs the upstream clone)", async () => {
    const probe = join(PACKAGE_ROOT, "tests", "support", "upstream", "vitsArchitecture.py");
    const result = JSON.parse(await python([probe, join(PACKAGE_ROOT, "tools", "export"), UPSTREAM_DA2])) as { unused: string[]; maxAbs: number; scale: number; shape: number[] };
    // Every upstream weight but the 5 tensors without compute has its place here (strict load).
    expect(result.unused).toHaveLength(5);
    expect(result.shape).toEqual([1, 112, 154]);
    expect(result.scale).toBeGreaterThan(0);
    // Same operations in the same order: equal to float32 rounding.
    expect(result.maxAbs).toBeLessThanOrEqual(1e-6 * result.scale);
  }, 180_000);
});
