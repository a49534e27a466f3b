#!/usr/bin/env python3
"""Export a ZoeDepth checkpoint (isl-org/ZoeDepth) to a depthseg model bundle.

Run it inside a clone of https://github.com/isl-org/ZoeDepth (or pass --repo), with a
checkpoint from the project's releases (ZoeD_M12_N.pt, ZoeD_M12_K.pt, ZoeD_M12_NK.pt):

  python /path/to/depthseg/tools/export/export_zoedepth.py --model ZoeD_N \\
      --checkpoint checkpoints/ZoeD_M12_N.pt --camera 640x480 --out models/zoed-n

Requirements of the upstream code, not of this script: timm 0.6.x (newer timm breaks MiDaS'
BEiT backbone: "'Block' object has no attribute 'drop_path'"), and the MiDaS torch-hub code in
the hub cache -- building any ZoeDepth model calls torch.hub.load("intel-isl/MiDaS", ...), which
downloads that repo once (not its weights: the infer config sets use_pretrained_midas=False).
Run it once with network access, or copy ~/.cache/torch/hub/intel-isl_MiDaS_master.

The graph: input `image` [1,3,H,W] float32, RGB scaled to 0..1 and NOT normalised -- ZoeDepth
normalises (mean 0.5, std 0.5) inside its MidasCore, and resizes inside it too; output `depth`
[1,1,H,W] float32 in metres (ZoeD_NK: see below). model.yaml therefore says mean [0,0,0], std [1,1,1].

H x W is fixed (ZoeDepth computes its internal resize in Python/numpy, so a traced graph keeps
the example's sizes). Default 384x512 for ZoeD_N/NK and 384x768 for ZoeD_K (the configs'
img_size); --camera WxH picks the size ZoeDepth's own resize (keep aspect, "minimal" scaling,
multiples of 32) would give that camera, e.g. 1280x720 -> 384x672. depthseg stretches frames
to exactly H x W (model.yaml: resize stretch, bilinear).

Inside the graph, like upstream `model.infer()` (which `infer_pil` calls):
  * reflect padding (on by default, --no-pad to skip): the input is padded by
    int(sqrt(H/2)*3) rows and int(sqrt(W/2)*3) columns each side, inferred, resized back
    (bicubic) and cropped -- upstream's fix for the NYU border artefacts;
  * flip augmentation (off by default, --flip-aug): upstream averages with the prediction of the
    mirrored image by default; it doubles the cost, so it is opt-in here. For NK each head and the
    domain logits are averaged over the two passes, so depthseg makes one choice for the pair
    (upstream routes the two passes separately; they differ only where the passes disagree).
  Upstream pads the full-resolution image; here padding happens at the graph's H x W, so the
  result differs slightly from upstream's for the same camera frame.

--features [dpt] adds an output `features` for `depthseg fit-head` (model.yaml outputs.features:
{name: features, stride: 1}): the 32-channel map the MiDaS decoder ends with, the one ZoeDepth's
own metric head reads as "out_conv" (the ReLU after output_conv's third layer), taken with a
forward hook. It lives at the backbone's input size, so it goes through what depth goes through:
resized to the padded size (bilinear) and cropped, flip-averaged with --flip-aug; [1, 32, H, W].

ZoeD_NK: upstream picks the NYU (indoor, <= 10 m) or KITTI (outdoor, <= 80 m) head with
`torch.argmax(domain_vote).item()`, a Python branch: a plain torch.onnx.export would freeze the
head chosen for the example input. This script instead runs the backbone once and both heads on
its features, and leaves the choice to depthseg: the graph outputs `depth_indoor` (NYU head),
`depth_outdoor` (KITTI head), both [1,1,H,W] metres, and `domain_logits` [1,2] in upstream's order
[nyu, kitti]. model.yaml has no outputs.depth but a routed form:
  outputs.domain: {name: domain_logits, classes: [indoor, outdoor]}
  heads: indoor {depth_indoor, metric, max_depth 10}, outdoor {depth_outdoor, metric, max_depth 80}
and depthseg publishes, per frame, the head of the larger logit (indoor on a tie, as argmax),
with depth beyond that head's max_depth as NaN (each head's bin range upstream, its bin_conf).
depthseg's depth.head parameter (auto | indoor | outdoor) can pin one head. --max-depth is refused
for NK (one number for two heads); depthseg's range.max caps the published depth instead.

ZoeD_K: torch-hub / get_config("zoedepth", "infer", config_version="kitti") leave max_depth at
the NYU default of 10 m, which clamps the KITTI model's normed bins (isl-org/ZoeDepth#139); the
K model is built with max_depth 80 here, as upstream's KITTI evaluation config does.

--self-test exports a small stand-in with the same interface (see standins.py) instead.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from typing import Dict, Iterator, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep __pycache__ out of the depthseg checkout

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import bundle_yaml  # noqa: E402
from onnx_export import (FEATURES_OUTPUT, FeatureTap, add_features_argument, add_fp16_argument, describe_graph,  # noqa: E402
                         export_onnx, log, minimal_size, write_reference)

MULTIPLE = 32
VARIANTS = {
    # name: (get_config model name, extra get_config kwargs, default [H, W], max_depth for model.yaml;
    # None for NK, whose heads have their own, ROUTED_HEADS)
    "ZoeD_N": ("zoedepth", {}, (384, 512), 10.0),
    "ZoeD_K": ("zoedepth", {"config_version": "kitti", "max_depth": 80, "min_depth": 1e-3}, (384, 768), 80.0),
    "ZoeD_NK": ("zoedepth_nk", {}, (384, 512), None),
}
# ZoeD_NK's heads in upstream's router order (its argmax index 0 = nyu, 1 = kitti):
# (depthseg domain class, graph output, max_depth = the head's bin_conf max_depth upstream).
ROUTED_HEADS = (("indoor", "depth_indoor", 10.0), ("outdoor", "depth_outdoor", 80.0))
DOMAIN_OUTPUT = "domain_logits"


def build_upstream(repo: str, variant: str, checkpoint: Optional[str],
                   img_size: Optional[Tuple[int, int]] = None) -> nn.Module:
    if not os.path.isfile(os.path.join(repo, "zoedepth", "models", "builder.py")):
        raise SystemExit(f"{repo}/zoedepth/models/builder.py not found: run inside a ZoeDepth clone or pass --repo")
    sys.path.insert(0, repo)
    from zoedepth.models.builder import build_model  # noqa: PLC0415
    from zoedepth.utils.config import get_config  # noqa: PLC0415

    config_name, extra, _, _ = VARIANTS[variant]
    kwargs = dict(extra)
    if img_size:
        kwargs["img_size"] = list(img_size)
    if checkpoint:
        kwargs["pretrained_resource"] = "local::" + os.path.abspath(checkpoint)
    else:
        log("no --checkpoint: using the config's pretrained_resource (downloads from GitHub)")
    conf = get_config(config_name, "infer", **kwargs)
    return build_model(conf).eval()


def configured_size(model: nn.Module) -> Optional[Tuple[int, int]]:
    """The [H, W] the model was configured with (MidasCore's resizer keeps it name-mangled)."""
    resizer = getattr(getattr(getattr(model, "core", None), "prep", None), "resizer", None)
    h, w = getattr(resizer, "_Resize__height", None), getattr(resizer, "_Resize__width", None)
    if isinstance(h, int) and isinstance(w, int):
        return h, w
    size = getattr(getattr(model, "core", None), "img_size", None)
    return tuple(size) if size else None


# --- tracing upstream's code -------------------------------------------------------------------

def _unflatten_has_symbolic() -> bool:
    """Whether this torch's ONNX exporter knows aten::unflatten (torch >= 2.0; 1.13 does not)."""
    try:
        import torch.onnx.symbolic_opset13 as opset13  # noqa: PLC0415
    except ImportError:
        return False
    return hasattr(opset13, "unflatten")


def _reshape_unflatten(self: nn.Unflatten, x: torch.Tensor) -> torch.Tensor:
    # nn.Unflatten is a view of the same memory; reshape to that view traces as ONNX Reshape.
    dim = self.dim % x.dim()
    shape = list(x.shape)
    return x.reshape(shape[:dim] + list(self.unflattened_size) + shape[dim + 1:])


@contextlib.contextmanager
def traceable(model: nn.Module) -> Iterator[None]:
    """What the static-size export needs to trace upstream ZoeDepth + MiDaS BEiT (found with
    torch 1.13; tests/upstreamParity.test.ts proves the graph equals upstream's forward):

    * Under the tracer, `x.shape` holds 0-dim tensors. MiDaS' `forward_adapted_unflatten` builds
      `nn.Unflatten(2, torch.Size([h // 16, w // 16]))` from them, which nn.Unflatten refuses
      ("unflattened_size must be tuple of ints"), and ZoeDepth's `Resize.get_size` runs numpy on
      them (`'Tensor' object has no attribute 'astype'`). The graph is static, so the sizes are
      constants: both get plain ints.
    * torch 1.13 cannot export aten::unflatten (no symbolic before torch 2.0): nn.Unflatten's
      forward becomes the equal reshape while exporting, on such torch versions only.
    """
    unflatten_init = nn.Unflatten.__init__
    unflatten_forward = nn.Unflatten.forward

    def init(self, dim, unflattened_size):
        if isinstance(unflattened_size, (list, tuple)) and not isinstance(unflattened_size[0], tuple):
            unflattened_size = torch.Size([int(v) for v in unflattened_size])
        unflatten_init(self, dim, unflattened_size)

    resizers = {id(m.prep.resizer): m.prep.resizer for m in model.modules()
                if hasattr(getattr(m, "prep", None), "resizer") and hasattr(m.prep.resizer, "get_size")}
    patched = []
    for resizer in resizers.values():
        get_size = resizer.get_size
        resizer.get_size = lambda width, height, _f=get_size: tuple(int(v) for v in _f(int(width), int(height)))
        patched.append(resizer)
    nn.Unflatten.__init__ = init
    if not _unflatten_has_symbolic():
        nn.Unflatten.forward = _reshape_unflatten
    try:
        yield
    finally:
        nn.Unflatten.__init__ = unflatten_init
        nn.Unflatten.forward = unflatten_forward
        for resizer in patched:
            del resizer.get_size


# --- wrappers ---------------------------------------------------------------------------------

class _CoreOnce(nn.Module):
    """Wraps model.core so two forwards on the same tensor run the backbone once."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self._memo: Dict[str, object] = {}

    def forward(self, x, *args, **kwargs):
        if self._memo.get("key") is x:
            return self._memo["value"]
        value = self.inner(x, *args, **kwargs)
        self._memo.update(key=x, value=value)
        return value

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("inner"), name)


class _ForcedRouter(nn.Module):
    """Wraps model.mlp_classifier: records the real domain logits, and returns logits that make
    upstream's argmax(...).item() pick head `force` (0 = nyu, 1 = kitti)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.force: Optional[int] = None
        self.real: Optional[torch.Tensor] = None

    def forward(self, embedding):
        real = self.inner(embedding)
        self.real = real
        if self.force is None:
            return real
        forced = torch.zeros_like(real)
        forced[:, self.force] = 1.0
        return forced


class ZoeExport(nn.Module):
    """image [1,3,H,W] (RGB 0..1) -> depth [1,1,H,W] metres; for NK (routed) instead
    depth_indoor, depth_outdoor [1,1,H,W] metres and domain_logits [1,2], in that order."""

    def __init__(self, model: nn.Module, size: Tuple[int, int], pad: bool, flip: bool, routed: bool,
                 tap: Optional[FeatureTap] = None) -> None:
        super().__init__()
        self.model = model
        self._tap = tap
        self.size = size
        self.pad = pad
        self.flip = flip
        self.routed = routed
        if routed:
            for attr in ("core", "mlp_classifier"):
                if not hasattr(model, attr):
                    raise SystemExit(f"ZoeD_NK model has no .{attr}; cannot export its heads separately")
            model.core = _CoreOnce(model.core)
            model.mlp_classifier = _ForcedRouter(model.mlp_classifier)

    def _metric(self, x: torch.Tensor) -> Tuple[List[torch.Tensor], Optional[torch.Tensor]]:
        """The depth heads' outputs ([depth], or NK's [nyu, kitti]) and NK's domain logits."""
        if not self.routed:
            return [self.model(x)["metric_depth"]], None
        # Both heads, each forced through upstream's own forward; _CoreOnce runs the backbone once.
        # The choice between them is depthseg's, per frame, from the logits returned beside them.
        router = self.model.mlp_classifier
        heads: List[torch.Tensor] = []
        try:
            for index in range(len(ROUTED_HEADS)):   # upstream order: ["nyu", "kitti"]
                router.force = index
                heads.append(self.model(x)["metric_depth"])
        finally:
            router.force = None
        return heads, router.real

    def _padded(self, x: torch.Tensor) -> Tuple[List[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor]]:
        h, w = self.size
        ph = int(math.sqrt(h / 2) * 3) if self.pad else 0
        pw = int(math.sqrt(w / 2) * 3) if self.pad else 0
        if ph or pw:
            x = F.pad(x, [pw, pw, ph, ph], mode="reflect")
        depths, logits = self._metric(x)
        cropped = []
        for out in depths:
            if tuple(out.shape[-2:]) != (h + 2 * ph, w + 2 * pw):
                out = F.interpolate(out, size=(h + 2 * ph, w + 2 * pw), mode="bicubic", align_corners=False)
            cropped.append(out[:, :, ph:ph + h, pw:pw + w])
        features = None
        if self._tap is not None:
            # The backbone ran once per pass (NK: _CoreOnce), so the tap holds this pass's map.
            features = self._tap.take()
            if tuple(features.shape[-2:]) != (h + 2 * ph, w + 2 * pw):
                features = F.interpolate(features, size=(h + 2 * ph, w + 2 * pw), mode="bilinear", align_corners=False)
            features = features[:, :, ph:ph + h, pw:pw + w]
        return cropped, logits, features

    def forward(self, image: torch.Tensor):
        depths, logits, features = self._padded(image)
        if self.flip:
            # Each head averaged with its own mirrored prediction; the logits too, so depthseg
            # makes one choice for the pair (upstream's infer() routes the two passes separately).
            mirrored, logits_m, features_m = self._padded(torch.flip(image, dims=[3]))
            depths = [(d + torch.flip(m, dims=[3])) / 2 for d, m in zip(depths, mirrored)]
            if logits is not None:
                logits = (logits + logits_m) / 2
            if features is not None:
                features = (features + torch.flip(features_m, dims=[3])) / 2
        extra = () if features is None else (features,)
        if self.routed:
            return (*depths, logits, *extra)
        return (depths[0], *extra) if extra else depths[0]


FEATURE_CHOICES = {"dpt": "the MiDaS decoder's last 32-channel map (ZoeDepth's out_conv), at the input size (stride 1)"}
DEFAULT_FEATURES = "dpt"


def feature_tap(model: nn.Module) -> FeatureTap:
    """A tap on the map ZoeDepth's MidasCore hooks as "out_conv": the ReLU after the third layer of
    midas.scratch.output_conv (standins.py: the stand-in core's encoder)."""
    core = model.core
    core = getattr(core, "inner", core)                  # _CoreOnce (NK)
    midas = getattr(core, "core", None)
    output_conv = getattr(getattr(midas, "scratch", None), "output_conv", None)
    if isinstance(output_conv, nn.Module):
        layers = list(output_conv.children())
        if len(layers) > 3:
            return FeatureTap(layers[3], lambda out: out, where="output")
    if isinstance(getattr(core, "enc", None), nn.Module):
        return FeatureTap(core.enc, lambda out: out, where="output")
    raise SystemExit("unexpected model: no core.core.scratch.output_conv; export without --features")


# --- main -------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(VARIANTS), default="ZoeD_N")
    p.add_argument("--checkpoint", help="ZoeD_M12_{N,K,NK}.pt (default: the config's download URL)")
    p.add_argument("--repo", default=os.getcwd(), help="ZoeDepth clone (default: current folder)")
    p.add_argument("--height", type=int, help="graph input height, multiple of 32 (default: the model's img_size)")
    p.add_argument("--width", type=int, help="graph input width, multiple of 32 (default: the model's img_size)")
    p.add_argument("--camera", metavar="WxH", help="use the size ZoeDepth's resize gives this camera resolution")
    p.add_argument("--img-size", metavar="HxW",
                   help="the model's internal resize target (default: the config's img_size, 384x512 / 384x768); "
                        "multiples of 32. For checking the export at small sizes; checkpoints were trained at the default")
    p.add_argument("--no-pad", dest="pad", action="store_false", help="skip upstream's reflect-padding step")
    p.add_argument("--flip-aug", action="store_true", help="average with the mirrored image (2x cost), as upstream infer()")
    p.add_argument("--max-depth", type=float,
                   help="model.yaml max_depth (default: 10 for N, 80 for K); not for NK, whose heads keep 10 and 80")
    p.add_argument("--name", help="bundle name")
    p.add_argument("--out", required=True, help="bundle folder to write (model.onnx, model.yaml)")
    p.add_argument("--opset", type=int, default=17)
    add_fp16_argument(p)
    add_features_argument(p, FEATURE_CHOICES, DEFAULT_FEATURES)
    p.add_argument("--self-test", action="store_true", help="export a small stand-in network instead of a checkpoint")
    args = p.parse_args(argv)
    for side in ("height", "width"):
        v = getattr(args, side)
        if v is not None and (v <= 0 or v % MULTIPLE):
            p.error(f"--{side} must be a positive multiple of {MULTIPLE}")
    if args.img_size is not None:
        try:
            ih, iw = (int(v) for v in args.img_size.lower().split("x"))
        except ValueError:
            p.error(f"--img-size must be HxW, got {args.img_size!r}")
        if ih <= 0 or iw <= 0 or ih % MULTIPLE or iw % MULTIPLE:
            p.error(f"--img-size sides must be positive multiples of {MULTIPLE}, got {args.img_size}")
        args.img_size = (ih, iw)
        if args.self_test:
            p.error("--img-size applies to the upstream model, not --self-test")
    if args.max_depth is not None and args.max_depth <= 0:
        p.error("--max-depth must be > 0")
    if args.max_depth is not None and args.model == "ZoeD_NK":
        # One number cannot stand for two heads trained to different ranges; depthseg's range.max
        # parameter caps the published depth at run time instead.
        p.error("--max-depth applies to ZoeD_N and ZoeD_K only: ZoeD_NK's heads keep their trained "
                "ranges (indoor 10 m, outdoor 80 m); use depthseg's range.max parameter to cap depth")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    _, _, default_size, default_max = VARIANTS[args.model]
    routed = args.model == "ZoeD_NK"
    if args.self_test:
        from standins import StandInZoeDepth, StandInZoeDepthNK  # noqa: PLC0415
        default_size = (64, 96)
        model = StandInZoeDepthNK(default_size) if routed else StandInZoeDepth(default_size, max_depth=default_max)
        model.eval()
    else:
        model = build_upstream(os.path.abspath(args.repo), args.model, args.checkpoint, args.img_size)
    base = configured_size(model) or default_size

    if args.camera:
        cam_w, cam_h = bundle_yaml.parse_size(args.camera)
        height, width = minimal_size(cam_w, cam_h, base[0], base[1], MULTIPLE)
        log(f"camera {cam_w}x{cam_h} -> input {height}x{width} (ZoeDepth resize to {base[0]}x{base[1]}, keep aspect, minimal)")
    else:
        height, width = args.height or base[0], args.width or base[1]
    if height % MULTIPLE or width % MULTIPLE:
        raise SystemExit(f"input {height}x{width} is not a multiple of {MULTIPLE}")

    tap = feature_tap(model) if args.features else None
    wrapper = ZoeExport(model, (height, width), pad=args.pad, flip=args.flip_aug, routed=routed, tap=tap).eval()
    outputs = [head for _, head, _ in ROUTED_HEADS] + [DOMAIN_OUTPUT] if routed else ["depth"]
    if tap is not None:
        outputs.append(FEATURES_OUTPUT)
    onnx_path = os.path.join(args.out, "model.onnx")
    with traceable(wrapper):
        export_onnx(wrapper, torch.rand(1, 3, height, width), onnx_path, "image", outputs, dynamic_hw=False, opset=args.opset,
                    fp16=args.fp16)
    describe_graph(onnx_path, "image", outputs)
    if args.self_test:
        # Reference outputs for the TypeScript test. For NK: a dark and a bright image, which the
        # stand-in router sends to different heads; the logits must say so for depthseg to follow.
        # NK also saves (under selftest/upstream) the depth of upstream's own forward, its Python
        # argmax router left to choose: the head depthseg picks must give exactly that.
        upstream = ZoeExport(model, (height, width), pad=args.pad, flip=args.flip_aug, routed=False).eval() if routed else None
        with torch.no_grad():
            for tag, level in (("dark", 0.2), ("bright", 0.8)):
                g = torch.Generator().manual_seed(7)
                x = (level + 0.1 * (torch.rand(1, 3, height, width, generator=g) - 0.5)).clamp(0, 1)
                result = wrapper(x)
                named = dict(zip(outputs, result if isinstance(result, tuple) else (result,)))
                write_reference(os.path.join(args.out, "selftest"), tag, x, named)
                if upstream is not None:
                    write_reference(os.path.join(args.out, "selftest", "upstream"), tag, x, {"depth": upstream(x)})

    name = args.name or (args.model.lower().replace("_", "-") + ("-selftest" if args.self_test else ""))
    if routed:
        depth = None
        domain = bundle_yaml.DomainOutput(name=DOMAIN_OUTPUT, classes=tuple(c for c, _, _ in ROUTED_HEADS))
        heads = {c: bundle_yaml.DepthOutput(name=o, kind="metric", max_depth=m) for c, o, m in ROUTED_HEADS}
    else:
        depth = bundle_yaml.DepthOutput(name="depth", kind="metric", max_depth=args.max_depth or default_max)
        domain, heads = None, {}
    doc = bundle_yaml.ModelYaml(
        name=name,
        file="model.onnx",
        input=bundle_yaml.InputSpec(
            name="image", height=height, width=width, multiple_of=MULTIPLE, resize="stretch",
            # Upstream feeds RGB/255 and resizes bilinearly inside; normalisation is in the graph.
            interpolation="linear",
            mean=bundle_yaml.IDENTITY_MEAN, std=bundle_yaml.IDENTITY_STD, color="rgb"),
        depth=depth,
        domain=domain,
        heads=heads,
        features=bundle_yaml.FeaturesOutput(FEATURES_OUTPUT, 1) if tap is not None else None,
        comments=[
            "Exported by tools/export/export_zoedepth.py"
            + (" --self-test (stand-in network, random weights: the depth means nothing)" if args.self_test else ""),
            f"{args.model}, static {height}x{width}, pad {'on' if args.pad else 'off'}, "
            f"flip {'on' if args.flip_aug else 'off'}, opset {args.opset}"
            + (", float16 (--fp16: attention and layer norms float32, float32 input/outputs)" if args.fp16 else ""),
            "mean 0 / std 1: ZoeDepth normalises (0.5, 0.5) inside the graph.",
        ] + (["ZoeD_NK: depthseg routes each frame: argmax of domain_logits [nyu, kitti] picks the head, as upstream."]
             if routed else [])
          + ([f"--features {args.features}: {FEATURE_CHOICES[args.features]}, for depthseg fit-head"] if tap is not None else []),
    )
    path = bundle_yaml.write(doc, args.out)
    log(f"wrote {path}")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
