#!/usr/bin/env python3
"""Builds upstream Depth Anything V2 (ViT-S config) with seeded random weights, saves them as a
checkpoint, and writes upstream's own PyTorch forward on a seeded input, for the parity test
(tests/upstreamParity.test.ts). Needs a Depth-Anything-V2 clone (argv[1]) and torch; imports the
upstream classes from the clone, never a copy of them.

usage: upstream_da2_reference.py REPO relative|metric H W OUT_DIR
writes OUT_DIR/{weights.pth, input.bin, output.bin} (float32, little-endian, NCHW / [1,H,W])
"""
import os
import sys

import numpy as np
import torch

repo, kind, height, width, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, os.path.join(repo, "metric_depth") if kind == "metric" else repo)
from depth_anything_v2.dpt import DepthAnythingV2  # noqa: E402  (from the clone)

torch.manual_seed(0)
# upstream's run.py / metric_depth/run.py MODEL_CONFIGS["vits"]
config = {"encoder": "vits", "features": 64, "out_channels": [48, 96, 192, 384]}
extra = {"max_depth": 20.0} if kind == "metric" else {}
model = DepthAnythingV2(**config, **extra).eval()
os.makedirs(out, exist_ok=True)
torch.save(model.state_dict(), os.path.join(out, "weights.pth"))
image = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    prediction = model(image)
image.numpy().astype("<f4").tofile(os.path.join(out, "input.bin"))
prediction.numpy().astype("<f4").tofile(os.path.join(out, "output.bin"))
