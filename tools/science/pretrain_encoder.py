#!/usr/bin/python3
"""Pre-train one encoder of the depth-pretraining experiment (docs/science.md) and export it as a
model bundle whose features `depthseg fit-head` fits a segmentation head on.

Every encoder has the same architecture: the demo model's encoder (tools/train/train_demo.py,
four stride-2 conv blocks). Only what it is pre-trained on differs:

  depth          metric depth (the demo model's depth decoder and loss): the paper's depth pre-training
  scene_classes  which classes are in view (multi-label, image level): the analogue of ImageNet
                 classification, a semantic task of the same cost (same steps, batch, images)
  segmentation   per-pixel labels (the demo model's segmentation decoder): the upper bound
  random         no training; batch-norm statistics measured on the training images, as for the others

The exported graph has two outputs: `depth` (half input resolution; meaningful only for the depth
encoder, every bundle needs one) and `features`, a hypercolumn of the encoder's four blocks at
stride 2 (the same for every encoder, so the head sees the same kind of features each time; at
stride 4 a 64x48 image left the head a 16x12 grid, and boundaries, not features, set the mIoU).

  /usr/bin/python3 tools/science/pretrain_encoder.py --data <render-training-set dir> \
      --task depth --seed 1 --steps 800 --out <bundle dir> --labels-yaml <labels.yaml>
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from train_demo import MEAN, STD, Up, conv_block, half, load, silog_loss, to_input  # noqa: E402

TASKS = ("depth", "scene_classes", "segmentation", "random")
# A class is "in view" when it covers at least this share of the image.
IN_VIEW_SHARE = 0.01


class Encoder(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        w = width
        self.enc1 = conv_block(3, w, 2)
        self.enc2 = conv_block(w, 2 * w, 2)
        self.enc3 = conv_block(2 * w, 4 * w, 2)
        self.enc4 = conv_block(4 * w, 8 * w, 2)

    def forward(self, image: torch.Tensor):
        e1 = self.enc1(image)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        e4 = self.enc4(e3)
        return e1, e2, e3, e4


class PretrainNet(nn.Module):
    def __init__(self, classes: int, max_depth: float, width: int):
        super().__init__()
        w = width
        self.max_depth = max_depth
        self.encoder = Encoder(w)
        self.d3 = Up(8 * w, 4 * w, 4 * w)
        self.d2 = Up(4 * w, 2 * w, 2 * w)
        self.d1 = Up(2 * w, w, w)
        self.depth_out = nn.Conv2d(w, 1, 3, padding=1)
        self.s3 = Up(8 * w, 4 * w, 2 * w)
        self.s2 = Up(2 * w, 2 * w, w)
        self.s1 = Up(w, w, w)
        self.seg_out = nn.Conv2d(w, classes, 1)
        self.scene_out = nn.Linear(8 * w, classes)

    def depth(self, e):
        e1, e2, e3, e4 = e
        return torch.sigmoid(self.depth_out(self.d1(self.d2(self.d3(e4, e3), e2), e1))) * self.max_depth

    def segmentation(self, e):
        e1, e2, e3, e4 = e
        return self.seg_out(self.s1(self.s2(self.s3(e4, e3), e2), e1))

    def scene_classes(self, e):
        return self.scene_out(e[3].mean(dim=(2, 3)))


def hypercolumn(e) -> torch.Tensor:
    e1, e2, e3, e4 = e
    size = e1.shape[-2:]
    up = lambda t: F.interpolate(t, size=size, mode="bilinear", align_corners=False)  # noqa: E731
    return torch.cat([e1, up(e2), up(e3), up(e4)], dim=1)


class Exported(nn.Module):
    def __init__(self, net: PretrainNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor):
        e = self.net.encoder(image)
        return self.net.depth(e), hypercolumn(e)


def in_view(labels: np.ndarray, classes: int) -> torch.Tensor:
    """[B, H, W] ids -> [B, classes] 1.0 where the class covers at least IN_VIEW_SHARE of the image."""
    flat = labels.reshape(labels.shape[0], -1)
    share = np.stack([(flat == c).mean(axis=1) for c in range(classes)], axis=1)
    return torch.from_numpy((share >= IN_VIEW_SHARE).astype(np.float32))


def calibrate_batch_norm(net: PretrainNet, rgb: np.ndarray, rng: np.random.Generator, batches: int, batch: int) -> None:
    """Running statistics from the training images (train mode, no gradient): a random encoder with
    its init statistics would hand the head features of arbitrary scale, which is not the baseline."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    net.train()
    with torch.no_grad():
        for _ in range(batches):
            net.encoder(to_input(rgb[rng.integers(0, len(rgb), size=batch)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--task", required=True, choices=TASKS)
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels-yaml", required=True)
    ap.add_argument("--classes", type=int, default=6)
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=int, default=12)
    ap.add_argument("--max-depth", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=1)
    # One thread: on a busy 2-core machine two OpenMP threads made a step 20x slower (spinning).
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    rgb, depth, labels = load(args.data, "train")
    n, h, w = depth.shape
    net = PretrainNet(args.classes, args.max_depth, args.width)
    started = time.time()
    losses = []
    if args.task != "random":
        opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
        net.train()
        for step in range(1, args.steps + 1):
            idx = rng.integers(0, n, size=args.batch)
            x = to_input(rgb[idx])
            e = net.encoder(x)
            if args.task == "depth":
                g = half(torch.from_numpy(depth[idx]).unsqueeze(1), "nearest")[:, 0]
                p = net.depth(e)[:, 0]
                valid = g > 0
                loss = silog_loss(p, g, valid) + F.l1_loss(p[valid], g[valid])
            elif args.task == "segmentation":
                lab = half(torch.from_numpy(labels[idx].astype(np.int64)).unsqueeze(1).float(), "nearest")[:, 0].long()
                loss = F.cross_entropy(net.segmentation(e), lab)
            else:
                loss = F.binary_cross_entropy_with_logits(net.scene_classes(e), in_view(labels[idx], args.classes))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if step % 100 == 0 or step == args.steps:
                print(f"{args.task} seed {args.seed} step {step}/{args.steps} loss {np.mean(losses[-100:]):.4f} {time.time() - started:.0f}s", flush=True)
    else:
        calibrate_batch_norm(net, rgb, rng, batches=20, batch=args.batch)
    seconds = time.time() - started
    export(Exported(net.eval()), args, h, w, seconds, float(np.mean(losses[-100:])) if losses else None)


def export(model: nn.Module, args, h: int, w: int, seconds: float, final_loss) -> None:
    os.makedirs(args.out, exist_ok=True)
    channels = 15 * args.width
    torch.onnx.export(
        model,
        torch.zeros(1, 3, h, w),
        os.path.join(args.out, "model.onnx"),
        input_names=["image"],
        output_names=["depth", "features"],
        dynamic_axes={"image": {2: "H", 3: "W"}, "depth": {2: "h", 3: "w"}, "features": {2: "fh", 3: "fw"}},
        opset_version=17,
        do_constant_folding=True,
    )
    with open(args.labels_yaml) as f, open(os.path.join(args.out, "labels.yaml"), "w") as g:
        g.write(f.read())
    with open(os.path.join(args.out, "model.yaml"), "w") as f:
        f.write(
            f"""# Encoder pre-trained on `{args.task}` for the depth-pretraining experiment (docs/science.md,
# tools/science/pretrain_encoder.py). Its depth output is meaningful only for the `depth` encoder.
name: science-{args.task}-seed{args.seed}
trained_on: synthetic-indoor (tools/science)
file: model.onnx
input:
  name: image
  size: [{h}, {w}]
  multiple_of: 16
  resize: keep_aspect_lower_bound
  interpolation: linear
  mean: {MEAN}
  std: {STD}
  color: rgb
outputs:
  depth: {{ name: depth, kind: metric, max_depth: {args.max_depth:g} }}
  features: {{ name: features, stride: 2 }}   # {channels} channels: encoder blocks 1-4 at stride 2
"""
        )
    with open(os.path.join(args.out, "pretraining.json"), "w") as f:
        json.dump(
            {
                "task": args.task,
                "seed": args.seed,
                "steps": 0 if args.task == "random" else args.steps,
                "batch": args.batch,
                "lr": args.lr,
                "width": args.width,
                "feature_channels": channels,
                "input_size_hw": [h, w],
                "train_seconds": round(seconds, 1),
                "final_loss": final_loss,
                "torch": torch.__version__,
            },
            f,
            indent=2,
        )
        f.write("\n")
    print(f"wrote {args.out} ({args.task}, seed {args.seed}, {seconds:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
