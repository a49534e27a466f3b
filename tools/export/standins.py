"""Small stand-in networks for the exporters' --self-test mode.

Real checkpoints cannot be assumed (they are hundreds of MB and need the upstream repos), so the
self-test exports these instead. Each one keeps the *interface* of the real model that the
export wrappers rely on, including the parts that make ONNX export go wrong, so the self-test
exercises the same wrapping, patching and export code path:

Depth Anything V2 (depth_anything_v2/dpt.py, DepthAnythingV2):
  * forward(x [B,3,H,W], H and W multiples of 14) -> [B,H,W]; relative: ReLU'd disparity,
    metric: sigmoid * max_depth (metres);
  * `.pretrained` is a DINOv2-like ViT with `pos_embed`, `patch_size`, `interpolate_antialias`
    and `interpolate_pos_encoding(x, w, h)` that (like upstream) returns the table untouched when
    the token count matches and the image is square, and otherwise resamples it with a Python
    float scale factor -- both become constants in a traced graph;
  * `.depth_head(features, patch_h, patch_w)` ends with
    `F.interpolate(out, (int(patch_h * 14), int(patch_w * 14)))` through this module's `F`, the
    `int()` that freezes the output size of a traced graph.

ZoeDepth (zoedepth/models/zoedepth*/...):
  * forward(x [B,3,H,W], RGB in 0..1) -> dict with 'metric_depth' [B,1,h,w]; normalisation
    (mean 0.5, std 0.5) and a resize to the configured size happen inside (`core`), with the
    size computed in Python like MidasCore's Resize;
  * ZoeD_NK: `.core(x, ...)` is called once per forward, `.mlp_classifier` gives [B,2] domain
    logits and the head is chosen with `torch.argmax(...).item()` -- a Python branch that a
    traced graph freezes. Here the stand-in's classifier looks at brightness (dark -> nyu head,
    0.1..10 m; bright -> kitti head, 1..80 m) so a test can tell which head ran.
Weights are random (seeded); the numbers mean nothing.
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F  # the DA-V2 exporter swaps this module's F, as it does dpt.py's

PATCH = 14


class StandInViT(nn.Module):
    """Just enough of DINOv2 for the DPT head: patch tokens + class token, learnt positions."""

    def __init__(self, dim: int = 16, grid: int = 4, depth: int = 2) -> None:
        super().__init__()
        self.patch_size = PATCH
        self.embed_dim = dim
        self.interpolate_offset = 0.1
        self.interpolate_antialias = False
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=PATCH, stride=PATCH)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.1)
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + grid * grid, dim))
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU()) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def interpolate_pos_encoding(self, x: torch.Tensor, w, h) -> torch.Tensor:
        # Upstream's argument names: `w` is the image height (dim 2), `h` the width (dim 3).
        tokens = x.shape[1] - 1
        table = self.pos_embed.shape[1] - 1
        if tokens == table and w == h:          # a Python bool when traced
            return self.pos_embed
        side = math.sqrt(table)
        rows = w // self.patch_size + self.interpolate_offset
        cols = h // self.patch_size + self.interpolate_offset
        dim = x.shape[-1]
        grid = self.pos_embed[:, 1:].float().reshape(1, int(side), int(side), dim).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, scale_factor=(float(rows) / side, float(cols) / side),
                             mode="bicubic", antialias=self.interpolate_antialias)
        grid = grid.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat([self.pos_embed[:, :1], grid], dim=1).to(x.dtype)

    def get_intermediate_layers(self, x: torch.Tensor, n: Sequence[int], return_class_token: bool = False):
        b, _, w, h = x.shape
        t = self.patch_embed(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], dim=1)
        t = t + self.interpolate_pos_encoding(t, w, h)
        picked: List[torch.Tensor] = []
        for i, block in enumerate(self.blocks):
            t = t + block(t)
            if i in n:
                picked.append(self.norm(t))
        pairs = tuple((o[:, 1:], o[:, 0]) for o in picked)
        return pairs if return_class_token else tuple(p for p, _ in pairs)


class StandInDPTHead(nn.Module):
    def __init__(self, dim: int, metric: bool) -> None:
        super().__init__()
        self.project = nn.Conv2d(dim, 8, kernel_size=1)
        self.fuse = nn.Conv2d(8, 8, kernel_size=3, padding=1)
        self.out = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(True), nn.Conv2d(8, 1, 1),
                                 nn.Sigmoid() if metric else nn.ReLU(True))

    def forward(self, features, patch_h, patch_w) -> torch.Tensor:
        x = sum(f for f, _ in features)
        x = x.permute(0, 2, 1).reshape(x.shape[0], x.shape[-1], patch_h, patch_w)
        x = self.project(x)
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        x = self.fuse(x)
        # The line that matters: int() of traced sizes, as in upstream DPTHead.forward.
        x = F.interpolate(x, (int(patch_h * PATCH), int(patch_w * PATCH)), mode="bilinear", align_corners=True)
        return self.out(x)


class StandInDepthAnythingV2(nn.Module):
    def __init__(self, metric: bool = False, max_depth: float = 20.0, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = "standin"
        self.max_depth = max_depth
        self.metric = metric
        self.pretrained = StandInViT()
        self.depth_head = StandInDPTHead(self.pretrained.embed_dim, metric)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        patch_h, patch_w = x.shape[-2] // PATCH, x.shape[-1] // PATCH
        features = self.pretrained.get_intermediate_layers(x, [0, 1], return_class_token=True)
        depth = self.depth_head(features, patch_h, patch_w)
        depth = depth * self.max_depth if self.metric else F.relu(depth)
        return depth.squeeze(1)


# --- ZoeDepth ---------------------------------------------------------------------------------

def _minimal_resize_size(height: int, width: int, target: Tuple[int, int], multiple: int = 32) -> Tuple[int, int]:
    """MidasCore's Resize(keep_aspect_ratio=True, resize_method='minimal') in plain Python."""
    th, tw = target
    sh, sw = th / height, tw / width
    if abs(1 - sw) < abs(1 - sh):
        sh = sw
    else:
        sw = sh
    return int(round(sh * height / multiple)) * multiple, int(round(sw * width / multiple)) * multiple


