// Cheap "is this really an ONNX model?" check: walks the top-level protobuf fields of the file
// (reading only keys and lengths, never the weights) and expects a ModelProto shape. This gives
// a clear message for text files, truncated downloads and Git LFS pointers before ORT's generic
// "protobuf parsing failed".

import { open } from "node:fs/promises";

export interface OnnxFileInfo {
  readonly irVersion: number;
  readonly sizeBytes: number;
}

/** Thrown when the file is readable but not an ONNX ModelProto; `message` says why. */
export class NotOnnxError extends Error {
  override readonly name = "NotOnnxError";
}

// ModelProto fields we know and their wire types (0 varint, 2 length-delimited).
const MODEL_FIELDS: ReadonlyMap<number, number> = new Map([
  [1, 0], [2, 2], [3, 2], [4, 2], [5, 0], [6, 2], [7, 2], [8, 2], [14, 2], [20, 2], [25, 2],
]);
const IR_VERSION_FIELD = 1;
const GRAPH_FIELD = 7;
const MAX_FIELDS = 100_000;

export async function inspectOnnxFile(path: string): Promise<OnnxFileInfo> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    if (size === 0) throw new NotOnnxError("the file is empty");
    const head = Buffer.alloc(Math.min(size, 64));
    await handle.read(head, 0, head.length, 0);
    if (head.toString("latin1").startsWith("version https://git-lfs")) {
      throw new NotOnnxError("it is a Git LFS pointer, not the model itself (fetch it with `git lfs pull`)");
    }

    let pos = 0;
    let irVersion: number | undefined;
    let hasGraph = false;
    const chunk = Buffer.alloc(32);
    for (let fields = 0; pos < size; fields++) {
      if (fields > MAX_FIELDS) throw new NotOnnxError("too many top-level fields for a ModelProto");
      const n = (await handle.read(chunk, 0, chunk.length, pos)).bytesRead;
      const reader = new VarintReader(chunk.subarray(0, n));
      const key = reader.next(pos);
      const field = Number(key >> 3n);
      const wire = Number(key & 7n);
      const expected = MODEL_FIELDS.get(field);
      if (field === 0 || (expected !== undefined && expected !== wire)) {
        throw new NotOnnxError(`byte ${pos}: field ${field} with wire type ${wire} does not fit a ModelProto`);
      }
      let next: number;
      if (wire === 0) {
        const value = reader.next(pos);
        if (field === IR_VERSION_FIELD) irVersion = Number(value);
        next = pos + reader.offset;
      } else if (wire === 2) {
        const length = Number(reader.next(pos));
        next = pos + reader.offset + length;
        if (field === GRAPH_FIELD) hasGraph = true;
      } else if (wire === 1 || wire === 5) {
        next = pos + reader.offset + (wire === 1 ? 8 : 4);
      } else {
        throw new NotOnnxError(`byte ${pos}: invalid protobuf wire type ${wire}`);
      }
      if (next > size) throw new NotOnnxError(`byte ${pos}: field ${field} runs past the end of the file (truncated?)`);
      pos = next;
    }
    if (irVersion === undefined || irVersion < 1) throw new NotOnnxError("it has no ir_version");
    if (!hasGraph) throw new NotOnnxError("it has no graph");
    return { irVersion, sizeBytes: size };
  } finally {
    await handle.close();
  }
}

/** Reads consecutive varints from a small buffer; `offset` is how far it has read. */
class VarintReader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  next(filePos: number): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new NotOnnxError(`byte ${filePos}: varint runs past the end of the file`);
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new NotOnnxError(`byte ${filePos}: malformed varint`);
  }
}
