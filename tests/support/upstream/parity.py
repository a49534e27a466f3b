#!/usr/bin/env python3
"""Exporter parity against the real upstream model code, with random weights.

For one case: build the upstream class (Depth-Anything-V2, Depth-Anything-3, ZoeDepth) with
seeded random weights, save them as a checkpoint, run depthseg's exporter on it exactly as
docs/models.md tells a user (from the upstream clone, --checkpoint, ...), and save upstream's own
PyTorch forward on seeded inputs next to the bundle (raw float32 + index.json, the format of
tools/export/onnx_export.write_reference). tests/upstreamParity.test.ts then runs the bundle
through depthseg's InferenceWorker (onnxruntime-node) and compares.

  python3 parity.py --case da2-vits-relative-camera --upstream /work/upstream --out CACHE/da2...

Prints one JSON line: {"case", "bundle", "reference", "upstream_commit", "seconds", ...}.

Nothing here changes upstream's arithmetic. What it adds, only where a package is missing here
(Debian has no python3-einops / python3-addict, and torch 1.13 has no
scaled_dot_product_attention), is said in docs/models.md:
  * shims/einops, shims/addict: put on PYTHONPATH by the caller when the real package is
    missing (see shims/*/__init__.py);
  * F.scaled_dot_product_attention, when torch lacks it, is PyTorch's documented reference
    implementation, for upstream's reference forward only (the exporter never calls it);
  * shims/hub_offline (ZoeDepth): torch.hub resolves "intel-isl/MiDaS" from the cache offline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TOOLS = os.path.join(ROOT, "tools", "export")
sys.path.insert(0, TOOLS)
sys.dont_write_bytecode = True

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from onnx_export import write_reference  # noqa: E402

SDPA_NOTE = None
if not hasattr(F, "scaled_dot_product_attention"):
    def _reference_sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
        # torch.nn.functional.scaled_dot_product_attention's documented reference implementation.
        L, S = query.size(-2), key.size(-2)
        scale_factor = 1 / math.sqrt(query.size(-1)) if scale is None else scale
        attn_bias = torch.zeros(L, S, dtype=query.dtype)
        if is_causal:
            mask = torch.ones(L, S, dtype=torch.bool).tril(diagonal=0)
            attn_bias.masked_fill_(mask.logical_not(), float("-inf"))
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                attn_bias = attn_bias.masked_fill(attn_mask.logical_not(), float("-inf"))
            else:
                attn_bias = attn_bias + attn_mask
        attn_weight = query @ key.transpose(-2, -1) * scale_factor
        attn_weight = torch.softmax(attn_weight + attn_bias, dim=-1)
        attn_weight = torch.dropout(attn_weight, dropout_p, train=True)
        return attn_weight @ value

    F.scaled_dot_product_attention = _reference_sdpa
    SDPA_NOTE = f"torch {torch.__version__} has no scaled_dot_product_attention: upstream's reference forward used PyTorch's documented reference implementation"


def seeded_input(h: int, w: int, seed: int, normalised: bool = True) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if normalised:  # an ImageNet-normalised image is roughly N(0, 1)
        return torch.randn(1, 3, h, w, generator=g)
    return torch.rand(1, 3, h, w, generator=g)


def randomise_tokens(model: torch.nn.Module, seed: int) -> None:
    """Position tables, class and camera tokens start at zero in some upstream inits; give them
    random values so their resampling and placement are exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("pos_embed", "cls_token", "camera_token", "register_tokens", "mask_token"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)


def run_exporter(script: str, args, cwd: str, out: str) -> None:
    cmd = [sys.executable, "-B", os.path.join(TOOLS, script), *args, "--out", out]
    run = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"exporter failed ({run.returncode}): {' '.join(cmd)}\n{run.stderr[-4000:]}")


