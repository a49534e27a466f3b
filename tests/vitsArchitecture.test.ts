// The bench's ViT-S/14 + DPT graph (tools/export/standins.py DepthAnythingV2SmallArchitecture,
// exported with export_depth_anything_v2.py --random-weights) must have the compute of Depth
// Anything V2 Small: its parameter count and tensor shapes are checked here against upstream's
// (depth_anything_v2/dpt.py, encoder 'vits'; counted once from the upstream code). Needs Python
// with torch, as tests/exportScript.test.ts; skipped without.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../src/paths.js";

const PYTHON = process.env["DEPTHSEG_PYTHON"] ?? "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;

const PROBE = `
import json, sys
sys.dont_write_bytecode = True
sys.path.insert(0, ${JSON.stringify(join(PACKAGE_ROOT, "tools", "export"))})
import torch
from standins import DepthAnythingV2SmallArchitecture
m = DepthAnythingV2SmallArchitecture().eval()
x = torch.rand(1, 3, 518, 686)
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
  it.skipIf(!hasTorch)("has Depth Anything V2 Small's parameters, token grid and output size, and a positive output", () => {
    const run = spawnSync(PYTHON, ["-c", PROBE], { encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const probe = JSON.parse(run.stdout.trim().split("\n").pop()!) as {
      params: number; blocks: number; features: number[][]; output: number[]; positive: number;
    };
    // Upstream DepthAnythingV2(encoder='vits') has 24,785,089 parameters; 74,240 of them have no
    // compute (DINOv2's mask_token, 384, and refinenet4's residual unit for a skip it never gets,
    // 2 x (64·64·9 + 64)) and are left out here.
    expect(probe.params).toBe(24_785_089 - 384 - 2 * (64 * 64 * 9 + 64));
    expect(probe.blocks).toBe(12);
    // 518x686 -> a 37x49 patch grid of 384-wide tokens at each of the 4 tapped blocks.
    expect(probe.features).toEqual(Array.from({ length: 4 }, () => [1, 37 * 49, 384]));
    expect(probe.output).toEqual([1, 518, 686]);
    // depthseg rejects a frame whose depth is mostly <= 0; random weights must not produce that.
    expect(probe.positive).toBeGreaterThan(0.99);
  });
});
