// CRC-32 (IEEE, the one MCAP uses) for the bags we write: Node's native zlib.crc32, incremental,
// instead of @foxglove/crc's JS table loop; and crc32Combine, so a chunk's records are read once
// for both the chunk CRC and the data-section CRC that covers them.

import { crc32 as zlibCrc32 } from "node:zlib";

/** CRC-32 of `data`, continuing `previous` (the CRC of what came before; 0 for a start). */
export function crc32(data: Uint8Array, previous = 0): number {
  return zlibCrc32(data, previous);
}

/** The CRC polynomial, reflected (zlib's crc32_combine works on the same representation). */
const POLYNOMIAL = 0xedb88320;

/** `matrix` (32 columns over GF(2)) times `vector`. */
function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if ((vector & 1) !== 0) sum ^= matrix[i]!;
  return sum >>> 0;
}

function square(into: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) into[n] = times(matrix, matrix[n]!);
}

/** ZERO_BYTES[k]: the operator that advances a CRC over 2^k zero bytes (built on first use). */
const ZERO_BYTES: Uint32Array[] = [];

function zeroBytesOperator(k: number): Uint32Array {
  if (ZERO_BYTES.length === 0) {
    let op = new Uint32Array(32); // one zero bit
    op[0] = POLYNOMIAL;
    for (let n = 1, row = 1; n < 32; n++, row <<= 1) op[n] = row;
    for (let bits = 0; bits < 3; bits++) {
      const next = new Uint32Array(32);
      square(next, op);
      op = next;
    }
    ZERO_BYTES.push(op);
  }
  while (ZERO_BYTES.length <= k) {
    const next = new Uint32Array(32);
    square(next, ZERO_BYTES[ZERO_BYTES.length - 1]!);
    ZERO_BYTES.push(next);
  }
  return ZERO_BYTES[k]!;
}

/**
 * CRC-32 of A followed by B from crc(A), crc(B) and B's length: crc(A) is advanced over
 * `lengthB` zero bytes (one precomputed operator per set bit of the length) and crc(B) xored
 * in. zlib's crc32_combine, which node:zlib does not expose.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`crc32Combine: length ${lengthB} is not a byte count`);
  let crc = crcA >>> 0;
  for (let k = 0, remaining = lengthB; remaining > 0; k++, remaining = Math.floor(remaining / 2)) {
    if (remaining % 2 === 1) crc = times(zeroBytesOperator(k), crc);
  }
  return (crc ^ crcB) >>> 0;
}
