#!/usr/bin/env python3
"""Export a Depth Anything 3 checkpoint (ByteDance-Seed/Depth-Anything-3) to a depthseg bundle.

Run it inside a clone of https://github.com/ByteDance-Seed/Depth-Anything-3 (or pass --repo),
with the upstream environment installed (`pip install -e .`: omegaconf, addict, einops, ...) and
a checkpoint from the model's Hugging Face page (model.safetensors):

  # Metric-Large: metres = output * focal / 300, plus a sky map
  python /path/to/depthseg/tools/export/export_depth_anything_3.py --model da3metric-large \\
      --checkpoint DA3METRIC-LARGE/model.safetensors --max-depth 80 --camera 640x480 \\
      --out /path/to/depthseg/models/da3-metric-large

  # Small / Base (any-view models, used here on one view): relative depth + confidence
  python .../export_depth_anything_3.py --model da3-small --checkpoint DA3-SMALL/model.safetensors \\
      --camera 640x480 --out models/da3-small

  # Mono-Large: relative depth + sky
  python .../export_depth_anything_3.py --model da3mono-large --checkpoint DA3MONO-LARGE/model.safetensors \\
      --camera 640x480 --out models/da3-mono-large

The graph: input `image` [1,3,H,W] float32 (RGB, ImageNet mean/std, H and W multiples of 14);
outputs, each [1,1,H,W] float32 at the input resolution (upstream's head upsamples inside, with
align_corners=True):
  depth       the head's depth ("exp" activation). Metric: canonical-camera depth, model.yaml
              `kind: metric, canonical_focal: 300` (depthseg: metres = depth * f / 300, f the mean of
              fx, fy of the image as resized for the model -- upstream README's formula). Small,
              Base, Large, Giant and Mono: `kind: relative_depth` (depth up to an unknown scale).
  confidence  any-view models (Small/Base/Large/Giant): upstream's depth_conf ("expp1": 1 + exp(x),
              so >= 1, larger = more confident). model.yaml `outputs.confidence` with
              `activation: expp1` (depthseg publishes 1 - 1/c, in 0..1).
  sky         Mono and Metric: upstream's sky map (ReLU). Upstream treats sky >= 0.3 as sky
              (compute_sky_mask) and overwrites it with the 99th percentile of the other depths;
              depthseg publishes those pixels as NaN instead (model.yaml
              `outputs.sky: { name: sky, threshold: 0.3 }`, --sky-threshold).

What is exported is upstream's own DepthAnything3Net code: `backbone(x)` then
`_process_depth_head(...)` on one view (x = image[:, None], [B=1, N=1, 3, H, W]), which is what
`forward` runs for depth; the camera decoder, ray/pose outputs, Gaussian head and the sky
post-processing (data-dependent: a quantile over the non-sky pixels) are left out.

Attention: upstream calls F.scaled_dot_product_attention (torch >= 2.0; Debian's torch is 1.13).
This script switches every DINOv2 Attention module to upstream's own non-fused branch
(`fused_attn = False`: softmax(q * scale @ k^T) @ v, the same arithmetic; no attention mask is
used on one view), which every torch version traces and exports as plain MatMul/Softmax nodes.
tests/upstreamParity.test.ts checks the result against upstream's forward with fused attention.

--features [vit] adds an output `features` for `depthseg fit-head` (model.yaml outputs.features:
{name: features, stride: 14}): the last stage's patch tokens as the DPT head reads them, layer-
normed and reshaped to [1, C, H/14, W/14] -- the input of the head's last `projects` conv, taken
with a forward pre-hook (the forward is unchanged, so depth is the export without it). C is the
backbone's token width as the head sees it (DA3 concatenates local and global tokens: 2x the
ViT's embed dim, 768 for DA3-Small).

Static size only: upstream computes the patch grid, RoPE positions and output size with Python
ints, which a trace freezes. --camera WxH picks the size upstream's InputProcessor gives that
camera (process_res 504, "upper_bound_resize": longest side to 504, then each side to the
nearest multiple of 14), e.g. 640x480 -> 378x504 (H x W); model.yaml says `stretch` to it, with
`area` interpolation when the camera is larger (upstream: cv2.INTER_AREA when shrinking,
INTER_CUBIC when enlarging, on the uint8 image).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep __pycache__ out of the depthseg checkout

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import bundle_yaml  # noqa: E402
from onnx_export import FEATURES_OUTPUT, FeatureTap, add_features_argument, add_fp16_argument, describe_graph, export_onnx, log  # noqa: E402

PATCH = 14
PROCESS_RES = 504           # upstream InputProcessor default (api.inference process_res)
FEATURE_CHOICES = {"vit": "the last stage's patch tokens as the DPT head reads them (normed), [1, C, H/14, W/14] (stride 14)"}
DEFAULT_FEATURES = "vit"
CANONICAL_FOCAL = 300.0     # upstream README: metric_depth = focal * net_output / 300
SKY_THRESHOLD = 0.3         # upstream utils/alignment.compute_sky_mask default
# Upstream config name -> what its depth output is. Nested models are out of scope (two networks).
VARIANTS = {
    "da3-small": "any-view",
    "da3-base": "any-view",
    "da3-large": "any-view",
    "da3-giant": "any-view",
    "da3mono-large": "mono",
    "da3metric-large": "metric",
}


# --- sizes ------------------------------------------------------------------------------------

def upper_bound_size(src_w: int, src_h: int, target: int = PROCESS_RES, multiple: int = PATCH) -> Tuple[int, int]:
    """(height, width) of upstream InputProcessor's "upper_bound_resize" for a src_w x src_h
    image: scale the longest side to `target` (Python round), then each side to the nearest
    multiple (ties up), as _resize_longest_side and _make_divisible_by_resize."""
    longest = max(src_w, src_h)
    w, h = src_w, src_h
    if longest != target:
        scale = target / float(longest)
        w, h = max(1, int(round(src_w * scale))), max(1, int(round(src_h * scale)))

    def nearest(x: int) -> int:
        down = (x // multiple) * multiple
        up = down + multiple
        return up if abs(up - x) <= abs(x - down) else down

    return max(1, nearest(h)), max(1, nearest(w))


# --- building the upstream model --------------------------------------------------------------

def _import_upstream(repo: str) -> None:
    src = os.path.join(repo, "src")
    if os.path.isfile(os.path.join(src, "depth_anything_3", "model", "da3.py")):
        sys.path.insert(0, src)
    else:
        try:
            import depth_anything_3.model.da3  # noqa: F401,PLC0415
        except ImportError as e:
            raise SystemExit(f"{src}/depth_anything_3/model/da3.py not found and depth_anything_3 is not installed "
                             f"({e}): run inside a Depth-Anything-3 clone or pass --repo") from None


def load_checkpoint(path: str) -> Dict[str, torch.Tensor]:
    """State dict of DepthAnything3Net from a Hugging Face model.safetensors (keys of the
    DepthAnything3 wrapper, "model." prefix) or a torch .pt/.pth state dict."""
    if path.endswith(".safetensors"):
        try:
            from safetensors.torch import load_file  # noqa: PLC0415
        except ImportError:
            raise SystemExit("reading .safetensors needs the safetensors package (pip install safetensors)") from None
        state = load_file(path)
    else:
        state = torch.load(path, map_location="cpu")
        for key in ("model", "state_dict"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
    if not isinstance(state, dict):
        raise SystemExit(f"{path} does not hold a state dict")
    for prefix in ("module.", "model."):
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def build_upstream(repo: str, config: str, checkpoint: Optional[str]) -> nn.Module:
    _import_upstream(repo)
    from depth_anything_3.cfg import create_object, load_config  # noqa: PLC0415

    net = create_object(load_config(config))
    if checkpoint:
        net.load_state_dict(load_checkpoint(checkpoint), strict=True)
    else:
        log("no --checkpoint: random weights (for checking the export only; the depth means nothing)")
    return net.eval()


def unfuse_attention(net: nn.Module) -> int:
    """Sets upstream's `fused_attn = False` on every attention module that has it (see module
    doc); returns how many."""
    count = 0
    for module in net.modules():
        if hasattr(module, "fused_attn"):
            module.fused_attn = False
            count += 1
    return count


class _StaticPositions:
    """Stands in for upstream's PositionGetter during export. Traced, the patch-grid sizes it gets
    are 0-d tensors, which miss its (height, width) cache and run torch.cartesian_prod, an
    operator ONNX cannot express. The graph is static, so the grid is a constant: this calls
    upstream's getter with Python ints, which returns its cached table (filled by a first call
    outside the trace) -- the same values, exported as a constant."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.position_cache = inner.position_cache

    def __call__(self, batch_size, height, width, device):
        return self.inner(int(batch_size), int(height), int(width), device)


