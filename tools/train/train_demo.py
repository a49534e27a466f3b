#!/usr/bin/python3
"""Train depthseg's demo model on the synthetic indoor world and export it as a model bundle.

A small encoder-decoder: one shared encoder, two heads (metric depth, segmentation), as in the
papers depthseg builds on (depth pre-training transfers to segmentation through a shared encoder).

Reproduce the committed models/demo bundle with one command (CPU, Debian's python3-torch 1.13):

    npm run train-demo

which renders the training set (tools/train/render-training-set.ts) and runs this script with the
seed, steps and size recorded in models/demo/training.json.

Data: <data>/{train,val}_{rgb,depth,labels}.npy written by render-training-set.ts:
rgb uint8 [N,H,W,3], depth float32 [N,H,W] metres (z-depth), labels uint8 [N,H,W].
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def conv_block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Up(nn.Module):
    """Upsample to the skip's size (dynamic H, W in the exported graph), concatenate, convolve."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.block = conv_block(cin + cskip, cout, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.block(torch.cat([x, skip], dim=1))


class DemoDepthSeg(nn.Module):
    def __init__(self, classes: int, max_depth: float, width: int = 24):
        super().__init__()
        w = width
        self.max_depth = max_depth
        self.enc1 = conv_block(3, w, 2)  # 1/2
        self.enc2 = conv_block(w, 2 * w, 2)  # 1/4
        self.enc3 = conv_block(2 * w, 4 * w, 2)  # 1/8
        self.enc4 = conv_block(4 * w, 8 * w, 2)  # 1/16
        # Depth decoder.
        self.d3 = Up(8 * w, 4 * w, 4 * w)
        self.d2 = Up(4 * w, 2 * w, 2 * w)
        self.d1 = Up(2 * w, w, w)
        self.depth_out = nn.Conv2d(w, 1, 3, padding=1)
        # Segmentation decoder: lighter, on the same encoder features.
        self.s3 = Up(8 * w, 4 * w, 2 * w)
        self.s2 = Up(2 * w, 2 * w, w)
        self.s1 = Up(w, w, w)
        self.seg_out = nn.Conv2d(w, classes, 1)

    def forward(self, image: torch.Tensor):
        e1 = self.enc1(image)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        e4 = self.enc4(e3)
        d = self.d1(self.d2(self.d3(e4, e3), e2), e1)
        # Sigmoid scaled to max_depth, as Depth Anything's metric heads: bounded, smooth near 0.
        depth = torch.sigmoid(self.depth_out(d)) * self.max_depth
        s = self.s1(self.s2(self.s3(e4, e3), e2), e1)
        logits = self.seg_out(s)
        # Outputs at half resolution; depthseg resizes them to the camera (depth bilinear, labels nearest).
        return depth, logits


def silog_loss(pred: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor, lam: float = 0.85) -> torch.Tensor:
    d = torch.log(pred[valid].clamp(min=1e-3)) - torch.log(gt[valid])
    return torch.sqrt((d ** 2).mean() - lam * d.mean() ** 2 + 1e-8) * 10.0


def load(data: str, split: str):
    rgb = np.load(os.path.join(data, f"{split}_rgb.npy"))
    depth = np.load(os.path.join(data, f"{split}_depth.npy"))
    labels = np.load(os.path.join(data, f"{split}_labels.npy"))
    return rgb, depth, labels


