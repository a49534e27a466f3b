// IEEE 754 binary16 -> float32. onnxruntime-node hands float16 tensors over as the raw bits in a
// Uint16Array; depthseg's kernels work on float32, so such outputs are widened once, at the edge.

/** Each binary16 bit pattern of `bits` as a float32: exact, ±Inf and NaN kept (NaN stays NaN). */
export function float16ToFloat32(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  if (out.length !== bits.length) throw new RangeError(`float16ToFloat32: out has ${out.length} values, bits has ${bits.length}`);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    let v: number;
    if (exponent === 0) v = mantissa * 2 ** -24; // zero and subnormals
    else if (exponent === 0x1f) v = mantissa === 0 ? Infinity : NaN;
    else v = (1024 + mantissa) * 2 ** (exponent - 25);
    out[i] = h & 0x8000 ? -v : v;
  }
  return out;
}