def static_positions(net: nn.Module) -> int:
    """Wraps every RoPE PositionGetter of the backbone (see _StaticPositions); returns how many."""
    count = 0
    for module in net.modules():
        getter = getattr(module, "position_getter", None)
        if getter is not None and not isinstance(getter, _StaticPositions) and hasattr(getter, "position_cache"):
            module.position_getter = _StaticPositions(getter)
            count += 1
    return count


def _plain(value):
    """A traced size (0-d tensor) as the Python number it was; anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.dim() == 0:
        return value.item()
    return value


def constant_uv_grids() -> int:
    """Upstream's head adds a UV position grid, create_uv_grid(width, height, aspect_ratio),
    built with torch.meshgrid(indexing="xy"), which torch 1.13's ONNX exporter cannot translate.
    For a static graph the grid is a constant: every module that imported the function gets a
    memoised copy that runs upstream's function on Python numbers; filled by a first call outside
    the trace, it hands the trace the same tensor, which is exported as a constant."""
    head_utils = sys.modules.get("depth_anything_3.model.utils.head_utils")
    original = getattr(head_utils, "create_uv_grid", None)
    if original is None:
        return 0
    cache: Dict[tuple, torch.Tensor] = {}

    def create_uv_grid(width, height, aspect_ratio=None, dtype=None, device=None):
        key = (int(_plain(width)), int(_plain(height)), None if aspect_ratio is None else float(_plain(aspect_ratio)), dtype, device)
        if key not in cache:
            cache[key] = original(key[0], key[1], aspect_ratio=key[2], dtype=dtype, device=device)
        return cache[key]

    count = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("depth_anything_3.") and getattr(module, "create_uv_grid", None) is original:
            module.create_uv_grid = create_uv_grid
            count += 1
    return count


class DepthAnything3Export(nn.Module):
    """image [1,3,H,W] -> depth [, confidence] [, sky], each [1,1,H,W], via upstream's backbone
    and depth head on one view."""

    def __init__(self, net: nn.Module, tap: Optional[FeatureTap] = None) -> None:
        super().__init__()
        self.net = net
        self._tap = tap

    def forward(self, image: torch.Tensor):
        height, width = image.shape[-2], image.shape[-1]
        feats, _ = self.net.backbone(image.unsqueeze(1), cam_token=None, export_feat_layers=[])
        out = self.net._process_depth_head(feats, height, width)
        tensors = [out["depth"]]                      # [B=1, N=1, H, W]: N is the channel axis
        if "depth_conf" in out:
            tensors.append(out["depth_conf"])
        if "sky" in out:
            tensors.append(out["sky"])
        if self._tap is not None:
            tensors.append(self._tap.take())
        return tuple(tensors) if len(tensors) > 1 else tensors[0]


def feature_tap(net: nn.Module) -> FeatureTap:
    projects = getattr(net.head, "projects", None)
    if not isinstance(projects, nn.ModuleList) or len(projects) == 0:
        raise SystemExit("unexpected model: its head has no `projects` convs; export without --features")
    return FeatureTap(projects[-1], lambda args: args[0], where="input")


def output_names(net: nn.Module, example: torch.Tensor) -> List[str]:
    """The graph outputs, from what upstream's head returns for the example."""
    with torch.no_grad():
        feats, _ = net.backbone(example.unsqueeze(1), cam_token=None, export_feat_layers=[])
        out = net._process_depth_head(feats, example.shape[-2], example.shape[-1])
    names = ["depth"] + (["confidence"] if "depth_conf" in out else []) + (["sky"] if "sky" in out else [])
    return names


