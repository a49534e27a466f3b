// Depth image -> organised PointCloud2 bytes in the camera's optical frame (REP 103: x right,
// y down, z forward), like depth_image_proc's point_cloud_xyzrgb but on typed arrays: one pass
// over the (decimated) grid writes x y z rgb label of each point straight into the cloud buffer,
// with no intermediate xyz array and no per-point allocation. The pass is the WebAssembly SIMD
// kernel of backprojectCloud.wat: in V8 a plain JS loop stays at 2-2.5x a C -O2 loop (every
// typed-array access re-checks the array's map and bounds), the kernel runs at about 1x
// (`npm run bench`, first row).

import type { PinholeIntrinsics } from "../frame.js";
import { BACKPROJECT_CLOUD_WASM_BASE64 } from "./backprojectCloudWasm.js";
import { decimatedSize } from "./intrinsics.js";
import { POINT_FIELDS, POINT_STEP, type PackedPointCloud } from "./pointcloud2.js";

export interface BackProjectOptions {
  /** Keep every n-th pixel in u and v, starting at 0 (1 = every pixel). */
  readonly decimation: number;
  /** Depths below this (metres) become NaN points. */
  readonly minRange: number;
  /** Depths above this (metres) become NaN points; may be Infinity. */
  readonly maxRange: number;
}

/** The per-point colour and label sources, at camera resolution (the kernel samples the grid). */
export interface PointAttributes {
  /** rgb8, 3 bytes per pixel, intrinsics' width x height; missing = black (rgb bits 0). */
  readonly rgb: Uint8Array | undefined;
  /** Label id per pixel, width x height; missing = `unlabelled` everywhere. */
  readonly labels: Uint16Array | undefined;
  /** The label of every point when `labels` is missing (a uint16). */
  readonly unlabelled: number;
}

// The inputs are copied into the kernel's memory in host byte order, and WebAssembly memory is
// little-endian. Every platform Node 20 ships for (x86-64, arm64) is little-endian: check once.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// The kernel writes the fields at fixed offsets; this is the layout it was written for.
const KERNEL_LAYOUT = "x:0:7 y:4:7 z:8:7 rgb:12:7 label:16:6";
if (POINT_STEP !== 20 || POINT_FIELDS.map((f) => `${f.name}:${f.offset}:${f.datatype}`).join(" ") !== KERNEL_LAYOUT) {
  throw new Error("internal: POINT_FIELDS changed; backprojectCloud.wat writes " + KERNEL_LAYOUT);
}

type CloudKernel = (
  depth: number, rgb: number, labels: number, cols: number, out: number,
  width: number, gridWidth: number, gridHeight: number, decimation: number,
  cy: number, fy: number, min: number, max: number,
  hasRgb: number, hasLabels: number, unlabelled: number,
) => void;

const KERNEL_MODULE = new WebAssembly.Module(Buffer.from(BACKPROJECT_CLOUD_WASM_BASE64, "base64"));
const WASM_PAGE = 65536;
/** The 16-byte rgb loads of the last 4 pixels read up to 4 bytes past the image. */
const RGB_SLACK = 16;

/** WebAssembly (32-bit) memory ends at 4 GiB. */
const WASM_MEMORY_LIMIT = 2 ** 32;

function align16(offset: number): number {
  return Math.ceil(offset / 16) * 16;
}

/**
 * Reusable PointCloud2 bytes that backProjectCloud fills in place, without a copy: a WebAssembly
 * memory holding the cloud at offset 0 and, after it, the kernel's copies of the depth, rgb and
 * labels. Like any reused output, a fill overwrites the previous one; one that needs more room
 * grows the memory, which also detaches the previous fill's bytes (length 0).
 */
export class CloudBuffer {
  readonly #memory = new WebAssembly.Memory({ initial: 1 });
  readonly #kernel: CloudKernel;

