// Fitting a segmentation head on frozen features, in TypeScript (no Python, no GPU: it runs on
// the robot). Samples are feature vectors (one per labelled pixel) with a class index. The head
// is a linear softmax classifier (a 1×1 convolution in the graph) or a two-layer MLP (1×1 conv,
// ReLU, 1×1 conv), trained with Adam on class-weighted cross-entropy plus L2 weight decay, with
// early stopping on a validation set. Features are standardised per channel while fitting and
// the standardisation folded into the first layer, so the graph applies the head to raw features.
// Pure: typed arrays in, typed arrays out.

import type { HeadLayer } from "../../onnx/graph.js";
import { mulberry32 } from "../../synthetic/prng.js";

export type HeadKind = "linear" | "mlp";
/** FitOptions.maxEpochs when not given. */
export const DEFAULT_MAX_EPOCHS = 300;
export const HEAD_KINDS: readonly HeadKind[] = ["linear", "mlp"];

/** `count` feature vectors of `channels` floats each (row-major) and their class indices 0..K-1. */
export interface LabelledSamples {
  readonly features: Float32Array;
  readonly classes: Int32Array;
  readonly count: number;
}

export interface FitOptions {
  readonly channels: number;
  readonly classes: number;
  readonly head: HeadKind;
  /** MLP hidden width; default 64. */
  readonly hidden?: number;
  /** L2 penalty on weights (not biases), λ/2·‖W‖²; default 1e-4. */
  readonly weightDecay?: number;
  /** Adam step size; default 0.01 (linear) / 0.003 (mlp). */
  readonly learningRate?: number;
  /** Default DEFAULT_MAX_EPOCHS. */
  readonly maxEpochs?: number;
  /** Default 512. */
  readonly batchSize?: number;
  /** Epochs without a better validation loss before stopping; default 15. */
  readonly patience?: number;
  readonly seed: number;
  readonly onEpoch?: (epoch: EpochReport) => void;
}

export interface EpochReport {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
}

export interface FittedHead {
  /** In graph order, applied to raw (unstandardised) features. */
  readonly layers: HeadLayer[];
  readonly epochs: number;
  /** The epoch whose parameters are kept (lowest validation loss). */
  readonly bestEpoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
}

interface Layer {
  readonly inC: number;
  readonly outC: number;
  readonly w: Float64Array;
  readonly b: Float64Array;
}

/** Logits of `count` samples (count × K) through `layers` (ReLU between layers). */
export function applyHead(layers: readonly HeadLayer[], features: Float32Array, count: number): Float32Array {
  let x: Float32Array = features;
  layers.forEach((layer, l) => {
    const { inChannels: inC, outChannels: outC, weight, bias } = layer;
    if (x.length !== count * inC) throw new RangeError(`applyHead: layer ${l} expects ${count}×${inC} values, got ${x.length}`);
    const y = new Float32Array(count * outC);
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < outC; k++) {
        let acc = bias[k]!;
        for (let c = 0; c < inC; c++) acc += weight[k * inC + c]! * x[i * inC + c]!;
        y[i * outC + k] = l < layers.length - 1 && acc < 0 ? 0 : acc;
      }
    }
    x = y;
  });
  return x;
}

/** Class index of each sample's largest logit. */
export function argmaxRows(logits: Float32Array, count: number, classes: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
    out[i] = best;
  }
  return out;
}

