import { describe, expect, it } from "vitest";
import { ConfusionMatrix } from "./segmentationMetrics.js";

const MODEL_CLASSES = [
  { id: 0, name: "floor" },
  { id: 1, name: "wall" },
  { id: 2, name: "chair" },
  { id: 3, name: "lamp" }, // in neither ground truth nor prediction: IoU NaN, not in mIoU
];
// 255 is both the ignore index (in ground truth) and the pipeline's "unlabelled" prediction.
const GT = Uint8Array.from([0, 0, 0, 1, 1, 2, 255, 255, 5]);
const PRED = Uint16Array.from([0, 0, 1, 1, 255, 0, 2, 1, 1]);

describe("segmentation metrics", () => {
  it("per-class IoU, mIoU and pixel accuracy with an ignore index and an absent class", () => {
    const cm = new ConfusionMatrix(MODEL_CLASSES);
    cm.accumulate(GT, PRED, 255);
    // Counted (gt → pred): 0→0 ×2, 0→1, 1→1, 1→255 (unlabelled: wrong), 2→0, 5→1; the two GT-255
    // pixels are ignored (their predictions 2 and 1 count for nothing).
    expect(cm.count(0, 0)).toBe(2);
    expect(cm.count(1, 255)).toBe(1);
    const m = cm.metrics();
    expect(m.pixels).toBe(7);
    expect(m.ignored).toBe(2);
    const byId = new Map(m.classes.map((c) => [c.id, c]));
    // Reported: the model's classes 0..3 plus id 5 seen in ground truth; not the unlabelled 255.
    expect(m.classes.map((c) => c.id)).toEqual([0, 1, 2, 3, 5]);
    // floor: TP 2, FN 1 (→wall), FP 1 (chair→floor): 2/4
    expect(byId.get(0)).toEqual({ id: 0, name: "floor", iou: 0.5, tp: 2, fp: 1, fn: 1, gtPixels: 3 });
    // wall: TP 1, FN 1 (→unlabelled), FP 2 (floor→wall, 5→wall): 1/4
    expect(byId.get(1)).toMatchObject({ iou: 0.25, tp: 1, fp: 2, fn: 1 });
    // chair: TP 0, FN 1, FP 0 (its only prediction sits on an ignored pixel): 0/1
    expect(byId.get(2)).toMatchObject({ iou: 0, tp: 0, fp: 0, fn: 1 });
    expect(Number.isNaN(byId.get(3)!.iou)).toBe(true);
    // id 5 (unknown to the model): TP 0, FN 1: 0
    expect(byId.get(5)).toMatchObject({ iou: 0, tp: 0, fn: 1 });
    expect(byId.get(5)!.name).toBeUndefined();
    // mIoU = (0.5 + 0.25 + 0 + 0) / 4 (lamp left out); pixel accuracy = (2 + 1) / 7
    expect(m.mIoU).toBeCloseTo(0.1875, 12);
    expect(m.pixelAccuracy).toBeCloseTo(3 / 7, 12);
  });

  it("without an ignore index, 255 in ground truth is a class like any other", () => {
    const cm = new ConfusionMatrix(MODEL_CLASSES);
    cm.accumulate(GT, PRED, undefined);
    const m = cm.metrics();
    expect(m.pixels).toBe(9);
    expect(m.ignored).toBe(0);
    const byId = new Map(m.classes.map((c) => [c.id, c]));
    // 255: TP 0, FN 2 (→chair, →wall), FP 1 (wall→255): 0/3
    expect(byId.get(255)).toMatchObject({ iou: 0, tp: 0, fp: 1, fn: 2 });
    // wall now also has FP from 255→wall: 1 / (1 + 3 + 1) = 0.2; chair FP 1: 0/2
    expect(byId.get(1)!.iou).toBeCloseTo(0.2, 12);
    expect(byId.get(2)).toMatchObject({ iou: 0, fp: 1, fn: 1 });
    // mIoU = (0.5 + 0.2 + 0 + 0 + 0) / 5 = 0.14; accuracy 3/9
    expect(m.mIoU).toBeCloseTo(0.14, 12);
    expect(m.pixelAccuracy).toBeCloseTo(1 / 3, 12);
  });

  it("merging per-frame matrices equals accumulating the dataset at once", () => {
    const whole = new ConfusionMatrix(MODEL_CLASSES);
    whole.accumulate(GT, PRED, 255);
    const total = new ConfusionMatrix(MODEL_CLASSES);
    for (const [from, to] of [[0, 4], [4, 9]] as const) {
      const frame = new ConfusionMatrix(MODEL_CLASSES);
      frame.accumulate(GT.subarray(from, to), PRED.subarray(from, to), 255);
      total.merge(frame);
    }
    expect(total.metrics()).toEqual(whole.metrics());
  });

  it("handles many and large ids (16-bit labels)", () => {
    const n = 40;
    const gt = new Uint16Array(n);
    const pred = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      gt[i] = 1000 + i;
      pred[i] = i === 0 ? 65535 : 1000 + i;
    }
    const m = new ConfusionMatrix().metrics();
    expect(Number.isNaN(m.mIoU)).toBe(true);
    expect(Number.isNaN(m.pixelAccuracy)).toBe(true);
    const cm = new ConfusionMatrix();
    cm.accumulate(gt, pred, 255);
    const r = cm.metrics();
    expect(r.classes).toHaveLength(n);
    // 39 classes at IoU 1, one at 0 (its only pixel predicted unlabelled).
    expect(r.mIoU).toBeCloseTo(39 / 40, 12);
    expect(r.pixelAccuracy).toBeCloseTo(39 / 40, 12);
  });

  it("rejects label maps of different sizes", () => {
    expect(() => new ConfusionMatrix().accumulate(new Uint8Array(2), new Uint16Array(3))).toThrow(/2 pixels, prediction 3/);
  });
});
