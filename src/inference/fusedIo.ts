// fused_io: the bundle's pre- and post-processing as ONNX nodes around the model graph, so the
// provider that runs the model (CUDA/TensorRT on a GPU, the multi-threaded CPU provider here)
// runs them too and the JS side only moves bytes: in, the camera's rgb8 image as uint8
// [H, W, 3]; out, metric depth and class-id labels at camera resolution.
//
// The nodes follow the JS path (preprocess.ts toInputTensor, frameProcessor.ts postprocess) step
// for step; where ONNX Resize and OpenCV differ, docs/models.md ("fused_io") says by how much.
// Pure graph editing: bytes of a ModelProto in, the edited ModelProto out, no I/O.

import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import type { Interpolation, ModelBundle } from "./bundle.js";
import {
  allNames,
  defaultOpset,
  floatTensor,
  GraphEditError,
  graphInputNames,
  graphOf,
  graphOutputNames,
  int64Tensor,
  intAttr,
  node,
  removeOutputs,
  stringAttr,
  type Node,
  type OnnxModel,
} from "../onnx/graph.js";

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;

/** uint8 [H, W, 3], the camera image in rgb8 (whatever the model's channel order). */
export const FUSED_IMAGE_INPUT = "depthseg_camera_image";
/** float32 [2]: [range.min, range.max] in metres (max Infinity for none), applied as applyDepthRange. */
export const FUSED_RANGE_INPUT = "depthseg_depth_range";
/** float32 [H, W]: metres, NaN invalid (toMetricDepth, the upsample, the range). */
export const FUSED_DEPTH_OUTPUT = "depthseg_camera_depth";
/** uint16 [H, W]: labels.yaml class ids (argmax at model resolution, nearest to the camera). */
export const FUSED_LABELS_OUTPUT = "depthseg_camera_labels";

const P = "depthseg_fused";

/** What wrapping needs of a bundle (structured-clonable, for the inference worker). */
export type FusedBundle = Pick<ModelBundle, "input" | "outputs" | "heads">;

/** Why the bundle cannot be fused, or undefined when it can. */
export function fusedIoUnsupported(bundle: FusedBundle): string | undefined {
  const { depth, domain, sky } = bundle.outputs;
  if (Object.keys(bundle.heads).length > 0 || domain) return "routed depth heads (outputs.domain) pick a head per frame in JS";
  if (sky) return "outputs.sky masking is not fused";
  if (depth.kind !== "metric") return `${depth.kind} depth needs the per-frame scale and shift (scale recovery) in JS`;
  if (depth.canonicalFocal !== undefined) return "canonical_focal needs the camera intrinsics per frame";
  if (bundle.input.interpolation === "area") return "input.interpolation area (OpenCV INTER_AREA) has no ONNX Resize mode";
  return undefined;
}

function doubleTensor(name: string, values: readonly number[]): OnnxTypes.TensorProto {
  const data = Float64Array.from(values);
  return onnx.TensorProto.create({ name, dims: [values.length], dataType: DataType.DOUBLE, rawData: new Uint8Array(data.buffer) });
}

function int64Scalar(name: string, value: bigint): OnnxTypes.TensorProto {
  return onnx.TensorProto.create({ name, dims: [], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.of(value).buffer) });
}

function floatAttr(name: string, value: number): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): OnnxTypes.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
  });
}

/** Resize attributes reproducing the JS path's OpenCV / PyTorch convention for `mode`. */
function resizeAttrs(mode: Exclude<Interpolation, "nearest"> | "align_corners"): OnnxTypes.IAttributeProto[] {
  switch (mode) {
    case "linear": // cv::INTER_LINEAR: half-pixel centres, edge clamped.
      return [stringAttr("mode", "linear"), stringAttr("coordinate_transformation_mode", "half_pixel")];
    case "cubic": // cv::INTER_CUBIC: half-pixel centres, a = -0.75 (ONNX's default too).
      return [stringAttr("mode", "cubic"), stringAttr("coordinate_transformation_mode", "half_pixel"), floatAttr("cubic_coeff_a", -0.75)];
    case "align_corners": // PyTorch interpolate(bilinear, align_corners=True), Depth Anything V2's upsample.
      return [stringAttr("mode", "linear"), stringAttr("coordinate_transformation_mode", "align_corners")];
    case "area":
      throw new GraphEditError("input.interpolation area (OpenCV INTER_AREA) has no ONNX Resize mode");
  }
}