class StandInMidasCore(nn.Module):
    """Resize (sizes from Python numbers) + normalise (0.5, 0.5) + a small conv encoder."""

    def __init__(self, img_size: Tuple[int, int]) -> None:
        super().__init__()
        self.img_size = img_size
        self.enc = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(True), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(True))

    def forward(self, x: torch.Tensor, denorm: bool = False, return_rel_depth: bool = False):
        h, w = _minimal_resize_size(int(x.shape[-2]), int(x.shape[-1]), self.img_size)
        x = F.interpolate(x, (h, w), mode="bilinear", align_corners=True)
        x = (x - 0.5) / 0.5
        feat = self.enc(x)
        rel = feat.mean(dim=1)
        # The "bottleneck": global brightness of the normalised image, so the stand-in router is
        # predictable (dark < 0 < bright).
        bottleneck = x.mean(dim=(1, 2, 3), keepdim=True)
        return (rel, [feat, bottleneck]) if return_rel_depth else [feat, bottleneck]


class _MetricHead(nn.Module):
    def __init__(self, min_depth: float, max_depth: float) -> None:
        super().__init__()
        self.min_depth, self.max_depth = min_depth, max_depth
        self.conv = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.min_depth + (self.max_depth - self.min_depth) * torch.sigmoid(self.conv(feat))


