// Renders the synthetic world into .npy arrays for tools/train/train_demo.py (no image codecs
// needed on the Python side). Train and validation scenes come from disjoint seed ranges.
//   npx tsx tools/train/render-training-set.ts --out <dir> [--train-scenes 64] [--val-scenes 6]
//     [--frames 24] [--width 160] [--height 120] [--train-seed 1000] [--val-seed 500]

import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateScene, renderFrame, syntheticCalibration } from "../../src/synthetic/index.js";

type Dtype = "|u1" | "<f4";

/** Streams one .npy file (format 1.0): header, then the rows appended frame by frame. */
async function npyWriter(path: string, dtype: Dtype, shape: readonly number[]) {
  const file = await open(path, "w");
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const prefix = Buffer.alloc(10);
  prefix.write("\x93NUMPY", 0, "latin1");
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  await file.write(Buffer.concat([prefix, Buffer.from(header, "latin1")]));
  return {
    append: async (data: ArrayBufferView) => {
      await file.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    },
    close: () => file.close(),
  };
}

async function renderSplit(out: string, split: string, firstSeed: number, scenes: number, frames: number, width: number, height: number) {
  const n = scenes * frames;
  const rgb = await npyWriter(join(out, `${split}_rgb.npy`), "|u1", [n, height, width, 3]);
  const depth = await npyWriter(join(out, `${split}_depth.npy`), "<f4", [n, height, width]);
  const labels = await npyWriter(join(out, `${split}_labels.npy`), "|u1", [n, height, width]);
  const calibration = syntheticCalibration(width, height);
  for (let s = 0; s < scenes; s++) {
    const scene = generateScene(firstSeed + s);
    for (let f = 0; f < frames; f++) {
      const frame = renderFrame(scene, f, { calibration, framesPerLoop: frames });
      await rgb.append(frame.image.data);
      await depth.append(frame.depth);
      await labels.append(frame.labels);
    }
  }
  await Promise.all([rgb.close(), depth.close(), labels.close()]);
  return n;
}

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    "train-scenes": { type: "string", default: "64" },
    "val-scenes": { type: "string", default: "6" },
    frames: { type: "string", default: "24" },
    width: { type: "string", default: "160" },
    height: { type: "string", default: "120" },
    "train-seed": { type: "string", default: "1000" },
    "val-seed": { type: "string", default: "500" },
  },
});
if (!values.out) throw new Error("--out <dir> is required");
await mkdir(values.out, { recursive: true });
const [w, h, frames] = [Number(values.width), Number(values.height), Number(values.frames)];
const started = performance.now();
const train = await renderSplit(values.out, "train", Number(values["train-seed"]), Number(values["train-scenes"]), frames, w, h);
const val = await renderSplit(values.out, "val", Number(values["val-seed"]), Number(values["val-scenes"]), frames, w, h);
console.log(`rendered ${train} train + ${val} val frames at ${w}x${h} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