/**
 * Wraps `model` (in place) for the bundle: the graph's input becomes FUSED_IMAGE_INPUT (uint8
 * [H, W, 3], any camera size) and FUSED_RANGE_INPUT, its outputs FUSED_DEPTH_OUTPUT, (with a
 * segmentation output) FUSED_LABELS_OUTPUT and the model's own depth output, last; its other
 * outputs are dropped. Needs opset 11
 * or newer (Resize with sizes, Round) and a bundle fusedIoUnsupported accepts.
 */
export function wrapFusedIo(model: OnnxModel, bundle: FusedBundle): void {
  const why = fusedIoUnsupported(bundle);
  if (why !== undefined) throw new GraphEditError(`fused_io cannot wrap this bundle: ${why}`);
  const opset = defaultOpset(model);
  if (opset < 11) throw new GraphEditError(`the graph imports opset ${opset}; fused_io needs opset 11 or newer (Resize with sizes)`);
  const graph = graphOf(model);
  const spec = bundle.input;
  const inputs = graphInputNames(model);
  if (inputs.length !== 1 || inputs[0] !== spec.name) {
    throw new GraphEditError(`fused_io needs the graph's one input to be "${spec.name}"; it has ${JSON.stringify(inputs)}`);
  }
  const outputs = graphOutputNames(model);
  const depth = bundle.outputs.depth;
  const seg = bundle.outputs.segmentation;
  for (const name of [depth.name, ...(seg ? [seg.name] : [])]) {
    if (!outputs.includes(name)) throw new GraphEditError(`"${name}" is not an output of the graph (outputs: ${JSON.stringify(outputs)})`);
  }
  const taken = allNames(graph);
  for (const name of [FUSED_IMAGE_INPUT, FUSED_RANGE_INPUT, FUSED_DEPTH_OUTPUT, FUSED_LABELS_OUTPUT]) {
    if (taken.has(name)) throw new GraphEditError(`the graph already has a tensor named "${name}"`);
  }

  const init = (t: OnnxTypes.TensorProto): string => {
    graph.initializer.push(t);
    return t.name;
  };
  const t = (suffix: string): string => `${P}.${suffix}`;
  const front: Node[] = [];
  const back: Node[] = [];
  const add = (list: Node[], op: string, ins: string[], out: string, attrs: OnnxTypes.IAttributeProto[] = []): string => {
    list.push(node(op, `${P}/${out}`, ins, [t(out)], attrs));
    return t(out);
  };
  /**
   * Source index of each of `dstLen` destination pixels along one axis ([1] int64 lengths):
   * "floor", cv::INTER_NEAREST: floor(x · (1 / (dst/src))) in double, as OpenCV's resizeNN;
   * "exact", cv::INTER_NEAREST_EXACT: (x · ifx + ifx0) >> 16 with ifx = ((src << 16) + dst / 2) / dst
   * and ifx0 = ifx / 2 − src % 2, OpenCV's 16.16 fixed point (resizeNN_bitexact). Both clamped to src − 1.
   */
  const nearestIndices = (list: Node[], srcLen: string, dstLen: string, kind: "floor" | "exact", what: string): string => {
    const scalarShape = init(int64Tensor(t(`${what}_scalar`), []));
    const i64 = (name: string, v: bigint): string => init(int64Tensor(t(`${what}_${name}`), [v]));
    const dst0 = add(list, "Reshape", [dstLen, scalarShape], `${what}_dst0`);
    const xs = add(list, "Range", [init(int64Scalar(t(`${what}_zero`), 0n)), dst0, init(int64Scalar(t(`${what}_one`), 1n))], `${what}_x`);
    let idx: string;
    if (kind === "floor") {
      const src = add(list, "Cast", [srcLen], `${what}_src_f64`, [intAttr("to", DataType.DOUBLE)]);
      const dst = add(list, "Cast", [dstLen], `${what}_dst_f64`, [intAttr("to", DataType.DOUBLE)]);
      const ifx = add(list, "Div", [init(doubleTensor(t(`${what}_unit`), [1])), add(list, "Div", [dst, src], `${what}_inv_scale`)], `${what}_ifx`);
      const xf = add(list, "Cast", [xs], `${what}_x_f64`, [intAttr("to", DataType.DOUBLE)]);
      idx = add(list, "Cast", [add(list, "Floor", [add(list, "Mul", [xf, ifx], `${what}_sx`)], `${what}_floor`)], `${what}_idx`, [intAttr("to", DataType.INT64)]);
    } else {
      const num = add(list, "Add", [add(list, "Mul", [srcLen, i64("q16", 65536n)], `${what}_src16`), add(list, "Div", [dstLen, i64("two", 2n)], `${what}_half_dst`)], `${what}_num`);
      const ifx = add(list, "Div", [num, dstLen], `${what}_ifx`);
      const ifx0 = add(list, "Sub", [add(list, "Div", [ifx, i64("two_b", 2n)], `${what}_half_ifx`), add(list, "Mod", [srcLen, i64("two_c", 2n)], `${what}_odd`)], `${what}_ifx0`);
      idx = add(list, "Div", [add(list, "Add", [add(list, "Mul", [xs, ifx], `${what}_fx`), ifx0], `${what}_fx0`), i64("q16b", 65536n)], `${what}_idx`);
    }
    const last = add(list, "Sub", [srcLen, i64("one_b", 1n)], `${what}_last`);
    return add(list, "Where", [add(list, "Less", [idx, last], `${what}_inside`), idx, last], `${what}_clamped`);
  };
  // Opsets 11 and 12 have roi and scales as required inputs: empty tensors stand for "none".
  const [roi, scales] =
    opset < 13 ? [init(floatTensor(t("roi"), [0], new Float32Array(0))), init(floatTensor(t("scales"), [0], new Float32Array(0)))] : ["", ""];

  // --- Front: camera uint8 [H, W, 3] → model input [1, 3, h, w] --------------------------------
  const img = FUSED_IMAGE_INPUT;
  const shape = add(front, "Shape", [img], "camera_shape");
  const cameraHW = add(front, "Slice", [shape, init(int64Tensor(t("c0"), [0n])), init(int64Tensor(t("c2"), [2n]))], "camera_hw");
  // modelInputSize in double precision, as JS computes it; ONNX Round is half-to-even like np.round.
  const hw = add(front, "Cast", [cameraHW], "camera_hw_f64", [intAttr("to", DataType.DOUBLE)]);
  const target = init(doubleTensor(t("target_hw"), [spec.height, spec.width]));
  let scale = add(front, "Div", [target, hw], "scale_hw");
  if (spec.resize === "keep_aspect_lower_bound") scale = add(front, "ReduceMax", [scale], "scale", [intAttr("keepdims", 1)]);
  const scaled = add(front, "Mul", [scale, hw], "scaled_hw");
  const m = init(doubleTensor(t("multiple"), [spec.multipleOf]));
  const perM = add(front, "Div", [scaled, m], "scaled_per_multiple");
  const nearest = add(front, "Mul", [add(front, "Round", [perM], "rounded"), m], "nearest_multiple");
  const up = add(front, "Mul", [add(front, "Ceil", [perM], "ceiled"), m], "up_multiple");
  const sized = add(front, "Where", [add(front, "Less", [nearest, target], "below_target"), up, nearest], "model_hw_f64");
  const modelHW = add(front, "Cast", [sized], "model_hw", [intAttr("to", DataType.INT64)]);
  const one3 = init(int64Tensor(t("n1c3"), [1n, 3n]));
  const inputSizes = add(front, "Concat", [one3, modelHW], "input_sizes", [intAttr("axis", 0)]);

  const scalar = (name: string, v: number): string => init(floatTensor(t(name), [], Float32Array.of(v)));
  let x = img;
  if (spec.interpolation === "nearest") {
    // cv::INTER_NEAREST picks source pixels, so Gathers of exactly those rows and columns (ONNX
    // Resize's float32 scale would pick a neighbour wherever src/dst is not exact).
    // Columns first: the row Gather then copies whole rows of the narrower result.
    for (const axis of [1, 0] as const) {
      const which = axis === 0 ? "rows" : "cols";
      const srcLen = add(front, "Slice", [shape, init(int64Tensor(t(`${which}_a`), [BigInt(axis)])), init(int64Tensor(t(`${which}_b`), [BigInt(axis + 1)]))], `src_${which}`);
      const dstLen = add(front, "Slice", [modelHW, init(int64Tensor(t(`${which}_c`), [BigInt(axis)])), init(int64Tensor(t(`${which}_d`), [BigInt(axis + 1)]))], `dst_${which}`);
      x = add(front, "Gather", [x, nearestIndices(front, srcLen, dstLen, "floor", `image_${which}`)], `image_${which}`, [intAttr("axis", axis)]);
    }
  }
  x = add(front, "Cast", [x], "image_f32", [intAttr("to", DataType.FLOAT)]);
  const nhwc = add(front, "Concat", [init(int64Tensor(t("n1"), [1n])), add(front, "Shape", [x], "gathered_shape")], "nhwc_shape", [intAttr("axis", 0)]);
  x = add(front, "Reshape", [x, nhwc], "image_nhwc");
  const toNchw = (from: string): string =>
    add(front, "Transpose", [from], "image_nchw", [{ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 3, 1, 2] }]);
  const toUint8 = (from: string): string =>
    add(front, "Clip", [add(front, "Round", [from], "resized_rounded"), scalar("u8min", 0), scalar("u8max", 255)], "resized_u8");
  if (spec.interpolation === "nearest") {
    x = toNchw(x);
  } else if (spec.resizeOn === "float") {
    // Depth Anything V2's infer_image: image / 255 resized in float.
    x = add(front, "Div", [toNchw(x), scalar("v255", 255)], "image_unit");
    x = add(front, "Resize", [x, roi, scales, inputSizes], "resized", resizeAttrs(spec.interpolation));
  } else if (spec.interpolation === "linear") {
    // Linear resizes the NHWC image (the camera's own layout, which ORT's CPU Resize supports):
    // the transpose then moves the model-size image, not the camera-size one. OpenCV resizes the
    // 8-bit image and saturates back to 8 bits.
    const nhwcSizes = add(front, "Concat", [init(int64Tensor(t("nhwc_n"), [1n])), modelHW, init(int64Tensor(t("nhwc_c"), [3n]))], "nhwc_sizes", [intAttr("axis", 0)]);
    x = toNchw(toUint8(add(front, "Resize", [x, roi, scales, nhwcSizes], "resized_f32", resizeAttrs("linear"))));
  } else {
    x = toUint8(add(front, "Resize", [toNchw(x), roi, scales, inputSizes], "resized_f32", resizeAttrs(spec.interpolation)));
  }
  // Planes in the model's order; mean and std are given in R, G, B order. (v/255 − mean)/std as
  // one Mul and one Add, v·a + b, with a and b computed in double and rounded once to float32.
  const order = spec.color === "rgb" ? [0, 1, 2] : [2, 1, 0];
  if (spec.color === "bgr") x = add(front, "Gather", [x, init(int64Tensor(t("bgr"), [2n, 1n, 0n]))], "image_bgr", [intAttr("axis", 1)]);
  const perChannel = (name: string, value: (c: number) => number): string =>
    init(floatTensor(t(name), [1, 3, 1, 1], Float32Array.from(order, value)));
  const unit = spec.resizeOn === "float" && spec.interpolation !== "nearest" ? 1 : 255; // float path: already / 255
  x = add(front, "Mul", [x, perChannel("gain", (c) => 1 / (unit * spec.std[c]!))], "scaled");
  front.push(node("Add", `${P}/normalised`, [x, perChannel("offset", (c) => -spec.mean[c]! / spec.std[c]!)], [spec.name]));

  // --- Back: model outputs → camera resolution -------------------------------------------------
  const nan = scalar("nan", NaN);
  const depthSizes = add(back, "Concat", [init(int64Tensor(t("n1c1"), [1n, 1n])), cameraHW], "depth_sizes", [intAttr("axis", 0)]);
  const last2 = (tensor: string, what: string): string =>
    add(back, "Slice", [add(back, "Shape", [tensor], `${what}_shape`), init(int64Tensor(t(`${what}_m2`), [-2n])), init(int64Tensor(t(`${what}_end`), [9223372036854775807n]))], `${what}_hw`);
  // toMetricDepth (metric): z > 0 && z <= max_depth, else NaN; then the upsample of metres.
  const raw = depth.name;
  const limit = scalar("max_depth", Math.min(depth.maxDepth ?? Infinity, 3.4028234663852886e38));
  // Two Wheres rather than And/Not of the two tests: ORT's CPU And is far slower. NaN stays NaN.
  let z = add(back, "Where", [add(back, "Greater", [raw, limit], "too_far"), nan, raw], "within_max_depth");
  z = add(back, "Where", [add(back, "Greater", [z, scalar("zero", 0)], "positive"), z, nan], "model_depth");
  z = add(back, "Reshape", [z, add(back, "Concat", [init(int64Tensor(t("depth_n1c1"), [1n, 1n])), last2(raw, "depth")], "depth_4d", [intAttr("axis", 0)])], "model_depth_4d");
  if (depth.upsample === "align_corners") {
    z = add(back, "Resize", [z, roi, scales, depthSizes], "camera_depth_4d", resizeAttrs("align_corners"));
  } else {
    // cv::INTER_LINEAR reads only the edge pixel within half a pixel of the border, where ONNX
    // Resize (half_pixel) also reads the inner neighbour with weight 0, which spreads its NaN.
    // So: pad one edge-replicated pixel all round and sample the padded map at the half-pixel
    // positions shifted by the pad (tf_crop_and_resize with a computed roi): the border band then
    // mixes two copies of the edge pixel, and elsewhere the weights are half_pixel's.
    const padded = add(back, "Pad", [z, init(int64Tensor(t("depth_pads"), [0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n]))], "padded_depth", [stringAttr("mode", "edge")]);
    const small = add(back, "Cast", [last2(raw, "depth_src")], "depth_src_f", [intAttr("to", DataType.DOUBLE)]);
    const big = add(back, "Cast", [cameraHW], "depth_dst_f", [intAttr("to", DataType.DOUBLE)]);
    const ratio = add(back, "Div", [small, big], "depth_ratio"); // h / H
    const one = init(doubleTensor(t("d_one"), [1]));
    const half = init(doubleTensor(t("d_half"), [0.5]));
    const span = add(back, "Add", [small, one], "padded_span"); // L − 1 = h + 1
    // x_orig = start·(L−1) + x·(end−start)·(L−1)/(H−1) must equal (x + 0.5)·h/H − 0.5 + 1.
    const start = add(back, "Div", [add(back, "Add", [add(back, "Mul", [ratio, half], "half_ratio"), half], "start_px"), span], "roi_start");
    const width = add(back, "Div", [add(back, "Mul", [ratio, add(back, "Sub", [big, one], "dst_m1")], "slope_px"), span], "roi_width");
    const end = add(back, "Add", [start, width], "roi_end");
    const zz = init(doubleTensor(t("d_zero2"), [0, 0]));
    const oo = init(doubleTensor(t("d_one2"), [1, 1]));
    const roiDepth = add(back, "Cast", [add(back, "Concat", [zz, start, oo, end], "roi_f64", [intAttr("axis", 0)])], "depth_roi", [intAttr("to", DataType.FLOAT)]);
    z = add(back, "Resize", [padded, roiDepth, scales, depthSizes], "camera_depth_4d", [
      stringAttr("mode", "linear"),
      stringAttr("coordinate_transformation_mode", "tf_crop_and_resize"),
    ]);
  }
  // applyDepthRange: outside [min, max] becomes NaN.
  const rMin = add(back, "Slice", [FUSED_RANGE_INPUT, init(int64Tensor(t("r0"), [0n])), init(int64Tensor(t("r1"), [1n]))], "range_min");
  const rMax = add(back, "Slice", [FUSED_RANGE_INPUT, init(int64Tensor(t("r1b"), [1n])), init(int64Tensor(t("r2"), [2n]))], "range_max");
  const outside = add(back, "Or", [add(back, "Less", [z, rMin], "below_range"), add(back, "Greater", [z, rMax], "above_range")], "outside_range");
  z = add(back, "Where", [outside, nan, z], "ranged_depth");
  back.push(node("Reshape", `${P}/camera_depth`, [z, cameraHW], [FUSED_DEPTH_OUTPUT]));

  if (seg) {
    // argmaxLabels: first maximum wins (ArgMax's select_last_index 0), channel → labels.yaml id.
    const ids = Float32Array.from(seg.labels.classes, (c) => c.id);
    let l = add(back, "ArgMax", [seg.name], "channel", [intAttr("axis", 1), intAttr("keepdims", 1)]);
    l = add(back, "Gather", [init(floatTensor(t("class_ids"), [ids.length], ids)), l], "model_labels");
    // resizeLabels (cv::INTER_NEAREST_EXACT): Gathers of the rows and columns it picks.
    const modelLabelsHW = last2(l, "labels");
    // Columns first on the model-height map (per-element copies), then whole camera rows.
    for (const axis of [1, 0] as const) {
      const which = axis === 0 ? "label_rows" : "label_cols";
      const pick = (from: string, what: string): string =>
        add(back, "Slice", [from, init(int64Tensor(t(`${which}_${what}_a`), [BigInt(axis)])), init(int64Tensor(t(`${which}_${what}_b`), [BigInt(axis + 1)]))], `${which}_${what}`);
      const idx = nearestIndices(back, pick(modelLabelsHW, "src"), pick(cameraHW, "dst"), "exact", which);
      l = add(back, "Gather", [l, idx], `camera_${which}`, [intAttr("axis", axis + 2)]);
    }
    l = add(back, "Reshape", [l, cameraHW], "camera_labels_hw");
    back.push(node("Cast", `${P}/camera_labels`, [l], [FUSED_LABELS_OUTPUT], [intAttr("to", DataType.UINT16)]));
  }

  graph.input = graph.input.filter((v) => v.name !== spec.name);
  graph.input.push(valueInfo(FUSED_IMAGE_INPUT, DataType.UINT8, ["camera_height", "camera_width", 3]));
  graph.input.push(valueInfo(FUSED_RANGE_INPUT, DataType.FLOAT, [2]));
  graph.node = [...front, ...graph.node, ...back];
  graph.output.push(valueInfo(FUSED_DEPTH_OUTPUT, DataType.FLOAT, ["camera_height", "camera_width"]));
  if (seg) graph.output.push(valueInfo(FUSED_LABELS_OUTPUT, DataType.UINT16, ["camera_height", "camera_width"]));
  // The model's own outputs (and what only they needed, e.g. exposed features) go, except its
  // depth at model resolution: small, and what the valid-depth share and flying-pixel removal
  // (pipeline, at the model's resolution) are computed on.
  removeOutputs(model, outputs.filter((name) => name !== depth.name));
  graph.output.sort((a, b) => Number(a.name === depth.name) - Number(b.name === depth.name));
}
