// Minimal protobuf wire-format writer: just what serialising an ONNX ModelProto needs.
// Messages are built bottom-up: a child is encoded to bytes first, then embedded as a
// length-delimited field of its parent, so no length back-patching is needed.

/** Protobuf wire types (the low 3 bits of a field key). */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const UINT64_MASK = (1n << 64n) - 1n;

/** Appends protobuf fields to a growing byte buffer. */
export class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;
  private readonly scratch = new DataView(new ArrayBuffer(4));

  /** Bytes written so far (a copy, so the writer may keep going). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /**
   * Raw base-128 varint. Negative numbers are written as 64-bit two's complement
   * (10 bytes), which is how int64/int32 fields encode them on the wire.
   */
  rawVarint(value: number | bigint): this {
    let v = typeof value === "bigint" ? value : toBigInt(value);
    v &= UINT64_MASK;
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.pushByte(byte);
    } while (v !== 0n);
    return this;
  }

  rawBytes(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** Field key: (field number << 3) | wire type. */
  key(field: number, wireType: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) {
      throw new RangeError(`invalid protobuf field number ${field}`);
    }
    return this.rawVarint(BigInt(field) * 8n + BigInt(wireType));
  }

  /** int32/int64/uint64/bool/enum field. */
  varint(field: number, value: number | bigint): this {
    return this.key(field, WireType.varint).rawVarint(value);
  }

  /** `float` field: fixed32, IEEE 754 little-endian. */
  float(field: number, value: number): this {
    return this.key(field, WireType.fixed32).rawFloat(value);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.key(field, WireType.lengthDelimited).rawVarint(value.length).rawBytes(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Embedded message, already encoded. */
  message(field: number, encoded: Uint8Array): this {
    return this.bytes(field, encoded);
  }

  /** Packed repeated varints (one length-delimited field holding all values). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated floats (fixed32 each). */
  packedFloats(field: number, values: readonly number[] | Float32Array): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawFloat(v);
    return this.bytes(field, inner.finish());
  }

  private rawFloat(value: number): this {
    this.scratch.setFloat32(0, value, true);
    for (let i = 0; i < 4; i++) this.pushByte(this.scratch.getUint8(i));
    return this;
  }

  private pushByte(byte: number): void {
    this.reserve(1);
    this.buf[this.len++] = byte;
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
}

function toBigInt(value: number): bigint {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`varint value must be a safe integer, got ${value}`);
  }
  return BigInt(value);
}