# --- main -------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(VARIANTS), help="upstream config (src/depth_anything_3/configs/<model>.yaml)")
    p.add_argument("--config", help="another upstream-format config .yaml instead of --model (needs --variant)")
    p.add_argument("--variant", choices=("any-view", "mono", "metric"),
                   help="with --config: what the depth output is (default: from --model)")
    p.add_argument("--checkpoint", help="model.safetensors (Hugging Face) or a .pt/.pth state dict")
    p.add_argument("--repo", default=os.getcwd(), help="Depth-Anything-3 clone (default: current folder)")
    p.add_argument("--camera", metavar="WxH", help="static graph at the size upstream's resize gives this camera")
    p.add_argument("--height", type=int, help="static input height, multiple of 14 (default 504, or from --camera)")
    p.add_argument("--width", type=int, help="static input width, multiple of 14 (default 504, or from --camera)")
    p.add_argument("--max-depth", type=float, help="metric: model.yaml max_depth, the range you trust (metres); required")
    p.add_argument("--sky-threshold", type=float, default=SKY_THRESHOLD,
                   help=f"mono/metric: sky map value from which depthseg publishes NaN (upstream: {SKY_THRESHOLD})")
    p.add_argument("--name", help="bundle name")
    p.add_argument("--out", required=True, help="bundle folder to write (model.onnx, model.yaml)")
    p.add_argument("--opset", type=int, default=17)
    add_fp16_argument(p)
    add_features_argument(p, FEATURE_CHOICES, DEFAULT_FEATURES)
    args = p.parse_args(argv)
    if bool(args.model) == bool(args.config):
        p.error("give exactly one of --model and --config")
    if args.config and not args.variant:
        p.error("--config needs --variant (any-view | mono | metric)")
    args.variant = args.variant or VARIANTS[args.model]
    if args.camera and (args.height or args.width):
        p.error("--camera and --height/--width are exclusive")
    for side in ("height", "width"):
        v = getattr(args, side)
        if v is not None and (v <= 0 or v % PATCH):
            p.error(f"--{side} must be a positive multiple of {PATCH}")
    if args.variant == "metric" and args.max_depth is None:
        p.error("a metric model needs --max-depth (metres; e.g. 80 outdoors, 20 indoors)")
    if args.max_depth is not None and args.max_depth <= 0:
        p.error("--max-depth must be > 0")
    if not (args.sky_threshold > 0):
        p.error("--sky-threshold must be > 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    repo = os.path.abspath(args.repo)
    if args.camera:
        cam_w, cam_h = bundle_yaml.parse_size(args.camera)
        height, width = upper_bound_size(cam_w, cam_h)
        # Upstream: cv2.INTER_CUBIC when enlarging, INTER_AREA when shrinking (uint8 image).
        interpolation = "cubic" if PROCESS_RES > max(cam_w, cam_h) else "area"
        log(f"camera {cam_w}x{cam_h} -> static input {height}x{width} (longest side {PROCESS_RES}, multiples of {PATCH})")
    else:
        height, width = args.height or PROCESS_RES, args.width or PROCESS_RES
        interpolation = "area"

    config = args.config or os.path.join(repo, "src", "depth_anything_3", "configs", f"{args.model}.yaml")
    if not os.path.isfile(config):
        raise SystemExit(f"{config} not found: run inside a Depth-Anything-3 clone or pass --repo")
    net = build_upstream(repo, os.path.abspath(config), args.checkpoint)
    log(f"attention: {unfuse_attention(net)} modules set to upstream's non-fused branch")
    if static_positions(net):
        log("RoPE positions: exported as a constant of the static grid")
    if constant_uv_grids():
        log("head UV grids: exported as constants of the static size")

    example = torch.rand(1, 3, height, width)
    outputs = output_names(net, example)
    if args.variant != "any-view" and "sky" not in outputs:
        raise SystemExit(f"{args.variant} model without a sky output: is --variant right?")
    if args.variant == "any-view" and "confidence" not in outputs:
        raise SystemExit("any-view model without depth_conf: is --variant right?")
    tap = feature_tap(net) if args.features else None
    if tap is not None:
        outputs = outputs + [FEATURES_OUTPUT]
    onnx_path = os.path.join(args.out, "model.onnx")
    try:
        export_onnx(DepthAnything3Export(net, tap).eval(), example, onnx_path, "image", outputs, dynamic_hw=False,
                    opset=args.opset, fp16=args.fp16)
    finally:
        if tap is not None:
            tap.remove()
    describe_graph(onnx_path, "image", outputs)

    metric = args.variant == "metric"
    depth = bundle_yaml.DepthOutput(
        name="depth", kind="metric" if metric else "relative_depth", max_depth=args.max_depth,
        canonical_focal=CANONICAL_FOCAL if metric else None)
    label = args.model or os.path.splitext(os.path.basename(config))[0]
    doc = bundle_yaml.ModelYaml(
        name=args.name or label,
        file="model.onnx",
        input=bundle_yaml.InputSpec(
            name="image", height=height, width=width, multiple_of=PATCH, resize="stretch",
            interpolation=interpolation, mean=bundle_yaml.IMAGENET_MEAN, std=bundle_yaml.IMAGENET_STD, color="rgb"),
        depth=depth,
        confidence=bundle_yaml.ConfidenceOutput(name="confidence", activation="expp1") if "confidence" in outputs else None,
        sky=bundle_yaml.SkyOutput(name="sky", threshold=args.sky_threshold) if "sky" in outputs else None,
        features=bundle_yaml.FeaturesOutput(FEATURES_OUTPUT, PATCH) if tap is not None else None,
        comments=[
            "Exported by tools/export/export_depth_anything_3.py"
            + ("" if args.checkpoint else " without a checkpoint (random weights: the depth means nothing)"),
            f"{label} ({args.variant}), static {height}x{width}, opset {args.opset}"
            + (", float16 (--fp16: attention and layer norms float32, float32 input/outputs)" if args.fp16 else ""),
        ] + ([f"metric: metres = depth * f / {CANONICAL_FOCAL:g} (f: mean of fx, fy at the model's input size)"] if metric else [
            "relative_depth: depth up to an unknown scale, NOT metres (depth.scale / depth.shift map it)."])
          + ([f"--features {args.features}: {FEATURE_CHOICES[args.features]}, for depthseg fit-head"] if tap is not None else []),
    )
    path = bundle_yaml.write(doc, args.out)
    log(f"wrote {path}")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