export function fitSoftmaxHead(train: LabelledSamples, val: LabelledSamples, options: FitOptions): FittedHead {
  const { channels: C, classes: K } = options;
  if (train.count === 0) throw new RangeError("fitSoftmaxHead: no training samples");
  if (val.count === 0) throw new RangeError("fitSoftmaxHead: no validation samples");
  for (const set of [train, val]) {
    if (set.features.length !== set.count * C) throw new RangeError(`fitSoftmaxHead: ${set.count} samples need ${set.count * C} floats, got ${set.features.length}`);
  }
  const mlp = options.head === "mlp";
  const hidden = options.hidden ?? 64;
  const weightDecay = options.weightDecay ?? 1e-4;
  const lr = options.learningRate ?? (mlp ? 0.003 : 0.01);
  const maxEpochs = options.maxEpochs ?? DEFAULT_MAX_EPOCHS;
  const batchSize = options.batchSize ?? 512;
  const patience = options.patience ?? 15;
  const rng = mulberry32(options.seed);

  const { mean, std } = channelStats(train.features, train.count, C);
  const xTrain = standardise(train.features, train.count, C, mean, std);
  const xVal = standardise(val.features, val.count, C, mean, std);
  const classWeight = balancedWeights(train.classes, K);

  const layers: Layer[] = mlp
    ? [heInit(C, hidden, rng), heInit(hidden, K, rng)]
    : [{ inC: C, outC: K, w: new Float64Array(K * C), b: new Float64Array(K) }];
  const adam = layers.map((l) => ({ mw: new Float64Array(l.w.length), vw: new Float64Array(l.w.length), mb: new Float64Array(l.b.length), vb: new Float64Array(l.b.length) }));
  const grads = layers.map((l) => ({ w: new Float64Array(l.w.length), b: new Float64Array(l.b.length) }));
  let step = 0;

  let best = { loss: Infinity, epoch: 0, trainLoss: NaN, layers: layers.map(copyLayer) };
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  let epoch = 0;
  for (epoch = 1; epoch <= maxEpochs; epoch++) {
    shuffle(order, rng);
    let lossSum = 0;
    let weightSum = 0;
    for (let start = 0; start < train.count; start += batchSize) {
      const batch = order.subarray(start, Math.min(train.count, start + batchSize));
      for (const g of grads) {
        g.w.fill(0);
        g.b.fill(0);
      }
      const { loss, weight } = forwardBackward(layers, xTrain, train.classes, batch, classWeight, grads);
      lossSum += loss;
      weightSum += weight;
      step++;
      layers.forEach((layer, l) => {
        const g = grads[l]!;
        const a = adam[l]!;
        for (let i = 0; i < layer.w.length; i++) g.w[i] = g.w[i]! / weight + weightDecay * layer.w[i]!;
        for (let i = 0; i < layer.b.length; i++) g.b[i] = g.b[i]! / weight;
        adamStep(layer.w, g.w, a.mw, a.vw, lr, step);
        adamStep(layer.b, g.b, a.mb, a.vb, lr, step);
      });
    }
    const trainLoss = lossSum / weightSum;
    const valLoss = meanLoss(layers, xVal, val.classes, classWeight);
    options.onEpoch?.({ epoch, trainLoss, valLoss });
    if (valLoss < best.loss - 1e-6) best = { loss: valLoss, epoch, trainLoss, layers: layers.map(copyLayer) };
    else if (epoch - best.epoch >= patience) break;
  }
  return {
    layers: foldStandardisation(best.layers, mean, std),
    epochs: Math.min(epoch, maxEpochs),
    bestEpoch: best.epoch,
    trainLoss: best.trainLoss,
    valLoss: best.loss,
  };
}

function channelStats(x: Float32Array, n: number, C: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(C);
  const std = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x[i * C + c]!;
    const m = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (x[i * C + c]! - m) ** 2;
    mean[c] = m;
    std[c] = squares;
  }
  // A constant channel (a dead ReLU) keeps scale 1: dividing by ~0 would blow its weight up.
  for (let c = 0; c < C; c++) std[c] = Math.sqrt(std[c]! / n) || 1;
  return { mean, std };
}

function standardise(x: Float32Array, n: number, C: number, mean: Float64Array, std: Float64Array): Float64Array {
  const out = new Float64Array(n * C);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) out[i * C + c] = (x[i * C + c]! - mean[c]!) / std[c]!;
  return out;
}

/** Weight n / (K_present · n_k) per class, so every labelled class counts the same in the loss. */
function balancedWeights(classes: Int32Array, K: number): Float64Array {
  const counts = new Float64Array(K);
  for (const k of classes) counts[k] = counts[k]! + 1;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? classes.length / (present * c) : 0));
}

function heInit(inC: number, outC: number, rng: () => number): Layer {
  const bound = Math.sqrt(6 / inC);
  return { inC, outC, w: Float64Array.from({ length: inC * outC }, () => (rng() * 2 - 1) * bound), b: new Float64Array(outC) };
}

function copyLayer(l: Layer): Layer {
  return { inC: l.inC, outC: l.outC, w: l.w.slice(), b: l.b.slice() };
}

function shuffle(a: Int32Array, rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** Forward of one sample through all layers; returns each layer's output (ReLU applied to hidden ones). */
function forward(layers: readonly Layer[], x: Float64Array, offset: number, acts: Float64Array[]): void {
  let input = x;
  let inOffset = offset;
  layers.forEach((layer, l) => {
    const out = acts[l]!;
    for (let k = 0; k < layer.outC; k++) {
      let acc = layer.b[k]!;
      for (let c = 0; c < layer.inC; c++) acc += layer.w[k * layer.inC + c]! * input[inOffset + c]!;
      out[k] = l < layers.length - 1 && acc < 0 ? 0 : acc;
    }
    input = out;
    inOffset = 0;
  });
}

/** Softmax in place over `z`; returns log-sum-exp. */
function softmaxInPlace(z: Float64Array): number {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp(z[k]! - max);
    sum += z[k]!;
  }
  for (let k = 0; k < z.length; k++) z[k] = z[k]! / sum;
  return max + Math.log(sum);
}

