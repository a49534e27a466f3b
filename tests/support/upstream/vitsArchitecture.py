"""The bench's ViT-S/14 + DPT architecture (tools/export/standins.py) against upstream's
DepthAnythingV2(encoder="vits"): upstream's seeded random weights loaded into ours by name, both run
on one input, the max abs difference printed as JSON (tests/vitsArchitecture.test.ts).
Usage: python3 vitsArchitecture.py TOOLS_EXPORT_DIR DEPTH_ANYTHING_V2_DIR"""
import json, re, sys
sys.dont_write_bytecode = True
tools, upstream = sys.argv[1], sys.argv[2]
sys.path.insert(0, tools); sys.path.insert(0, upstream)
import torch
from depth_anything_v2.dpt import DepthAnythingV2
from standins import DepthAnythingV2SmallArchitecture
torch.manual_seed(3)
up = DepthAnythingV2(encoder="vits", features=64, out_channels=[48, 96, 192, 384]).eval()
mine = DepthAnythingV2SmallArchitecture().eval()

def ours(name):
    name = name.replace("pretrained.patch_embed.proj.", "pretrained.patch_embed.")
    name = re.sub(r"\.ls(\d)\.gamma$", r".ls\1", name)
    name = name.replace(".mlp.fc1.", ".mlp.0.").replace(".mlp.fc2.", ".mlp.2.")
    name = re.sub(r"^depth_head\.scratch\.layer(\d)_rn\.", lambda m: f"depth_head.layer_rn.{int(m[1]) - 1}.", name)
    parts = {"resConfUnit1": "skip", "resConfUnit2": "refine", "out_conv": "out_conv"}
    name = re.sub(r"^depth_head\.scratch\.refinenet(\d)\.(\w+)\.",
                  lambda m: f"depth_head.refine.{int(m[1]) - 1}.{parts[m[2]]}.", name)
    return name.replace("depth_head.scratch.output_conv", "depth_head.output_conv")

# Upstream parameters without compute: the mask token, refinenet4's skip unit (it gets no skip).
unused = [k for k in up.state_dict() if k == "pretrained.mask_token" or k.startswith("depth_head.scratch.refinenet4.resConfUnit1.")]
state = {ours(k): v for k, v in up.state_dict().items() if k not in unused}
mine.load_state_dict(state, strict=True)
x = torch.rand(1, 3, 112, 154, generator=torch.Generator().manual_seed(5))
with torch.no_grad():
    a, b = up(x), mine(x)
print(json.dumps({"unused": unused, "maxAbs": float((a - b).abs().max()), "scale": float(a.abs().max()), "shape": list(b.shape)}))