def commit_of(upstream: str, name: str) -> str:
    path = os.path.join(upstream, "COMMITS")
    if os.path.isfile(path):
        for line in open(path):
            parts = line.split()
            if len(parts) >= 2 and parts[0] == name:
                return parts[1]
    try:
        return subprocess.run(["git", "-C", os.path.join(upstream, name), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except Exception:  # noqa: BLE001
        return "unknown"


# --- Depth Anything V2 ------------------------------------------------------------------------

DA2_CAMERA = ["--camera", "98x70", "--height", "70", "--width", "70"]
DA2_CASES = {
    # case: (encoder, metric, exporter size args, reference sizes (H, W))
    "da2-vits-relative-camera": ("vits", False, DA2_CAMERA, [(70, 98)]),
    "da2-vits-metric-camera": ("vits", True, DA2_CAMERA, [(70, 98)]),
    # Dynamic H/W: the trace size and two others, none square at 518 (where upstream skips the resample).
    "da2-vits-relative-dynamic": ("vits", False, ["--dynamic", "--height", "70", "--width", "70"], [(70, 70), (56, 98), (84, 70)]),
    # Base and Large at full width (the released models' architecture), same small input.
    "da2-vitb-relative-camera": ("vitb", False, DA2_CAMERA, [(70, 98)]),
    "da2-vitb-metric-camera": ("vitb", True, DA2_CAMERA, [(70, 98)]),
    "da2-vitl-relative-camera": ("vitl", False, DA2_CAMERA, [(70, 98)]),
    "da2-vitl-metric-camera": ("vitl", True, DA2_CAMERA, [(70, 98)]),
    # --features: the camera case's model (same seeds, so the same checkpoint) with a feature output.
    "da2-vits-relative-features-vit": ("vits", False, [*DA2_CAMERA, "--features", "vit"], [(70, 98)]),
    "da2-vits-relative-features-dpt": ("vits", False, [*DA2_CAMERA, "--features", "dpt"], [(70, 98)]),
}


# Upstream's model_configs (run.py / metric_depth/run.py): DPT widths per encoder.
DA2_WIDTHS = {
    "vits": {"features": 64, "out_channels": [48, 96, 192, 384]},
    "vitb": {"features": 128, "out_channels": [96, 192, 384, 768]},
    "vitl": {"features": 256, "out_channels": [256, 512, 1024, 1024]},
}


def da2_features(model: torch.nn.Module, x: torch.Tensor, choice: str) -> torch.Tensor:
    """The tensor `--features <choice>` must expose, read off upstream's own modules: the last
    intermediate layer's patch tokens from DINOv2.get_intermediate_layers (vit), or what
    DPTHead.scratch.output_conv2 receives (dpt)."""
    if choice == "vit":
        tokens = model.pretrained.get_intermediate_layers(x, model.intermediate_layer_idx[model.encoder], return_class_token=True)[-1][0]
        return tokens.permute(0, 2, 1).reshape(1, tokens.shape[-1], x.shape[-2] // 14, x.shape[-1] // 14)
    seen = []
    handle = model.depth_head.scratch.output_conv2.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    try:
        model(x)
    finally:
        handle.remove()
    return seen[0]


def camera_image(width: int, height: int, seed: int):
    """A deterministic rgb8 camera frame (numpy HxWx3): smooth shapes plus noise."""
    import numpy as np  # noqa: PLC0415
    rng = np.random.default_rng(seed)
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack([np.sin(u / 9.0 + c) * np.cos(v / 7.0 - c) for c in range(3)], axis=-1)
    image = 127.5 + 90 * base + rng.normal(0, 12, size=(height, width, 3))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def da2_infer_image(upstream: str, out: str, metric: bool = True) -> dict:
    """ViT-S exported --dynamic; upstream's infer_image on a 96x72 camera frame gives what
    depthseg must publish for the same frame (its resize, normalisation and upsampling): the
    metres (metric), or the disparity whose inverse depthseg publishes with depth.scale 1,
    shift 0 (relative)."""
    repo = os.path.join(upstream, "Depth-Anything-V2")
    sys.path.insert(0, os.path.join(repo, "metric_depth") if metric else repo)
    from depth_anything_v2.dpt import DepthAnythingV2  # noqa: PLC0415

    torch.manual_seed(0)
    kwargs = {"max_depth": 20.0} if metric else {}
    model = DepthAnythingV2(encoder="vits", features=64, out_channels=[48, 96, 192, 384], **kwargs).eval()
    randomise_tokens(model, 1)
    ckpt = os.path.join(out, "checkpoint.pth")
    torch.save(model.state_dict(), ckpt)
    args = ["--encoder", "vits", "--checkpoint", ckpt, "--dynamic", "--height", "70", "--width", "70"]
    args += ["--metric", "--max-depth", "20"] if metric else []
    run_exporter("export_depth_anything_v2.py", args, repo, os.path.join(out, "bundle"))
    rgb = camera_image(96, 72, 3)
    depth = model.infer_image(rgb[:, :, ::-1].copy(), input_size=70)   # upstream takes BGR (cv2.imread)
    ref = os.path.join(out, "reference")
    os.makedirs(ref, exist_ok=True)
    rgb.tofile(os.path.join(ref, "camera.rgb8"))
    depth.astype("<f4").tofile(os.path.join(ref, "camera.depth.f32"))
    with open(os.path.join(ref, "camera.json"), "w") as f:
        json.dump({"width": 96, "height": 72, "image": "camera.rgb8", "depth": "camera.depth.f32"}, f)
    return {"upstream_commit": commit_of(upstream, "Depth-Anything-V2"), "outputs": ["depth" if metric else "disparity"],
            "exporter_args": args, "depth_range": [float(depth.min()), float(depth.max())]}


def _calibrate_relative(model, x: torch.Tensor, positive: float = 0.9) -> None:
    """Relative DA-V2 ends in ReLU: with random weights at ViT-B / ViT-L width every pixel's
    disparity is 0 (ONNX = upstream trivially). Shifts the bias of the last conv before that ReLU
    so about `positive` of the example's pixels are above zero."""
    conv = model.depth_head.scratch.output_conv2[2]
    seen = {}
    # clone: the ReLU after it works in place.
    handle = conv.register_forward_hook(lambda m, i, o: seen.update(pre=o.detach().clone()))
    with torch.no_grad():
        model(x)
        handle.remove()
        conv.bias -= torch.quantile(seen["pre"].flatten(), 1 - positive)


def da2(case: str, upstream: str, out: str) -> dict:
    encoder, metric, size_args, sizes = DA2_CASES[case]
    repo = os.path.join(upstream, "Depth-Anything-V2")
    sys.path.insert(0, os.path.join(repo, "metric_depth") if metric else repo)
    from depth_anything_v2.dpt import DepthAnythingV2  # noqa: PLC0415

    torch.manual_seed(0)
    kwargs = dict(encoder=encoder, **DA2_WIDTHS[encoder])
    if metric:
        kwargs["max_depth"] = 20.0
    model = DepthAnythingV2(**kwargs).eval()
    randomise_tokens(model, 1)
    if not metric:
        _calibrate_relative(model, seeded_input(*sizes[0], sizes[0][0] * 1000 + sizes[0][1]))
    ckpt = os.path.join(out, "checkpoint.pth")
    torch.save(model.state_dict(), ckpt)
    args = ["--encoder", encoder, "--checkpoint", ckpt, *size_args] + (["--metric", "--max-depth", "20"] if metric else [])
    run_exporter("export_depth_anything_v2.py", args, repo, os.path.join(out, "bundle"))
    name = "depth" if metric else "disparity"
    choice = size_args[size_args.index("--features") + 1] if "--features" in size_args else None
    outputs = [name] + (["features"] if choice else [])
    with torch.no_grad():
        for h, w in sizes:
            x = seeded_input(h, w, h * 1000 + w)
            tensors = {name: model(x).unsqueeze(1)}
            if choice:
                tensors["features"] = da2_features(model, x, choice)
            write_reference(os.path.join(out, "reference"), f"{h}x{w}", x, tensors)
    return {"upstream_commit": commit_of(upstream, "Depth-Anything-V2"), "outputs": outputs,
            "exporter_args": args, "encoder": encoder}


# --- Depth Anything 3 -------------------------------------------------------------------------

def _vits_variant(config: dict, mono_like: bool) -> dict:
    """A Large config at ViT-S width: the same classes and code paths (DPT head with sky, no
    camera token / RoPE / cat_token), small enough to run here."""
    config = json.loads(json.dumps(config))
    config["net"]["name"] = "vits"
    config["net"]["out_layers"] = [2, 5, 8, 11]
    config["head"].update(dim_in=384, features=64, out_channels=[48, 96, 192, 384])
    return config


DA3_CASES = {
    # case: (upstream config, variant, reduced to ViT-S?, size (H, W))
    "da3-small": ("da3-small", "any-view", False, (56, 84)),
    "da3-base": ("da3-base", "any-view", False, (56, 84)),
    "da3mono-large@vits": ("da3mono-large", "mono", True, (56, 84)),
    "da3metric-large@vits": ("da3metric-large", "metric", True, (56, 84)),
    "da3mono-large": ("da3mono-large", "mono", False, (56, 84)),
    "da3metric-large": ("da3metric-large", "metric", False, (56, 84)),
    # da3-small's model (same seed, so the same checkpoint) exported with --features.
    "da3-small+features": ("da3-small", "any-view", False, (56, 84)),
}


def _calibrate_sky(net, x: torch.Tensor, threshold: float = 0.3) -> None:
    """Shifts the sky head's last bias so about a third of the example's pixels are sky: random
    weights otherwise give all or none, and upstream's sky handling needs both kinds."""
    conv = net.head.scratch.sky_output_conv2[-1]
    seen = {}
    handle = conv.register_forward_hook(lambda m, i, o: seen.update(logits=o.detach()))
    with torch.no_grad():
        net(x.unsqueeze(1))
        handle.remove()
        q = torch.quantile(seen["logits"].flatten(), 2 / 3)
        conv.bias += threshold - q


def da3(case: str, upstream: str, out: str) -> dict:
    config_name, variant, reduce, (h, w) = DA3_CASES[case]
    repo = os.path.join(upstream, "Depth-Anything-3")
    sys.path.insert(0, os.path.join(repo, "src"))
    from omegaconf import OmegaConf  # noqa: PLC0415
    from depth_anything_3.cfg import create_object, load_config  # noqa: PLC0415

    config_path = os.path.join(repo, "src", "depth_anything_3", "configs", f"{config_name}.yaml")
    if reduce:
        reduced = _vits_variant(OmegaConf.to_container(OmegaConf.load(config_path)), True)
        config_path = os.path.join(out, f"{config_name}@vits.yaml")
        OmegaConf.save(OmegaConf.create(reduced), config_path)
    base_case, _, extra = case.partition("+")
    features = extra == "features"
    torch.manual_seed(zlib.crc32(base_case.encode()))  # mono and metric share an architecture: differ in weights
    net = create_object(load_config(config_path)).eval()
    randomise_tokens(net, 1)
    x = seeded_input(h, w, h * 1000 + w)
    if variant != "any-view":
        _calibrate_sky(net, x)
    ckpt = os.path.join(out, "checkpoint.pth")
    torch.save(net.state_dict(), ckpt)
    args = (["--model", config_name] if not reduce else ["--config", config_path, "--variant", variant])
    args += ["--checkpoint", ckpt, "--height", str(h), "--width", str(w)]
    if variant == "metric":
        args += ["--max-depth", "80"]
    if features:
        args += ["--features", "vit"]
    run_exporter("export_depth_anything_3.py", args, repo, os.path.join(out, "bundle"))

    # Upstream's forward as its API calls it on one view, fused attention (upstream's default).
    attention = [m for m in net.modules() if hasattr(m, "fused_attn")]
    assert attention and all(m.fused_attn for m in attention), "expected upstream's fused attention by default"
    seen = []
    # What the head's last `projects` conv reads: the normed last-stage patch tokens, [1, C, h/14, w/14].
    handle = net.head.projects[-1].register_forward_pre_hook(lambda _m, a: seen.append(a[0])) if features else None
    with torch.no_grad():
        result = net(x.unsqueeze(1))
    if handle is not None:
        handle.remove()
    outputs = {"depth": result["depth"]}
    if "depth_conf" in result:
        outputs["confidence"] = result["depth_conf"]
    if "sky" in result:
        outputs["sky"] = result["sky"]
    if features:
        assert len(seen) == 1, f"the head's last projects conv ran {len(seen)} times"
        outputs["features"] = seen[0]
    write_reference(os.path.join(out, "reference"), f"{h}x{w}", x, outputs)
    info = {"upstream_commit": commit_of(upstream, "Depth-Anything-3"), "outputs": list(outputs), "exporter_args": args,
            "variant": variant, "reduced_to_vits": reduce, "fused_attention_modules": len(attention)}
    if "sky" in result:
        sky = result["sky"]
        info["sky_fraction"] = float((sky >= 0.3).float().mean())
        # Upstream overwrote the sky pixels' depth with the 99th percentile of the others.
        info["upstream_sky_fill"] = float(result["depth"][sky >= 0.3].max()) if bool((sky >= 0.3).any()) else None
    if SDPA_NOTE:
        info["note"] = SDPA_NOTE
    return info


# --- ZoeDepth ---------------------------------------------------------------------------------

# case: (variant, img_size). BEiT-L (24 layers, 300M parameters) at the configs' 384x512 / 384x768
# is slow on a 2-core CPU; the same code at a small img_size of the configs' aspect ratio (N/NK
# 3:4, K 1:2) runs every layer (MiDaS resamples BEiT's relative position tables to the patch grid
# for any size, as it does at 384x512) and the exporter's --img-size builds the same model.
ZOE_CASES = {"zoed-n": ("ZoeD_N", (96, 128)), "zoed-k": ("ZoeD_K", (64, 128)), "zoed-nk": ("ZoeD_NK", (96, 128)),
             # zoed-n's model exported with --features.
             "zoed-n+features": ("ZoeD_N", (96, 128))}


HEAD_GAIN = 9.0


def spread_heads(model: torch.nn.Module, gain: float = HEAD_GAIN) -> None:
    """Scales every parameter outside the MiDaS backbone (`core`) by `gain`. With PyTorch's default
    init ZoeD_N's metres are 0.6800 +- 1e-4 over the whole image (softplus(~0) bin centres, flat
    bin probabilities): too flat for a compare to see a wrong crop, pad or resample. x9 spreads them
    over about 2.7..3.5 m. Upstream's code is unchanged; only the random weights differ."""
    with torch.no_grad():
        for name, child in model.named_children():
            if name != "core":
                for p in child.parameters():
                    p.mul_(gain)


ROUTE_MARGIN = 2.0


def route_apart(model: torch.nn.Module, images: dict) -> None:
    """ZoeD_NK: with random weights upstream's router sends every image to the same head (both
    test images went outdoors). Moves the last layer of upstream's domain classifier
    (mlp_classifier[-1], Linear 128 -> 2) so that, in upstream's own infer(), the first image's
    domain logits favour nyu (index 0) and the second's kitti by ROUTE_MARGIN each: its weight
    rows move by +-a (h0 - h1) and its bias by the midpoint, where h0, h1 are the classifier's
    hidden features for the two images. Upstream's router code is unchanged; only the random
    weights differ."""
    final = model.mlp_classifier[-1]
    seen = []
    handle = final.register_forward_hook(lambda m, i, o: seen.append(i[0].detach().sum(dim=0)))
    with torch.no_grad():
        for x in images.values():
            model.infer(x, pad_input=True, with_flip_aug=False)
        handle.remove()
        h0, h1 = seen
        u = h0 - h1
        diff = lambda h: float((final.weight[0] - final.weight[1]) @ h + final.bias[0] - final.bias[1])  # noqa: E731
        gap = diff(h0) - diff(h1)
        a = max(0.0, (2 * ROUTE_MARGIN - gap) / (2 * float(u @ u)))
        final.weight[0] += a * u
        final.weight[1] -= a * u
        mid = (diff(h0) + diff(h1)) / 2
        final.bias[0] -= mid / 2
        final.bias[1] += mid / 2


def zoedepth(case: str, upstream: str, out: str) -> dict:
    variant, img_size = ZOE_CASES[case]
    repo = os.path.join(upstream, "ZoeDepth")
    sys.path.insert(0, repo)
    sys.path.insert(0, TOOLS)
    from export_zoedepth import VARIANTS  # noqa: PLC0415
    from zoedepth.models.builder import build_model  # noqa: PLC0415
    from zoedepth.utils.config import get_config  # noqa: PLC0415

    config_name, extra, _, _ = VARIANTS[variant]
    torch.manual_seed(0)
    model = build_model(get_config(config_name, "infer", pretrained_resource=None, img_size=list(img_size), **extra)).eval()
    spread_heads(model)
    # The graph's input is img_size (no --height/--width): checked against model.yaml below.
    h, w = img_size
    images = {}
    for tag, level in (("dark", 0.2), ("bright", 0.8)):
        g = torch.Generator().manual_seed(7)
        images[tag] = (level + 0.1 * (torch.rand(1, 3, h, w, generator=g) - 0.5)).clamp(0, 1)
    routed = variant == "ZoeD_NK"
    if routed:
        route_apart(model, images)   # dark -> nyu (indoor), bright -> kitti (outdoor)
    ckpt = os.path.join(out, "checkpoint.pt")
    torch.save({"model": model.state_dict()}, ckpt)
    args = ["--model", variant, "--checkpoint", ckpt, "--img-size", f"{img_size[0]}x{img_size[1]}"]
    features = case.endswith("+features")
    if features:
        args += ["--features", "dpt"]
    run_exporter("export_zoedepth.py", args, repo, os.path.join(out, "bundle"))
    with open(os.path.join(out, "bundle", "model.yaml")) as f:
        size = next(line for line in f if line.strip().startswith("size:"))
    assert [int(v) for v in size.split("[")[1].split("]")[0].split(",")] == [h, w], size
    tags, routes = {}, {}
    logits = []
    hook = model.mlp_classifier.register_forward_hook(lambda m, i, o: logits.append(o.detach())) if routed else None
    with torch.no_grad():
        for tag, x in images.items():
            # What infer_pil runs (pad on), without the opt-in flip augmentation.
            depth = model.infer(x, pad_input=True, with_flip_aug=False)
            tensors = {"depth": depth}
            if features:
                # Upstream's own hook kept the decoder's last map of the padded input as core_out
                # ["out_conv"]; --features promises it resized to the padded size and cropped as
                # _infer_with_pad_aug crops depth.
                ph, pw = int(math.sqrt(h / 2) * 3), int(math.sqrt(w / 2) * 3)
                fmap = model.core.core_out["out_conv"]
                fmap = F.interpolate(fmap, size=(h + 2 * ph, w + 2 * pw), mode="bilinear", align_corners=False)
                tensors["features"] = fmap[:, :, ph:ph + h, pw:pw + w]
            write_reference(os.path.join(out, "reference"), tag, x, tensors)
            tags[tag] = float(depth.mean())
            if routed:
                # The head upstream's forward took: ["nyu", "kitti"][argmax softmax(sum of logits)].
                vote = torch.softmax(logits[-1].sum(dim=0, keepdim=True), dim=-1)
                routes[tag] = {"head": ["nyu", "kitti"][int(torch.argmax(vote, dim=-1).item())],
                               "logits": [float(v) for v in logits[-1].flatten()]}
    if hook:
        hook.remove()
    extra_info = {"routes": routes} if routed else {}
    return {"upstream_commit": commit_of(upstream, "ZoeDepth"), "outputs": ["depth"] + (["features"] if features else []), "size": [h, w], "mean_depth": tags,
            "exporter_args": args, "head_gain": HEAD_GAIN, **extra_info}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", required=True, choices=sorted([*DA2_CASES, "da2-vits-metric-infer-image", "da2-vits-relative-infer-image", *DA3_CASES, *ZOE_CASES]))
    p.add_argument("--upstream", required=True, help="folder holding Depth-Anything-V2/, Depth-Anything-3/, ZoeDepth/")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    if args.case in ("da2-vits-metric-infer-image", "da2-vits-relative-infer-image"):
        info = da2_infer_image(args.upstream, args.out, metric=args.case.startswith("da2-vits-metric"))
    elif args.case in DA2_CASES:
        info = da2(args.case, args.upstream, args.out)
    elif args.case in DA3_CASES:
        info = da3(args.case, args.upstream, args.out)
    else:
        info = zoedepth(args.case, args.upstream, args.out)
    info.update(case=args.case, bundle=os.path.join(args.out, "bundle"), reference=os.path.join(args.out, "reference"),
                torch=torch.__version__, seconds=round(time.time() - t0, 1))
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