function forwardBackward(
  layers: readonly Layer[],
  x: Float64Array,
  classes: Int32Array,
  batch: Int32Array,
  classWeight: Float64Array,
  grads: readonly { w: Float64Array; b: Float64Array }[],
): { loss: number; weight: number } {
  const acts = layers.map((l) => new Float64Array(l.outC));
  const deltas = layers.map((l) => new Float64Array(l.outC));
  const C = layers[0]!.inC;
  let loss = 0;
  let weight = 0;
  for (const i of batch) {
    const target = classes[i]!;
    const wt = classWeight[target]!;
    forward(layers, x, i * C, acts);
    const z = acts[acts.length - 1]!;
    const logit = z[target]!;
    const lse = softmaxInPlace(z);
    loss += wt * (lse - logit);
    weight += wt;
    const top = deltas[deltas.length - 1]!;
    for (let k = 0; k < z.length; k++) top[k] = wt * (z[k]! - (k === target ? 1 : 0));
    for (let l = layers.length - 1; l >= 0; l--) {
      const layer = layers[l]!;
      const d = deltas[l]!;
      const input = l === 0 ? x.subarray(i * C, i * C + C) : acts[l - 1]!;
      const g = grads[l]!;
      for (let k = 0; k < layer.outC; k++) {
        const dk = d[k]!;
        if (dk === 0) continue;
        g.b[k] = g.b[k]! + dk;
        const row = k * layer.inC;
        for (let c = 0; c < layer.inC; c++) g.w[row + c] = g.w[row + c]! + dk * input[c]!;
      }
      if (l > 0) {
        const below = deltas[l - 1]!;
        const belowAct = acts[l - 1]!;
        for (let c = 0; c < layer.inC; c++) {
          if (belowAct[c]! <= 0) {
            below[c] = 0;
            continue;
          }
          let acc = 0;
          for (let k = 0; k < layer.outC; k++) acc += layer.w[k * layer.inC + c]! * d[k]!;
          below[c] = acc;
        }
      }
    }
  }
  return { loss, weight };
}

function meanLoss(layers: readonly Layer[], x: Float64Array, classes: Int32Array, classWeight: Float64Array): number {
  const acts = layers.map((l) => new Float64Array(l.outC));
  const C = layers[0]!.inC;
  let loss = 0;
  let weight = 0;
  for (let i = 0; i < classes.length; i++) {
    const target = classes[i]!;
    // A validation class never seen in training has weight 0 there; count it as 1 so it is not free.
    const wt = classWeight[target]! || 1;
    forward(layers, x, i * C, acts);
    const z = acts[acts.length - 1]!;
    const logit = z[target]!;
    loss += wt * (softmaxInPlace(z) - logit);
    weight += wt;
  }
  return loss / weight;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

function adamStep(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, lr: number, t: number): void {
  const c1 = 1 - BETA1 ** t;
  const c2 = 1 - BETA2 ** t;
  for (let i = 0; i < p.length; i++) {
    m[i] = BETA1 * m[i]! + (1 - BETA1) * g[i]!;
    v[i] = BETA2 * v[i]! + (1 - BETA2) * g[i]! * g[i]!;
    p[i] = p[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + EPSILON);
  }
}

/** First layer on raw features: W' = W / σ (per input channel), b' = b − W'·μ. */
function foldStandardisation(layers: readonly Layer[], mean: Float64Array, std: Float64Array): HeadLayer[] {
  return layers.map((layer, l) => {
    const weight = new Float32Array(layer.w.length);
    const bias = new Float32Array(layer.outC);
    for (let k = 0; k < layer.outC; k++) {
      let b = layer.b[k]!;
      for (let c = 0; c < layer.inC; c++) {
        const w = l === 0 ? layer.w[k * layer.inC + c]! / std[c]! : layer.w[k * layer.inC + c]!;
        weight[k * layer.inC + c] = w;
        if (l === 0) b -= w * mean[c]!;
      }
      bias[k] = b;
    }
    return { inChannels: layer.inC, outChannels: layer.outC, weight, bias };
  });
}
