// Segmentation logits -> per-pixel class ids.

export interface ArgmaxOptions {
  /** Label for pixels with no usable logit (all NaN or −Inf); typically the max label value. */
  readonly unlabelled: number;
  /** Channel -> class id; identity when omitted. Needs at least `classes` entries. */
  readonly classIds?: Uint16Array;
  /** Output buffer (width·height) to reuse. */
  readonly out?: Uint16Array;
  /** Scratch for the running maximum (width·height floats) to reuse. */
  readonly scratch?: Float32Array;
}

const NONE = 0xffff;

/**
 * Per-pixel argmax over planar C×H×W logits. Channels are the outer loop so both the logits and
 * the running best are read sequentially (a pixel-outer loop would stride by H·W per class).
 * Ties go to the lowest channel (strict >), as numpy/torch argmax do. NaN never wins (every
 * comparison with it is false), and a pixel whose logits are all NaN or −Inf gets `unlabelled`.
 */
export function argmaxLabels(
  logits: Float32Array,
  classes: number,
  width: number,
  height: number,
  opts: ArgmaxOptions,
): Uint16Array {
  const n = width * height;
  if (!(Number.isInteger(classes) && classes >= 1 && classes < NONE)) {
    throw new RangeError(`argmaxLabels: classes must be an integer in [1, ${NONE - 1}], got ${classes}`);
  }
  if (logits.length !== classes * n) {
    throw new RangeError(`argmaxLabels: ${logits.length} logits is not ${classes}x${height}x${width}`);
  }
  const { unlabelled, classIds } = opts;
  if (!(Number.isInteger(unlabelled) && unlabelled >= 0 && unlabelled <= 0xffff)) {
    throw new RangeError(`argmaxLabels: unlabelled must be a uint16, got ${unlabelled}`);
  }
  if (classIds && classIds.length < classes) {
    throw new RangeError(`argmaxLabels: classIds has ${classIds.length} entries for ${classes} classes`);
  }
  const out = opts.out ?? new Uint16Array(n);
  const best = opts.scratch ?? new Float32Array(n);
  if (out.length !== n || best.length !== n) throw new RangeError(`argmaxLabels: out/scratch must hold ${n} values`);

  best.fill(-Infinity);
  out.fill(NONE);
  for (let c = 0, base = 0; c < classes; c++, base += n) {
    for (let i = 0; i < n; i++) {
      const v = logits[base + i]!;
      if (v > best[i]!) {
        best[i] = v;
        out[i] = c;
      }
    }
  }
  if (classIds) {
    for (let i = 0; i < n; i++) {
      const c = out[i]!;
      out[i] = c === NONE ? unlabelled : classIds[c]!;
    }
  } else if (unlabelled !== NONE) {
    for (let i = 0; i < n; i++) if (out[i] === NONE) out[i] = unlabelled;
  }
  return out;
}
