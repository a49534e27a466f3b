// Reference tensors that the Python export harnesses (tools/export --self-test,
// tests/support/upstream/parity.py) save beside a bundle: raw little-endian float32 files,
// described by a JSON index.

import { readFile } from "node:fs/promises";

export interface RefTensor {
  file: string;
  dims: number[];
}

export interface Reference {
  tag: string;
  input: RefTensor;
  outputs: Record<string, RefTensor>;
}

export async function readF32(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  // Copy: small files come back as views into a shared pool.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
