#!/usr/bin/python3
"""docs/science/miou.png from docs/science/results.json (tools/science/run.ts): held-out mIoU
against labelled frames, one line per pre-training, mean ± std over seeds.

  /usr/bin/python3 tools/science/plot.py docs/science/results.json docs/science/miou.png
Needs Debian's python3-matplotlib.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "depth": "depth (the paper's pre-training)",
    "scene_classes": "classes in view (ImageNet-like)",
    "segmentation": "segmentation (upper bound)",
    "random": "random init",
}


def main() -> None:
    results = json.load(open(sys.argv[1]))
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for task, label in LABELS.items():
        cells = sorted((c for c in results["summary"] if c["task"] == task), key=lambda c: c["frames"])
        if not cells:
            continue
        x = [c["frames"] for c in cells]
        y = [c["mIoUMean"] for c in cells]
        e = [c["mIoUStd"] for c in cells]
        ax.errorbar(x, y, yerr=e, marker="o", capsize=3, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 4, 16, 64])
    ax.set_xticklabels(["1", "4", "16", "64"])
    ax.set_xlabel("labelled frames for the linear head (depthseg fit-head)")
    ax.set_ylabel("held-out mIoU")
    ax.set_title(f"Frozen encoder, linear head; mean ± std over {len(results['seeds'])} seeds")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
