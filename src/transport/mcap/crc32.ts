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

/**
 * CRC-32 of A followed by B from crc(A), crc(B) and B's length: crc(A) is advanced over
 * `lengthB` zero bytes (by repeated squaring of the one-zero-bit operator, O(log lengthB)) and
 * crc(B) xored in. zlib's crc32_combine, which node:zlib does not expose.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`crc32Combine: length ${lengthB} is not a byte count`);
  if (lengthB === 0) return crcA >>> 0;
  const even = new Uint32Array(32); // operator for an even power of two zero bits
  const odd = new Uint32Array(32);
  odd[0] = POLYNOMIAL; // one zero bit
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  square(even, odd); // two zero bits
  square(odd, even); // four zero bits
  let crc = crcA >>> 0;
  let remaining = lengthB;
  // The first squaring below makes the operator for one zero byte; each next one doubles it.
  for (;;) {
    square(even, odd);
    if (remaining % 2 === 1) crc = times(even, crc);
    remaining = Math.floor(remaining / 2);
    if (remaining === 0) break;
    square(odd, even);
    if (remaining % 2 === 1) crc = times(odd, crc);
    remaining = Math.floor(remaining / 2);
    if (remaining === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}
