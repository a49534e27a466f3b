// ZoeDepth-style routing: a small classifier on the shared encoder says which domain (e.g.
// indoor / outdoor) an image is from, and that domain's metric head gives its depth.

/**
 * Index of the domain class the router's logits pick: the argmax over classes of each class's
 * mean logit. `logits` is channel-major ([1, C] or [1, C, H, W] flattened), so a per-pixel router
 * votes by its spatial mean, and a [1, C] router is its own mean. Ties go to the lower index, as
 * torch.argmax does. Throws a RangeError when the length is not a multiple of `classes` or a
 * class's mean is not finite: no head can be chosen from that.
 */
export function pickDomain(logits: Float32Array, classes: number): number {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`pickDomain: classes must be a positive integer, got ${classes}`);
  }
  const perClass = logits.length / classes;
  if (!Number.isInteger(perClass) || perClass === 0) {
    throw new RangeError(`pickDomain: ${logits.length} logits do not split into ${classes} classes`);
  }
  let best = -1;
  let bestMean = -Infinity;
  for (let c = 0; c < classes; c++) {
    let sum = 0;
    const start = c * perClass;
    for (let i = start; i < start + perClass; i++) sum += logits[i]!;
    const mean = sum / perClass;
    if (!Number.isFinite(mean)) {
      throw new RangeError(`pickDomain: class ${c} has a non-finite mean logit (${mean})`);
    }
    if (mean > bestMean) {
      best = c;
      bestMean = mean;
    }
  }
  return best;
}

/**
 * Hysteresis for routing: the head in use changes only after the router has voted for the same
 * other head on `switchFrames` frames in a row, so a scene on the indoor/outdoor boundary does not
 * flip the depth scale frame by frame (ZoeDepth routes each image alone; a video stream needs
 * memory). The first vote is taken at once. `switchFrames` 1 is ZoeDepth's own behaviour.
 */
export class HeadSwitcher {
  #current: string | undefined;
  #candidate: string | undefined;
  #votes = 0;

  constructor(readonly switchFrames: number) {
    if (!(Number.isInteger(switchFrames) && switchFrames >= 1)) throw new RangeError(`HeadSwitcher: switchFrames must be an integer >= 1, got ${switchFrames}`);
  }

  /** The head to use for a frame whose router voted `vote`. */
  update(vote: string, switchFrames = this.switchFrames): string {
    if (this.#current === undefined || vote === this.#current) {
      this.#current = vote;
      this.#candidate = undefined;
      this.#votes = 0;
      return vote;
    }
    this.#votes = vote === this.#candidate ? this.#votes + 1 : 1;
    this.#candidate = vote;
    if (this.#votes >= switchFrames) {
      this.#current = vote;
      this.#candidate = undefined;
      this.#votes = 0;
    }
    return this.#current;
  }
}
