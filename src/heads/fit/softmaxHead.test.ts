import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../synthetic/prng.js";
import { applyHead, argmaxRows, fitSoftmaxHead, type LabelledSamples } from "./softmaxHead.js";

const C = 8;
const K = 4;

/** Features with offsets and scales per channel (so standardisation matters), labels = argmax(W·x + b). */
function samples(count: number, seed: number, label: (x: Float32Array, i: number) => number): LabelledSamples {
  const rng = mulberry32(seed);
  const features = new Float32Array(count * C);
  for (let i = 0; i < count; i++) for (let c = 0; c < C; c++) features[i * C + c] = 3 * c - 5 + (1 + c) * (rng() * 2 - 1);
  const classes = new Int32Array(count);
  for (let i = 0; i < count; i++) classes[i] = label(features, i);
  return { features, classes, count };
}

const rngW = mulberry32(99);
const TRUE_W = Float32Array.from({ length: K * C }, () => rngW() * 2 - 1);
// Biases that cancel the channel offsets (3c − 5), so every class takes a fair share of samples.
const TRUE_B = Float32Array.from({ length: K }, (_, k) => {
  let b = rngW() * 0.5;
  for (let c = 0; c < C; c++) b -= TRUE_W[k * C + c]! * (3 * c - 5);
  return b;
});
const linearLabel = (x: Float32Array, i: number): number => {
  const z = applyHead([{ inChannels: C, outChannels: K, weight: TRUE_W, bias: TRUE_B }], x.subarray(i * C, (i + 1) * C), 1);
  return argmaxRows(z, 1, K)[0]!;
};

function accuracy(layers: Parameters<typeof applyHead>[0], test: LabelledSamples): number {
  const predicted = argmaxRows(applyHead(layers, test.features, test.count), test.count, K);
  let right = 0;
  for (let i = 0; i < test.count; i++) if (predicted[i] === test.classes[i]) right++;
  return right / test.count;
}

describe("fitSoftmaxHead", () => {
  it("recovers labels that are a linear function of the features (held-out samples, raw features)", () => {
    const train = samples(10000, 1, linearLabel);
    const val = samples(1000, 2, linearLabel);
    const test = samples(2000, 3, linearLabel);
    const epochs: number[] = [];
    const head = fitSoftmaxHead(train, val, { channels: C, classes: K, head: "linear", seed: 5, weightDecay: 1e-6, onEpoch: (e) => epochs.push(e.valLoss) });
    expect(head.layers).toHaveLength(1);
    expect(accuracy(head.layers, test)).toBeGreaterThan(0.98);
    expect(head.valLoss).toBeLessThan(epochs[0]! / 4);
    // The weights themselves, up to what softmax cannot see (a vector added to every row, a scale):
    // the rows minus their mean point the same way as the true ones.
    const centred = (w: Float32Array): number[] => {
      const out: number[] = [];
      for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) {
        let mean = 0;
        for (let j = 0; j < K; j++) mean += w[j * C + c]! / K;
        out.push(w[k * C + c]! - mean);
      }
      return out;
    };
    const a = centred(head.layers[0]!.weight);
    const b = centred(TRUE_W);
    const dot = a.reduce((s, v, i) => s + v * b[i]!, 0);
    const cosine = dot / Math.hypot(...a) / Math.hypot(...b);
    expect(cosine).toBeGreaterThan(0.99);
  });

  it("the MLP head learns a non-linear rule a linear head cannot (|x0| > 1.5 vs x1 sign)", () => {
    const rule = (x: Float32Array, i: number): number => {
      const x0 = x[i * C]! + 5; // channel 0 is centred on -5
      const x1 = x[i * C + 1]! + 2;
      return (Math.abs(x0) > 0.5 ? 2 : 0) + (x1 > 0 ? 1 : 0);
    };
    const train = samples(3000, 11, rule);
    const val = samples(500, 12, rule);
    const test = samples(2000, 13, rule);
    const linear = fitSoftmaxHead(train, val, { channels: C, classes: K, head: "linear", seed: 1 });
    const mlp = fitSoftmaxHead(train, val, { channels: C, classes: K, head: "mlp", hidden: 32, seed: 1 });
    expect(mlp.layers.map((l) => [l.inChannels, l.outChannels])).toEqual([[C, 32], [32, K]]);
    const linearAccuracy = accuracy(linear.layers, test);
    const mlpAccuracy = accuracy(mlp.layers, test);
    expect(mlpAccuracy).toBeGreaterThan(0.95);
    expect(linearAccuracy).toBeLessThan(0.85);
  });

  it("stops early once the validation loss stops improving and keeps the best epoch", () => {
    // 30 % of the labels flipped at random: not separable, so the validation loss has a minimum.
    const noise = mulberry32(7);
    const noisy = (x: Float32Array, i: number): number => (noise() < 0.3 ? Math.floor(noise() * K) : linearLabel(x, i));
    const train = samples(400, 21, noisy);
    const val = samples(200, 22, noisy);
    const reports: number[] = [];
    const head = fitSoftmaxHead(train, val, { channels: C, classes: K, head: "linear", seed: 2, patience: 5, maxEpochs: 1000, onEpoch: (e) => reports.push(e.valLoss) });
    expect(head.epochs).toBeLessThan(1000);
    expect(head.epochs).toBe(reports.length);
    expect(head.epochs - head.bestEpoch).toBe(5);
    expect(head.valLoss).toBe(reports[head.bestEpoch - 1]);
    expect(head.valLoss).toBeCloseTo(Math.min(...reports), 5);
  });

  it("is deterministic for a seed", () => {
    const train = samples(300, 31, linearLabel);
    const val = samples(100, 32, linearLabel);
    const a = fitSoftmaxHead(train, val, { channels: C, classes: K, head: "mlp", hidden: 8, seed: 3, maxEpochs: 5 });
    const b = fitSoftmaxHead(train, val, { channels: C, classes: K, head: "mlp", hidden: 8, seed: 3, maxEpochs: 5 });
    expect(a.layers[0]!.weight).toEqual(b.layers[0]!.weight);
  });
});
