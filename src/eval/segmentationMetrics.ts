// Semantic segmentation metrics from a confusion matrix accumulated over a dataset (the way
// mmsegmentation / the Cityscapes scripts do it: per-class IoU from the summed matrix, not a mean
// of per-image IoUs). Pure: typed arrays in, numbers out.
//
// Rules:
// - Pixels whose ground truth equals the ignore index are skipped entirely.
// - Every other pixel counts. A prediction that is not a class (the pipeline's "unlabelled" value,
//   255 or 65535) is wrong: it is a false negative of the ground-truth class and a false positive
//   of no class.
// - The classes reported are the model's class ids plus every id that occurs in the ground truth
//   (an id the model cannot predict still has its IoU, 0).
// - IoU_c = TP / (TP + FP + FN). A class absent from both ground truth and prediction has
//   TP + FP + FN = 0: its IoU is NaN and it is left out of mIoU (the mean of the others).
// - Pixel accuracy = Σ_c TP_c / counted pixels.

/** Ground truth or prediction ids: 8- or 16-bit, one per pixel. */
export type LabelArray = Uint8Array | Uint16Array;

export interface ClassIoU {
  readonly id: number;
  readonly name?: string;
  /** NaN when the class is absent from both ground truth and prediction. */
  readonly iou: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** Ground-truth pixels of the class (TP + FN). */
  readonly gtPixels: number;
}

export interface SegmentationMetrics {
  readonly classes: readonly ClassIoU[];
  /** Mean IoU over the classes whose IoU is not NaN; NaN when there is none. */
  readonly mIoU: number;
  /** NaN when no pixel was counted. */
  readonly pixelAccuracy: number;
  /** Pixels counted (not ignored). */
  readonly pixels: number;
  /** Pixels skipped because the ground truth was the ignore index. */
  readonly ignored: number;
}

const ID_SPACE = 65536;

export class ConfusionMatrix {
  /** Compact row/column index of each id seen, -1 when not seen. */
  readonly #index = new Int32Array(ID_SPACE).fill(-1);
  readonly #ids: number[] = [];
  /** Ids that are classes: the model's, and those seen in ground truth. */
  readonly #isClass: boolean[] = [];
  readonly #names = new Map<number, string>();
  #capacity = 0;
  /** counts[gtIndex * capacity + predIndex]. */
  #counts = new Float64Array(0);
  #pixels = 0;
  #ignored = 0;

  /** `classes`: the model's classes, reported even when a dataset never shows them. */
  constructor(classes: readonly { readonly id: number; readonly name?: string }[] = []) {
    for (const c of classes) {
      this.#isClass[this.#indexOf(c.id)] = true;
      if (c.name !== undefined) this.#names.set(c.id, c.name);
    }
  }

  get pixels(): number {
    return this.#pixels;
  }

  get ignored(): number {
    return this.#ignored;
  }

  /**
   * Adds one frame. `ignoreIndex` undefined (or outside 0..65535) ignores nothing.
   */
  accumulate(gt: LabelArray, pred: LabelArray, ignoreIndex?: number): void {
    if (gt.length !== pred.length) {
      throw new RangeError(`ground-truth labels have ${gt.length} pixels, prediction ${pred.length}`);
    }
    const ignore = ignoreIndex ?? -1;
    const index = this.#index;
    for (let i = 0; i < gt.length; i++) {
      const g = gt[i]!;
      if (g === ignore) {
        this.#ignored++;
        continue;
      }
      let gi = index[g]!;
      if (gi < 0 || !this.#isClass[gi]) {
        gi = this.#indexOf(g);
        this.#isClass[gi] = true;
      }
      const p = pred[i]!;
      let pi = index[p]!;
      if (pi < 0) pi = this.#indexOf(p);
      this.#counts[gi * this.#capacity + pi]!++;
      this.#pixels++;
    }
  }

  /** Adds another matrix's counts (e.g. one frame's into the dataset's). */
  merge(other: ConfusionMatrix): void {
    for (let gi = 0; gi < other.#ids.length; gi++) {
      const g = other.#ids[gi]!;
      const mine = this.#indexOf(g);
      if (other.#isClass[gi]) this.#isClass[mine] = true;
      const name = other.#names.get(g);
      if (name !== undefined && !this.#names.has(g)) this.#names.set(g, name);
    }
    for (let gi = 0; gi < other.#ids.length; gi++) {
      for (let pi = 0; pi < other.#ids.length; pi++) {
        const c = other.#counts[gi * other.#capacity + pi]!;
        if (c === 0) continue;
        this.#counts[this.#index[other.#ids[gi]!]! * this.#capacity + this.#index[other.#ids[pi]!]!]! += c;
      }
    }
    this.#pixels += other.#pixels;
    this.#ignored += other.#ignored;
  }

  /** Pixels with ground truth `gtId` predicted as `predId`. */
  count(gtId: number, predId: number): number {
    const gi = this.#index[gtId] ?? -1;
    const pi = this.#index[predId] ?? -1;
    return gi < 0 || pi < 0 ? 0 : this.#counts[gi * this.#capacity + pi]!;
  }

  metrics(): SegmentationMetrics {
    const n = this.#ids.length;
    const cap = this.#capacity;
    const classes: ClassIoU[] = [];
    let correct = 0;
    for (let ci = 0; ci < n; ci++) {
      if (!this.#isClass[ci]) continue;
      let row = 0;
      let col = 0;
      for (let k = 0; k < n; k++) {
        row += this.#counts[ci * cap + k]!;
        col += this.#counts[k * cap + ci]!;
      }
      const tp = this.#counts[ci * cap + ci]!;
      const fn = row - tp;
      const fp = col - tp;
      const union = tp + fp + fn;
      const id = this.#ids[ci]!;
      const name = this.#names.get(id);
      classes.push({ id, ...(name !== undefined ? { name } : {}), iou: union > 0 ? tp / union : NaN, tp, fp, fn, gtPixels: row });
      correct += tp;
    }
    classes.sort((a, b) => a.id - b.id);
    const present = classes.filter((c) => !Number.isNaN(c.iou));
    const mIoU = present.length > 0 ? present.reduce((sum, c) => sum + c.iou, 0) / present.length : NaN;
    return {
      classes,
      mIoU,
      pixelAccuracy: this.#pixels > 0 ? correct / this.#pixels : NaN,
      pixels: this.#pixels,
      ignored: this.#ignored,
    };
  }

  #indexOf(id: number): number {
    if (!(Number.isInteger(id) && id >= 0 && id < ID_SPACE)) throw new RangeError(`label id ${id} is not in 0..65535`);
    const existing = this.#index[id]!;
    if (existing >= 0) return existing;
    const index = this.#ids.length;
    this.#ids.push(id);
    this.#isClass[index] = false;
    this.#index[id] = index;
    if (this.#ids.length > this.#capacity) this.#grow(Math.max(8, this.#capacity * 2));
    return index;
  }

  #grow(capacity: number): void {
    const counts = new Float64Array(capacity * capacity);
    for (let r = 0; r < this.#capacity; r++) {
      counts.set(this.#counts.subarray(r * this.#capacity, (r + 1) * this.#capacity), r * capacity);
    }
    this.#counts = counts;
    this.#capacity = capacity;
  }
}
