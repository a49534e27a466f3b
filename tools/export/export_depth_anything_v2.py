#!/usr/bin/env python3
"""Export a Depth Anything V2 checkpoint to a depthseg model bundle (model.onnx + model.yaml).

Run it inside a clone of https://github.com/DepthAnything/Depth-Anything-V2 (or pass --repo),
with the checkpoint you downloaded from the project's README:

  # relative (affine-invariant disparity), e.g. depth_anything_v2_vits.pth
  python /path/to/depthseg/tools/export/export_depth_anything_v2.py \\
      --encoder vits --checkpoint checkpoints/depth_anything_v2_vits.pth \\
      --dynamic --out /path/to/depthseg/models/da2-small-relative

  # metric, indoor (Hypersim, max 20 m) or outdoor (Virtual KITTI 2, max 80 m)
  python .../export_depth_anything_v2.py --metric --max-depth 20 \\
      --encoder vits --checkpoint checkpoints/depth_anything_v2_metric_hypersim_vits.pth \\
      --camera 640x480 --out models/da2-small-indoor

The graph has one input `image` [1,3,H,W] float32 (RGB, ImageNet-normalised, H and W multiples
of 14) and one output, [1,1,H,W] float32: `depth` (metres, --metric) or `disparity` (relative).
Upstream returns [B,H,W]; the wrapper adds the channel axis.

Input size: three choices.
  --dynamic        H and W are symbolic; depthseg resizes each frame keeping its aspect ratio so
                   both sides reach --height/--width (default 518), as upstream's infer_image does
                   (model.yaml: resize keep_aspect_lower_bound). Best for onnxruntime CPU/CUDA.
  --camera WxH     static graph at the size that rule gives a WxH camera (640x480 -> 518x686);
                   model.yaml says `stretch` to exactly that size, which for that camera is the
                   same resize. Best for TensorRT (one fixed engine).
  (neither)        static graph at --height x --width with `stretch` (the image is squeezed to
                   that size; fine when it matches the camera's aspect ratio).

Dynamic export needs two patches, applied only with --dynamic (the traced graph would otherwise
freeze the sizes of the example input):
  * DINOv2's interpolate_pos_encoding skips resampling for a square input whose patch grid
    matches the table, and otherwise resamples with a Python float scale factor
    ((H/14 + 0.1)/37), both frozen by a trace. It is replaced by the same computation written
    with tensors: PyTorch's bicubic weights for that scale as two small matrices, and the
    identity case as a torch.where, so the graph equals upstream at every size.
  * DPTHead.forward ends with F.interpolate(out, (int(patch_h*14), int(patch_w*14))); the int()
    freezes the size. The `F` that dpt.py sees is swapped for a proxy that, during export only,
    replaces exactly that size with the traced input size (which it equals).
xFormers attention (if installed) cannot be exported and is switched off for the export.

Segmentation outputs / labels are out of scope here: this writes a depth-only bundle.
--features [vit|dpt] adds a second output, `features`, for `depthseg fit-head` (model.yaml
outputs.features: {name: features, stride: S}), taken with a forward hook on the upstream model
(its forward is called unchanged, so the depth output is the one exported without it):
  vit (bare --features)  the last ViT block's patch tokens, layer-normed as the DPT head reads
                         them, as [1, C, H/14, W/14]: stride 14, C = 384 (vits) .. 1536 (vitg).
                         The encoder's semantic features (Depth Anything's segmentation transfer
                         fine-tunes this encoder), and free: no extra compute, a small map.
  dpt                    the DPT decoder's last map: the input of the depth head's final convs
                         (output_conv2), i.e. output_conv1(path_1) resized to the input size:
                         stride 1, features/2 channels (32 vits, 128 vitl). All four levels fused,
                         pixel-aligned, but depth-specialised and large. (path_1 itself sits at
                         8x the patch grid, stride 14/8 = 1.75, which an integer stride cannot declare.)
--self-test exports a small stand-in network with the same interface instead of a checkpoint
(see standins.py) and needs neither the repo nor weights. --random-weights exports the full
ViT-S/14 + DPT architecture (standins.py's DepthAnythingV2SmallArchitecture) with random weights,
for `npm run bench`: the real model's compute and sizes, meaningless depth.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import types
from typing import Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep __pycache__ out of the depthseg checkout

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import bundle_yaml  # noqa: E402
from onnx_export import (FEATURES_OUTPUT, FeatureTap, add_features_argument, add_fp16_argument, describe_graph,  # noqa: E402
                         export_onnx, load_state_dict, log, lower_bound_size, write_reference)

PATCH = 14
# Upstream README / run.py: encoder -> DPT head width and per-level channels.
MODEL_CONFIGS = {
    "vits": {"features": 64, "out_channels": [48, 96, 192, 384]},
    "vitb": {"features": 128, "out_channels": [96, 192, 384, 768]},
    "vitl": {"features": 256, "out_channels": [256, 512, 1024, 1024]},
    "vitg": {"features": 384, "out_channels": [1536, 1536, 1536, 1536]},
}
FEATURE_CHOICES = {
    "vit": "the last ViT block's patch tokens as [1, C, H/14, W/14] (stride 14)",
    "dpt": "the DPT decoder's fused map that the depth head's last convs read, at the input size (stride 1)",
}
DEFAULT_FEATURES = "vit"
FEATURE_STRIDES = {"vit": PATCH, "dpt": 1}
SIZE_NAMES = {"vits": "small", "vitb": "base", "vitl": "large", "vitg": "giant", "standin": "standin"}


# --- building the upstream model --------------------------------------------------------------

def _disable_xformers() -> None:
    for name, module in list(sys.modules.items()):
        if name.startswith("depth_anything_v2") and getattr(module, "XFORMERS_AVAILABLE", False):
            module.XFORMERS_AVAILABLE = False
            log(f"xFormers disabled in {name} for export")


def build_upstream(repo: str, encoder: str, checkpoint: str, metric: bool, max_depth: float) -> nn.Module:
    # Relative models live in <repo>/depth_anything_v2, metric ones in <repo>/metric_depth/
    # depth_anything_v2 (same package name, a head ending in Sigmoid and a max_depth argument).
    root = os.path.join(repo, "metric_depth") if metric else repo
    if not os.path.isfile(os.path.join(root, "depth_anything_v2", "dpt.py")):
        raise SystemExit(f"{root}/depth_anything_v2/dpt.py not found: run inside a Depth-Anything-V2 clone or pass --repo")
    sys.path.insert(0, root)
    from depth_anything_v2.dpt import DepthAnythingV2  # noqa: PLC0415

    _disable_xformers()
    kwargs = dict(encoder=encoder, **MODEL_CONFIGS[encoder])
    if metric:
        kwargs["max_depth"] = max_depth
    model = DepthAnythingV2(**kwargs)
    model.load_state_dict(load_state_dict(checkpoint), strict=True)
    return model.eval()


# --- dynamic-shape patches --------------------------------------------------------------------

_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) bicubic coefficient


def _bicubic_matrix(n_out: torch.Tensor, n_in: int, scale: torch.Tensor) -> torch.Tensor:
    """[n_out, n_in] weights of PyTorch's upsample_bicubic2d along one axis when it is given a
    scale factor (align_corners=False): source = (dst + 0.5) / scale - 0.5, Keys cubic with
    A = -0.75 over the 4 neighbours, indices clamped to the border. Built from tensors only, so a
    trace keeps n_out (and the scale) symbolic."""
    # As PyTorch's CPU kernel: 1/scale in double, rounded once to float; the rest in float.
    inverse = (1.0 / scale.to(torch.float64)).to(torch.float32)
    dst = torch.arange(n_out, dtype=torch.float32)
    src = (dst + 0.5) * inverse - 0.5
    base = torch.floor(src)
    t = src - base
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    columns = torch.arange(n_in, dtype=torch.float32)
    matrix = torch.zeros_like(src).unsqueeze(1) * columns.unsqueeze(0)
    for k, w in enumerate(weights):
        index = torch.clamp(base + (k - 1), 0, n_in - 1)
        matrix = matrix + w.unsqueeze(1) * (index.unsqueeze(1) == columns.unsqueeze(0)).to(torch.float32)
    return matrix


def _resample_pos_embed(self, x: torch.Tensor, w, h) -> torch.Tensor:
    """interpolate_pos_encoding that stays symbolic in H and W when traced and computes what
    upstream's does at every size: the table unchanged for a square input whose patch grid is the
    table's, else F.interpolate(scale_factor=((H/14 + offset)/M, (W/14 + offset)/M), bicubic), here
    as two [n, M] weight matrices (see _bicubic_matrix). Arguments keep upstream's order: `w` is
    the image height, `h` the width."""
    table = self.pos_embed.float()
    # The table's size is a constant of the model (int() here freezes nothing that varies).
    n, dim = int(table.shape[1]) - 1, int(table.shape[2])
    side = math.isqrt(n)
    if side * side != n:
        raise RuntimeError(f"position table of {n} patches is not square")
    if not isinstance(w, torch.Tensor):
        w, h = torch.tensor(w), torch.tensor(h)
    rows, cols = w // self.patch_size, h // self.patch_size
    offset = float(getattr(self, "interpolate_offset", 0.0) or 0.0)
    if bool(getattr(self, "interpolate_antialias", False)):
        raise RuntimeError("antialiased position resampling is not supported by the dynamic export")
    grid = table[0, 1:].reshape(side, side, dim).permute(2, 0, 1)          # [dim, M, M]
    # Upstream returns the table itself for a square input on the table's own grid: scale 1 makes
    # both matrices exactly the identity (source = destination, weights 1 and 0).
    same = torch.logical_and(rows == side, cols == side).to(torch.float64)

    def scale(n: torch.Tensor) -> torch.Tensor:  # 1 where `same`, else upstream's (n + offset) / M
        value = (n.to(torch.float64) + offset) / side
        return value + same * (1.0 - value)

    wy = _bicubic_matrix(rows, side, scale(rows))
    wx = _bicubic_matrix(cols, side, scale(cols))
    patches = torch.matmul(wy, torch.matmul(grid, wx.t())).permute(1, 2, 0).reshape(1, -1, dim)
    return torch.cat([table[:, :1], patches], dim=1).to(x.dtype)


class _SizeProxy(types.ModuleType):
    """Stands in for torch.nn.functional inside dpt.py during export: every attribute is the real
    one, except that interpolate() given the example input's exact (H, W) as Python ints gets the
    traced (H, W) instead, so the graph keeps the output size symbolic."""

    def __init__(self, example_hw: Tuple[int, int]) -> None:
        super().__init__("depthseg_interpolate_proxy")
        self.example_hw = example_hw
        self.traced_hw = None
        self.replaced = 0

    def __getattr__(self, name):
        return getattr(F, name)

    def interpolate(self, input, size=None, *args, **kwargs):
        if (self.traced_hw is not None and isinstance(size, (tuple, list)) and len(size) == 2
                and all(isinstance(s, int) for s in size) and tuple(size) == self.example_hw):
            size = self.traced_hw
            self.replaced += 1
        return F.interpolate(input, size, *args, **kwargs)


def _vit_tokens(args) -> torch.Tensor:
    """DPTHead.forward's arguments (out_features, patch_h, patch_w) -> the last layer's patch
    tokens [B, N, C] as [B, C, patch_h, patch_w], reshaped as DPTHead reshapes them."""
    out_features, patch_h, patch_w = args[0], args[1], args[2]
    last = out_features[-1]
    tokens = last[0] if isinstance(last, (tuple, list)) else last  # (patch tokens, class token)
    return tokens.permute(0, 2, 1).reshape(tokens.shape[0], tokens.shape[-1], patch_h, patch_w)


def _final_convs(head: nn.Module) -> nn.Module:
    """The module that turns the DPT decoder's input-size map into depth: upstream
    DPTHead.scratch.output_conv2 (standins.py: .output_conv2 for the vits architecture, .out for
    the small stand-in)."""
    scratch = getattr(head, "scratch", None)
    for owner, attr in ((scratch, "output_conv2"), (head, "output_conv2"), (head, "out")):
        if owner is not None and isinstance(getattr(owner, attr, None), nn.Module):
            return getattr(owner, attr)
    raise SystemExit("unexpected model: its depth head has no scratch.output_conv2; export without --features dpt")


def feature_tap(net: nn.Module, choice: str) -> FeatureTap:
    if choice == "vit":
        return FeatureTap(net.depth_head, _vit_tokens, where="input")
    return FeatureTap(_final_convs(net.depth_head), lambda args: args[0], where="input")


class DepthAnythingExport(nn.Module):
    """image [1,3,H,W] -> [1,1,H,W] (upstream returns [B,H,W]); with a features tap, also the
    tapped map: (depth, features)."""

    def __init__(self, net: nn.Module, proxy: Optional[_SizeProxy] = None, tap: Optional[FeatureTap] = None) -> None:
        super().__init__()
        self.net = net
        self._proxy = proxy
        self._tap = tap

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self._proxy is not None:
            self._proxy.traced_hw = image.shape[-2:]
            self._proxy.replaced = 0
        try:
            out = self.net(image)
        finally:
            if self._proxy is not None:
                self._proxy.traced_hw = None
        depth = out.unsqueeze(1) if out.dim() == 3 else out
        return depth if self._tap is None else (depth, self._tap.take())


def make_wrapper(net: nn.Module, dynamic: bool, example_hw: Tuple[int, int],
                 tap: Optional[FeatureTap] = None) -> Tuple[nn.Module, Optional[_SizeProxy]]:
    if not dynamic:
        return DepthAnythingExport(net, tap=tap), None
    vit = net.pretrained
    for attr in ("pos_embed", "patch_size", "interpolate_pos_encoding"):
        if not hasattr(vit, attr):
            raise SystemExit(f"unexpected model: .pretrained has no {attr}; export without --dynamic")
    vit.interpolate_pos_encoding = types.MethodType(_resample_pos_embed, vit)
    head_module = sys.modules[type(net.depth_head).__module__]
    if getattr(head_module, "F", None) is not F:
        raise SystemExit(f"unexpected model: {head_module.__name__} does not use torch.nn.functional as F; export without --dynamic")
    proxy = _SizeProxy(example_hw)
    head_module.F = proxy
    return DepthAnythingExport(net, proxy, tap), proxy


def restore(net: nn.Module, proxy: Optional[_SizeProxy]) -> None:
    if proxy is None:
        return
    sys.modules[type(net.depth_head).__module__].F = F
    net.pretrained.__dict__.pop("interpolate_pos_encoding", None)


# --- main -------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--encoder", choices=sorted(MODEL_CONFIGS), default="vits")
    p.add_argument("--checkpoint", help="the .pth state dict (relative or metric to match --metric)")
    p.add_argument("--repo", default=os.getcwd(), help="Depth-Anything-V2 clone (default: current folder)")
    p.add_argument("--metric", action="store_true", help="metric_depth/ model: output metres")
    p.add_argument("--max-depth", type=float, default=None,
                   help="metric only: 20 for the Hypersim (indoor) checkpoints, 80 for Virtual KITTI (outdoor); "
                        "scales the sigmoid head and becomes model.yaml max_depth")
    p.add_argument("--height", type=int, default=518, help="input height (multiple of 14); a lower bound with --dynamic")
    p.add_argument("--width", type=int, default=518, help="input width (multiple of 14); a lower bound with --dynamic")
    p.add_argument("--dynamic", action="store_true", help="symbolic H/W; depthseg keeps the aspect ratio")
    p.add_argument("--camera", metavar="WxH", help="static graph at the keep-aspect size for this camera resolution")
    p.add_argument("--name", help="bundle name (default from encoder and kind)")
    p.add_argument("--out", required=True, help="bundle folder to write (model.onnx, model.yaml)")
    p.add_argument("--opset", type=int, default=17)
    add_fp16_argument(p)
    add_features_argument(p, FEATURE_CHOICES, DEFAULT_FEATURES)
    p.add_argument("--self-test", action="store_true", help="export a small stand-in network instead of a checkpoint")
    p.add_argument("--random-weights", action="store_true",
                   help="export the --encoder architecture (vits only) as defined in standins.py, with random weights: "
                        "the real model's compute for speed benchmarks, without the repo or a checkpoint")
    args = p.parse_args(argv)
    if args.random_weights and (args.self_test or args.checkpoint or args.metric):
        p.error("--random-weights excludes --self-test, --checkpoint and --metric")
    if args.random_weights and args.encoder != "vits":
        p.error("--random-weights has the vits architecture only")
    if args.dynamic and args.camera:
        p.error("--dynamic and --camera are exclusive")
    if args.height % PATCH or args.width % PATCH:
        p.error(f"--height and --width must be multiples of {PATCH}")
    if args.metric and args.max_depth is None:
        p.error("--metric needs --max-depth (20 indoor / Hypersim, 80 outdoor / Virtual KITTI)")
    if args.max_depth is not None and args.max_depth <= 0:
        p.error("--max-depth must be > 0")
    if not args.metric and args.max_depth is not None:
        p.error("--max-depth applies to --metric models only")
    if not args.self_test and not args.random_weights and not args.checkpoint:
        p.error("--checkpoint is required (or --self-test, --random-weights)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.camera:
        cam_w, cam_h = bundle_yaml.parse_size(args.camera)
        height, width = lower_bound_size(cam_w, cam_h, args.height, args.width, PATCH)
        log(f"camera {cam_w}x{cam_h} -> static input {height}x{width} (keep aspect, lower bound {args.height}x{args.width})")
    else:
        height, width = args.height, args.width

    if args.self_test:
        from standins import StandInDepthAnythingV2  # noqa: PLC0415
        net = StandInDepthAnythingV2(metric=args.metric, max_depth=args.max_depth or 20.0).eval()
        encoder = "standin"
    elif args.random_weights:
        from standins import DepthAnythingV2SmallArchitecture  # noqa: PLC0415
        net = DepthAnythingV2SmallArchitecture().eval()
        encoder = "vits"
    else:
        net = build_upstream(os.path.abspath(args.repo), args.encoder, args.checkpoint, args.metric, args.max_depth)
        encoder = args.encoder

    output = "depth" if args.metric else "disparity"
    tap = feature_tap(net, args.features) if args.features else None
    outputs = [output] + ([FEATURES_OUTPUT] if tap else [])
    wrapper, proxy = make_wrapper(net, args.dynamic, (height, width), tap)
    example = torch.rand(1, 3, height, width)
    onnx_path = os.path.join(args.out, "model.onnx")
    try:
        export_onnx(wrapper, example, onnx_path, "image", outputs, args.dynamic, args.opset, fp16=args.fp16)
        if proxy is not None and proxy.replaced != 1:
            raise SystemExit(f"dynamic export: expected to free 1 interpolate size per forward, freed {proxy.replaced}; "
                             "the model differs from upstream DepthAnythingV2, export without --dynamic")
        describe_graph(onnx_path, "image", outputs)
        if args.self_test:
            # Reference outputs for the TypeScript test: the trace size and, when dynamic, a
            # different, non-square one that the graph must handle exactly like torch.
            ref_dir = os.path.join(args.out, "selftest")
            sizes = [(height, width)] + ([(height - PATCH, width + 2 * PATCH)] if args.dynamic else [])
            with torch.no_grad():
                for h, w in sizes:
                    x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(h * 1000 + w))
                    result = wrapper(x)
                    write_reference(ref_dir, f"{h}x{w}", x, dict(zip(outputs, result if tap else (result,))))
    finally:
        restore(net, proxy)
        if tap is not None:
            tap.remove()

    kind = "metric" if args.metric else "relative_disparity"
    name = args.name or ("depth-anything-v2-" + SIZE_NAMES.get(encoder, encoder)
                         + (f"-metric-{int(args.max_depth)}m" if args.metric else "-relative")
                         + ("-selftest" if args.self_test else "")
                         + ("-random-weights" if args.random_weights else ""))
    doc = bundle_yaml.ModelYaml(
        name=name,
        file="model.onnx",
        input=bundle_yaml.InputSpec(
            name="image", height=height, width=width, multiple_of=PATCH,
            resize="keep_aspect_lower_bound" if args.dynamic else "stretch",
            # Upstream infer_image: cv2.INTER_CUBIC on the float image RGB/255, then ImageNet mean/std.
            interpolation="cubic", resize_on="float",
            mean=bundle_yaml.IMAGENET_MEAN, std=bundle_yaml.IMAGENET_STD, color="rgb"),
        # infer_image upsamples the output to the image with bilinear, align_corners=True.
        depth=bundle_yaml.DepthOutput(name=output, kind=kind, max_depth=args.max_depth if args.metric else None,
                                      upsample="align_corners"),
        features=bundle_yaml.FeaturesOutput(FEATURES_OUTPUT, FEATURE_STRIDES[args.features]) if args.features else None,
        comments=[
            "Exported by tools/export/export_depth_anything_v2.py"
            + (" --self-test (stand-in network, random weights: the depth means nothing)" if args.self_test else "")
            + (" --random-weights (the vits architecture, random weights: the depth means nothing)" if args.random_weights else ""),
            f"encoder {encoder}, {'metric, max ' + str(args.max_depth) + ' m' if args.metric else 'relative disparity'}, "
            f"{'dynamic H/W' if args.dynamic else f'static {height}x{width}'}, opset {args.opset}"
            + (", float16 (--fp16: attention and layer norms float32, float32 input/outputs)" if args.fp16 else ""),
        ] + ([f"--features {args.features}: {FEATURE_CHOICES[args.features]}, for depthseg fit-head"] if args.features else [])
          + ([] if args.metric else [
            "relative_disparity is affine-invariant inverse depth, NOT metres: depthseg maps it with the",
            "depth.scale / depth.shift parameters (z = 1 / (scale*d + shift)) and reports depth_is_metric: false.",
        ]),
    )
    path = bundle_yaml.write(doc, args.out)
    log(f"wrote {path}")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
