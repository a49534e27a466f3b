#!/usr/bin/env python3
"""Bundles for tests/fp16Export.test.ts: Depth Anything V2 at ViT-S shape, random weights.

  python3 cases.py --out DIR [--upstream /work/upstream]

Upstream's DepthAnythingV2 class (ViT-S config, real DINOv2 attention); the stand-ins of
tools/export/standins.py have no attention, so without the clone the test skips. Exported with
the real exporter CLI (--checkpoint ... --camera 98x70),
without and with --fp16:
  DIR/fp32, DIR/fp16                  the normal model
  DIR/overflow-fp32, DIR/overflow-fp16 the same with block 0's q and k weights scaled so q.k^T
                                       passes 65504 (float16's largest finite value)
  DIR/*-emulated                       those fp16 graphs and a naive all-float16 conversion of the
                                       overflow model (DIR/overflow-naive-emulated) with float16
                                       storage made explicit (emulate.py), for onnxruntime's CPU
  DIR/probe.onnx                       overflow-fp32 with every softmax input as an extra output
Prints one JSON line with what the test needs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TOOLS = os.path.join(ROOT, "tools", "export")
sys.path.insert(0, TOOLS)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import onnx  # noqa: E402
import torch  # noqa: E402

import fp16  # noqa: E402
from emulate import emulate_fp16_storage  # noqa: E402

CAMERA = ["--camera", "98x70", "--height", "70", "--width", "70"]   # static 70x98


def build(upstream: str):
    repo = os.path.join(upstream, "Depth-Anything-V2")
    sys.path.insert(0, repo)
    from depth_anything_v2.dpt import DepthAnythingV2  # noqa: PLC0415
    torch.manual_seed(0)
    net = DepthAnythingV2(encoder="vits", features=64, out_channels=[48, 96, 192, 384]).eval()
    return net, "upstream", repo, ["--encoder", "vits"]


def export(args, cwd, out, fp16_flag):
    cmd = [sys.executable, "-B", os.path.join(TOOLS, "export_depth_anything_v2.py"), *args, *CAMERA, "--out", out]
    if fp16_flag:
        cmd.append("--fp16")
    run = subprocess.run(cmd, cwd=cwd or ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"exporter failed: {' '.join(cmd)}\n{run.stderr[-3000:]}")
    return [line for line in run.stderr.splitlines() if "float16:" in line]


def first_attention(net):
    for m in net.modules():
        if hasattr(m, "qkv") and hasattr(m, "num_heads"):
            return m
    raise SystemExit("no attention module with .qkv found")


def max_logit(net, attn, x) -> float:
    """max |q.k^T * scale| of `attn` on input x, recomputed from the module's own input."""
    seen = {}
    handle = attn.register_forward_pre_hook(lambda m, inp: seen.update(x=inp[0]))
    with torch.no_grad():
        net(x)
        handle.remove()
        t = seen["x"]
        b, n, c = t.shape
        qkv = attn.qkv(t).reshape(b, n, 3, attn.num_heads, c // attn.num_heads).permute(2, 0, 3, 1, 4)
        logits = (qkv[0] * attn.scale) @ qkv[1].transpose(-2, -1)
    return float(logits.abs().max())


def bundle_with(src_bundle: str, model: onnx.ModelProto, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(src_bundle, "model.yaml"), os.path.join(out, "model.yaml"))
    onnx.save(model, os.path.join(out, "model.onnx"))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--upstream", default=os.environ.get("DEPTHSEG_UPSTREAM_DIR", "/work/upstream"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    net, source, cwd, base_args = build(a.upstream)
    info = {"source": source}

    def exporter_args(ckpt):
        return base_args + ["--checkpoint", ckpt]

    ckpt = os.path.join(a.out, "normal.pth")
    torch.save(net.state_dict(), ckpt)
    export(exporter_args(ckpt), cwd, os.path.join(a.out, "fp32"), False)
    info["fp16_log"] = export(exporter_args(ckpt), cwd, os.path.join(a.out, "fp16"), True)
    bundle_with(os.path.join(a.out, "fp16"), emulate_fp16_storage(onnx.load(os.path.join(a.out, "fp16", "model.onnx"))),
                os.path.join(a.out, "fp16-emulated"))

    # Overflow: scale block 0's q and k projections until q.k^T passes 65504 with margin.
    attn = first_attention(net)
    x = torch.rand(1, 3, 70, 98, generator=torch.Generator().manual_seed(1))
    x = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    before = max_logit(net, attn, x)
    dim = attn.qkv.weight.shape[1]
    gain = (8 * 65504 / before) ** 0.5
    with torch.no_grad():
        attn.qkv.weight[: 2 * dim] *= gain
        if attn.qkv.bias is not None:
            attn.qkv.bias[: 2 * dim] *= gain
    after = max_logit(net, attn, x)
    info.update(logit_before=before, logit_after=after, qk_gain=gain)
    ckpt = os.path.join(a.out, "overflow.pth")
    torch.save(net.state_dict(), ckpt)
    export(exporter_args(ckpt), cwd, os.path.join(a.out, "overflow-fp32"), False)
    info["overflow_fp16_log"] = export(exporter_args(ckpt), cwd, os.path.join(a.out, "overflow-fp16"), True)
    fp32_model = onnx.load(os.path.join(a.out, "overflow-fp32", "model.onnx"))
    bundle_with(os.path.join(a.out, "overflow-fp16"),
                emulate_fp16_storage(onnx.load(os.path.join(a.out, "overflow-fp16", "model.onnx"))),
                os.path.join(a.out, "overflow-fp16-emulated"))
    naive = fp16.convert_float_to_float16(fp32_model, keep_fp32=())
    bundle_with(os.path.join(a.out, "overflow-fp32"), emulate_fp16_storage(naive), os.path.join(a.out, "overflow-naive-emulated"))
    # The same fp16 graph with float16 graph outputs, as some third-party exports have them.
    bundle_with(os.path.join(a.out, "fp16"),
                fp16.convert_float_to_float16(onnx.load(os.path.join(a.out, "fp32", "model.onnx")),
                                              fp16.keep_fp32_nodes(onnx.load(os.path.join(a.out, "fp32", "model.onnx")).graph),
                                              fp32_outputs=False),
                os.path.join(a.out, "fp16-outputs"))

    # Probe: every softmax input of the fp32 overflow graph as an extra output.
    probe = onnx.ModelProto.FromString(fp32_model.SerializeToString())
    softmax_inputs = [n.input[0] for n in probe.graph.node if n.op_type == "Softmax"]
    for name in softmax_inputs:
        probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    onnx.save(probe, os.path.join(a.out, "probe.onnx"))
    info["softmax_inputs"] = softmax_inputs
    info["softmax_count"] = len(softmax_inputs)
    info["reference_input"] = os.path.join(a.out, "input.f32")
    x.numpy().astype("<f4").tofile(info["reference_input"])
    info["sizes"] = {k: os.path.getsize(os.path.join(a.out, k, "model.onnx")) for k in ("fp32", "fp16")}
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