class StandInZoeDepth(nn.Module):
    """ZoeD_N / ZoeD_K: one metric head."""

    def __init__(self, img_size: Tuple[int, int] = (64, 96), max_depth: float = 10.0, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.max_depth = max_depth
        self.core = StandInMidasCore(img_size)
        self.head = _MetricHead(0.1, max_depth)

    def forward(self, x: torch.Tensor, **kwargs):
        _, (feat, _) = self.core(x, return_rel_depth=True)
        return {"metric_depth": self.head(feat)}


class StandInZoeDepthNK(nn.Module):
    """ZoeD_NK: two heads, picked per forward by a router whose choice goes through .item()."""

    def __init__(self, img_size: Tuple[int, int] = (64, 96), seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.bin_conf = [{"name": "nyu", "min_depth": 0.1, "max_depth": 10.0},
                         {"name": "kitti", "min_depth": 1.0, "max_depth": 80.0}]
        self.core = StandInMidasCore(img_size)
        self.mlp_classifier = nn.Linear(1, 2)
        with torch.no_grad():
            self.mlp_classifier.weight.copy_(torch.tensor([[-4.0], [4.0]]))
            self.mlp_classifier.bias.zero_()
        self.heads = nn.ModuleDict({c["name"]: _MetricHead(c["min_depth"], c["max_depth"]) for c in self.bin_conf})

    def forward(self, x: torch.Tensor, **kwargs):
        _, (feat, bottleneck) = self.core(x, return_rel_depth=True)
        domain_logits = self.mlp_classifier(bottleneck.flatten(1))
        vote = torch.softmax(domain_logits.sum(dim=0, keepdim=True), dim=-1)
        name = ["nyu", "kitti"][torch.argmax(vote, dim=-1).squeeze().item()]
        return {"domain_logits": domain_logits, "metric_depth": self.heads[name](feat)}


# --- Depth Anything V2 Small, the architecture at full size (random weights) ------------------
#
# For `npm run bench` (bench/vitsGraph.ts): a graph with the compute of the model users run, built
# without the upstream repository or a checkpoint. The shapes follow upstream's
# depth_anything_v2/dpt.py (DepthAnythingV2 with encoder 'vits': DPTHead(384, features=64,
# out_channels=[48, 96, 192, 384]), intermediate layers [2, 5, 8, 11]) and
# depth_anything_v2/dinov2.py (vit_small: patch 14, width 384, 12 blocks, 6 heads, MLP 4x,
# LayerScale, a 37x37 position table for 518 px). Weights are random (seeded); the depth means
# nothing, the operator mix and sizes are the real model's.

class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * (c // self.heads) ** -0.5, qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class _Block(nn.Module):
    """Pre-norm transformer block with LayerScale, as DINOv2's NestedTensorBlock."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = _Attention(dim, heads)
        self.ls1 = nn.Parameter(torch.full((dim,), 1e-5))
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.ls2 = nn.Parameter(torch.full((dim,), 1e-5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1 * self.attn(self.norm1(x))
        return x + self.ls2 * self.mlp(self.norm2(x))


class ViTSmall14(StandInViT):
    """DINOv2 ViT-S/14: the StandInViT interface (position resampling included) at full size."""

    def __init__(self) -> None:
        super().__init__(dim=384, grid=37, depth=0)
        self.blocks = nn.ModuleList(_Block(384, 6) for _ in range(12))
        self.norm = nn.LayerNorm(384, eps=1e-6)

    def get_intermediate_layers(self, x: torch.Tensor, n: Sequence[int], return_class_token: bool = False):
        b, _, w, h = x.shape
        t = self.patch_embed(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], dim=1)
        t = t + self.interpolate_pos_encoding(t, w, h)
        picked: List[torch.Tensor] = []
        for i, block in enumerate(self.blocks):
            t = block(t)
            if i in n:
                picked.append(self.norm(t))
        pairs = tuple((o[:, 1:], o[:, 0]) for o in picked)
        return pairs if return_class_token else tuple(p for p, _ in pairs)


class _ResidualConvUnit(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class _FusionBlock(nn.Module):
    """DPT's FeatureFusionBlock: add the skip (through a residual unit), refine, upsample x2 (or to
    the next level's size), 1x1 conv."""

    def __init__(self, features: int, has_skip: bool) -> None:
        super().__init__()
        self.skip = _ResidualConvUnit(features) if has_skip else None
        self.refine = _ResidualConvUnit(features)
        self.out_conv = nn.Conv2d(features, features, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor = None, size=None) -> torch.Tensor:
        if skip is not None:
            x = x + self.skip(skip)
        x = self.refine(x)
        if size is None:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        else:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=True)
        return self.out_conv(x)


class DPTHeadSmall(nn.Module):
    """DPTHead(384, features=64, out_channels=[48, 96, 192, 384], use_clstoken=False)."""

    def __init__(self, dim: int = 384, features: int = 64, out_channels: Sequence[int] = (48, 96, 192, 384)) -> None:
        super().__init__()
        self.projects = nn.ModuleList(nn.Conv2d(dim, c, 1) for c in out_channels)
        self.resize_layers = nn.ModuleList([
            nn.ConvTranspose2d(out_channels[0], out_channels[0], kernel_size=4, stride=4),
            nn.ConvTranspose2d(out_channels[1], out_channels[1], kernel_size=2, stride=2),
            nn.Identity(),
            nn.Conv2d(out_channels[3], out_channels[3], kernel_size=3, stride=2, padding=1),
        ])
        self.layer_rn = nn.ModuleList(nn.Conv2d(c, features, 3, padding=1, bias=False) for c in out_channels)
        self.refine = nn.ModuleList(_FusionBlock(features, has_skip=i < 3) for i in range(4))
        self.output_conv1 = nn.Conv2d(features, features // 2, 3, padding=1)
        self.output_conv2 = nn.Sequential(nn.Conv2d(features // 2, 32, 3, padding=1), nn.ReLU(True),
                                          nn.Conv2d(32, 1, 1), nn.ReLU(True))

    def forward(self, features, patch_h, patch_w) -> torch.Tensor:
        levels = []
        for i, (x, _) in enumerate(features):
            x = x.permute(0, 2, 1).reshape(x.shape[0], x.shape[-1], patch_h, patch_w)
            levels.append(self.layer_rn[i](self.resize_layers[i](self.projects[i](x))))
        l1, l2, l3, l4 = levels
        path = self.refine[3](l4, size=l3.shape[2:])
        path = self.refine[2](path, l3, size=l2.shape[2:])
        path = self.refine[1](path, l2, size=l1.shape[2:])
        path = self.refine[0](path, l1)
        out = self.output_conv1(path)
        # As upstream: int() of the patch grid, the size a trace freezes (the exporter's --dynamic
        # patch frees it).
        out = F.interpolate(out, (int(patch_h * PATCH), int(patch_w * PATCH)), mode="bilinear", align_corners=True)
        return self.output_conv2(out)


class DepthAnythingV2SmallArchitecture(nn.Module):
    """DepthAnythingV2(encoder='vits') with random weights: forward(x [B,3,H,W]) -> [B,H,W]."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = "vits"
        self.pretrained = ViTSmall14()
        self.depth_head = DPTHeadSmall()
        # Random weights give a ReLU'd output of mostly zeros, which depthseg rejects as invalid
        # depth; a positive last bias makes the disparity positive (~1) everywhere.
        with torch.no_grad():
            self.depth_head.output_conv2[2].bias.fill_(1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        patch_h, patch_w = x.shape[-2] // PATCH, x.shape[-1] // PATCH
        features = self.pretrained.get_intermediate_layers(x, [2, 5, 8, 11], return_class_token=True)
        return F.relu(self.depth_head(features, patch_h, patch_w)).squeeze(1)