def to_input(rgb: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(rgb).float().permute(0, 3, 1, 2) / 255.0
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def half(t: torch.Tensor, mode: str) -> torch.Tensor:
    """Ground truth at the heads' half resolution (nearest keeps labels and depth edges exact)."""
    return F.interpolate(t, scale_factor=0.5, mode=mode)


def evaluate(model: nn.Module, rgb, depth, labels, classes: int, batch: int = 16):
    model.eval()
    abs_rel, d1, n = 0.0, 0.0, 0
    conf = np.zeros((classes, classes), dtype=np.int64)
    with torch.no_grad():
        for i in range(0, len(rgb), batch):
            x = to_input(rgb[i : i + batch])
            p, logits = model(x)
            p = F.interpolate(p, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0].numpy()
            lab = F.interpolate(logits, size=x.shape[-2:], mode="nearest").argmax(1).numpy()
            g = depth[i : i + batch]
            for k in range(len(g)):
                v = g[k] > 0
                abs_rel += float(np.mean(np.abs(p[k][v] - g[k][v]) / g[k][v]))
                ratio = np.maximum(p[k][v] / g[k][v], g[k][v] / p[k][v])
                d1 += float(np.mean(ratio < 1.25))
                n += 1
                conf += np.bincount(labels[i + k].reshape(-1) * classes + lab[k].reshape(-1), minlength=classes * classes).reshape(classes, classes)
    iou = np.diag(conf) / np.maximum(conf.sum(0) + conf.sum(1) - np.diag(conf), 1)
    present = (conf.sum(1) + conf.sum(0)) > 0
    model.train()
    return {"abs_rel": abs_rel / n, "delta1": d1 / n, "miou": float(iou[present].mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True, help="bundle folder to write (model.onnx, model.yaml, labels.yaml)")
    ap.add_argument("--labels-yaml", required=True, help="labels.yaml of the synthetic world's classes")
    ap.add_argument("--classes", type=int, required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=int, default=24)
    ap.add_argument("--max-depth", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    rgb, depth, labels = load(args.data, "train")
    val = load(args.data, "val")
    n, h, w = depth.shape
    print(f"train {n} frames {w}x{h}, val {len(val[0])}", flush=True)

    model = DemoDepthSeg(args.classes, args.max_depth, args.width)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    started = time.time()
    rng = np.random.default_rng(args.seed)
    for step in range(1, args.steps + 1):
        idx = rng.integers(0, n, size=args.batch)
        x = to_input(rgb[idx])
        flip = rng.random() < 0.5
        g = torch.from_numpy(depth[idx]).unsqueeze(1)
        lab = torch.from_numpy(labels[idx].astype(np.int64)).unsqueeze(1).float()
        if flip:  # horizontal flip keeps the pinhole geometry valid (cx is near the centre)
            x, g, lab = x.flip(-1), g.flip(-1), lab.flip(-1)
        g2 = half(g, "nearest")[:, 0]
        lab2 = half(lab, "nearest")[:, 0].long()
        p, logits = model(x)
        valid = g2 > 0
        loss = silog_loss(p[:, 0], g2, valid) + F.l1_loss(p[:, 0][valid], g2[valid]) + F.cross_entropy(logits, lab2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps:
            print(f"step {step}/{args.steps} loss {loss.item():.4f} {time.time() - started:.0f}s", flush=True)
        if step % 1000 == 0 or step == args.steps:
            print("val", json.dumps(evaluate(model, *val, args.classes)), flush=True)

    metrics = evaluate(model, *val, args.classes)
    seconds = time.time() - started
    print("final val", json.dumps(metrics), f"train {seconds:.0f}s", flush=True)
    export(model.eval(), args, h, w, metrics, seconds, n)


def export(model: nn.Module, args, h: int, w: int, metrics: dict, seconds: float, frames: int) -> None:
    os.makedirs(args.out, exist_ok=True)
    dummy = torch.zeros(1, 3, h, w)
    torch.onnx.export(
        model,
        dummy,
        os.path.join(args.out, "model.onnx"),
        input_names=["image"],
        output_names=["depth", "logits"],
        dynamic_axes={"image": {2: "H", 3: "W"}, "depth": {2: "h", 3: "w"}, "logits": {2: "h", 3: "w"}},
        opset_version=17,
        do_constant_folding=True,
    )
    with open(args.labels_yaml) as f:
        labels = f.read()
    with open(os.path.join(args.out, "labels.yaml"), "w") as f:
        f.write(labels)
    with open(os.path.join(args.out, "model.yaml"), "w") as f:
        f.write(
            f"""# depthseg demo model: trained on the synthetic indoor world (tools/train/train_demo.py).
# Metric depth for indoor rooms up to {args.max_depth:g} m; labels from the world's classes.
name: depthseg-demo-synthetic-indoor
trained_on: synthetic-indoor (the project's rendered rooms, tools/train; no real image)
warning: "trained on synthetic rooms only, not for real scenes: on a real camera its depth is not metres to trust, whatever depth_is_metric says; use a real model (README: Real models)"
file: model.onnx
input:
  name: image
  size: [{h}, {w}]          # [height, width]
  multiple_of: 8
  resize: keep_aspect_lower_bound
  interpolation: linear
  mean: {MEAN}
  std: {STD}
  color: rgb
outputs:
  depth: {{ name: depth, kind: metric, max_depth: {args.max_depth:g} }}   # half input resolution
  segmentation: {{ name: logits, labels: labels.yaml }}                 # half input resolution
"""
        )
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(
            {
                "command": "npm run train-demo",
                "seed": args.seed,
                "steps": args.steps,
                "batch": args.batch,
                "lr": args.lr,
                "width": args.width,
                "max_depth": args.max_depth,
                "input_size_hw": [h, w],
                "train_frames": frames,
                "train_seconds": round(seconds),
                "threads": args.threads,
                "torch": torch.__version__,
                "val_metrics_in_training": metrics,
            },
            f,
            indent=2,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