  constructor() {
    const instance = new WebAssembly.Instance(KERNEL_MODULE, { env: { memory: this.#memory } });
    this.#kernel = instance.exports.cloud as CloudKernel;
  }

  /** The kernel's pass; backProjectCloud has checked every argument. */
  fill(
    depth: Float32Array,
    intr: PinholeIntrinsics,
    opts: BackProjectOptions,
    attributes: PointAttributes,
    gridWidth: number,
    gridHeight: number,
  ): Uint8Array {
    const { width, height, fx, fy, cx, cy } = intr;
    const pixels = width * height;
    const cloudBytes = gridWidth * gridHeight * POINT_STEP;
    const depthAt = align16(cloudBytes);
    const labelsAt = align16(depthAt + 4 * pixels);
    const rgbAt = align16(labelsAt + 2 * pixels);
    const colsAt = align16(rgbAt + 3 * pixels + RGB_SLACK);
    const end = colsAt + 8 * gridWidth;
    if (end > WASM_MEMORY_LIMIT) {
      throw new RangeError(`backProjectCloud: a ${width}x${height} image needs ${end} bytes of kernel memory, over the 4 GiB WebAssembly limit`);
    }
    const have = this.#memory.buffer.byteLength;
    if (end > have) this.#memory.grow(Math.ceil((end - have) / WASM_PAGE));
    const memory = this.#memory.buffer;

    new Float32Array(memory, depthAt, pixels).set(depth);
    const { rgb, labels, unlabelled } = attributes;
    if (rgb) new Uint8Array(memory, rgbAt, rgb.length).set(rgb);
    if (labels) new Uint16Array(memory, labelsAt, labels.length).set(labels);
    // (u − cx)/fx depends only on the column: once per grid column, in float64 as the products.
    const n = opts.decimation;
    const cols = new Float64Array(memory, colsAt, gridWidth);
    for (let j = 0; j < gridWidth; j++) cols[j] = (j * n - cx) / fx;
    // Missing rgb or labels: their pointers address the depth copy, which the kernel reads
    // without using (see the .wat).
    this.#kernel(
      depthAt, rgb ? rgbAt : depthAt, labels ? labelsAt : depthAt, colsAt, 0,
      width, gridWidth, gridHeight, n,
      cy, fy, float32AtLeast(opts.minRange), float32AtMost(opts.maxRange),
      rgb ? 1 : 0, labels ? 1 : 0, unlabelled,
    );
    return new Uint8Array(memory, 0, cloudBytes);
  }
}

/** For `out` given as plain bytes, or none: the kernel fills this, then its bytes are copied. */
let scratch: CloudBuffer | undefined;

/**
 * Back-projects `depth` (metres along z, row-major intr.width x intr.height, NaN = invalid):
 * x = (u − cx)·z/fx, y = (v − cy)·z/fy, and packs each point of the decimated grid with the rgb
 * and label of its pixel into PointCloud2 bytes (layout POINT_FIELDS). Depths that are
 * non-finite or outside [minRange, maxRange] give an x y z NaN point (colour and label kept), so
 * the cloud stays organised. `out` is reused when given: a CloudBuffer is filled in place (the
 * pipeline's way, no copy); plain bytes (gridWidth·gridHeight·POINT_STEP of them) get a copy of
 * the kernel's output. Every byte of the cloud is written.
 */
export function backProjectCloud(
  depth: Float32Array,
  intr: PinholeIntrinsics,
  opts: BackProjectOptions,
  attributes: PointAttributes,
  out?: CloudBuffer | Uint8Array,
): PackedPointCloud {
  if (!HOST_LITTLE_ENDIAN) throw new Error("backProjectCloud: big-endian hosts are not supported");
  const { width, height } = intr;
  if (depth.length !== width * height) {
    throw new RangeError(`backProjectCloud: depth has ${depth.length} values, intrinsics say ${width}x${height}`);
  }
  const { minRange, maxRange, decimation: n } = opts;
  if (!(minRange >= 0 && maxRange > minRange)) {
    throw new RangeError(`backProjectCloud: need 0 <= minRange < maxRange, got [${minRange}, ${maxRange}]`);
  }
  const { rgb, labels, unlabelled } = attributes;
  if (rgb && rgb.length !== width * height * 3) {
    throw new RangeError(`backProjectCloud: rgb has ${rgb.length} bytes, need ${width}x${height}x3`);
  }
  if (labels && labels.length !== width * height) {
    throw new RangeError(`backProjectCloud: labels has ${labels.length} values, need ${width}x${height}`);
  }
  if (!(Number.isInteger(unlabelled) && unlabelled >= 0 && unlabelled <= 0xffff)) {
    throw new RangeError(`backProjectCloud: unlabelled must be a uint16, got ${unlabelled}`);
  }
  const grid = decimatedSize(width, height, n);
  const count = grid.width * grid.height;
  let data: Uint8Array;
  if (out instanceof CloudBuffer) {
    data = out.fill(depth, intr, opts, attributes, grid.width, grid.height);
  } else {
    if (out && out.length !== count * POINT_STEP) {
      throw new RangeError(`backProjectCloud: out has ${out.length} bytes, need ${count * POINT_STEP}`);
    }
    const filled = (scratch ??= new CloudBuffer()).fill(depth, intr, opts, attributes, grid.width, grid.height);
    data = out ?? new Uint8Array(filled.length);
    data.set(filled);
  }
  return {
    fields: POINT_FIELDS,
    pointStep: POINT_STEP,
    rowStep: POINT_STEP * grid.width,
    width: grid.width,
    height: grid.height,
    data,
    isBigendian: false,
    isDense: false,
  };
}

// The kernel compares float32 depths with float32 bounds; rounded inwards, `d >= bound` gives
// for every float32 d what `d >= minRange` (`d <= maxRange`) gives in float64.
const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);

/** The least float32 >= `value` (value >= 0). */
function float32AtLeast(value: number): number {
  F32[0] = value;
  if (F32[0]! < value) F32_BITS[0]! += 1;
  return F32[0]!;
}

/** The greatest float32 <= `value` (value > 0; Infinity gives the greatest finite float32, so +Inf depths fail). */
function float32AtMost(value: number): number {
  F32[0] = value;
  if (F32[0]! > value || F32[0] === Infinity) F32_BITS[0]! -= 1;
  return F32[0]!;
}
