import { crc32 } from 'node:zlib';

/*
 * CRC-32 (the reflected polynomial zlib and node:zlib use) is affine over GF(2): changing bytes
 * in place changes a file's CRC by an amount that depends only on the change and on how many
 * bytes follow it. So a file updated in place keeps its whole-file checksum without being read
 * again. The polynomial arithmetic is zlib's (crc32_combine: multmodp and x2nmodp).
 */

const POLY = 0xedb88320;
const X_TO_THE_0 = 0x80000000;

/** a(x) · b(x) modulo the CRC polynomial, in the reflected bit order. */
function multiplyModP(a: number, b: number): number {
  let m = X_TO_THE_0;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) mod p for k = 0..63: squaring the one before. */
const X_TO_THE_2_TO_THE = (() => {
  const table = new Array<number>(64);
  let p = X_TO_THE_0 >>> 1; // x^1
  for (let k = 0; k < 64; k += 1) {
    table[k] = p;
    p = multiplyModP(p, p);
  }
  return table;
})();

/** x^(8n) mod p: the effect of n zero bytes on a CRC register. */
function zeroBytesOperator(n: number): number {
  let p = X_TO_THE_0;
  // Bit k of n stands for 2^k zero bytes = x^(8 · 2^k) = x^(2^(k+3)).
  for (let k = 3; n > 0; k += 1, n = Math.floor(n / 2)) {
    if (n % 2 === 1) p = multiplyModP(X_TO_THE_2_TO_THE[k % 64]!, p);
  }
  return p;
}

/**
 * The CRC-32 of a file after bytes `before` at some place were overwritten by `after` (of the same
 * length), given its CRC-32 `crc` before and how many bytes of the file follow the changed ones.
 */
export function patchCrc32(crc: number, before: Buffer, after: Buffer, bytesAfter: number): number {
  if (before.length !== after.length) throw new RangeError('an in-place change keeps its length');
  const difference = Buffer.allocUnsafe(before.length);
  for (let i = 0; i < before.length; i += 1) difference[i] = before[i]! ^ after[i]!;
  // The CRC of the difference without its init and final constants (those cancel between the
  // old and new file), carried through the zero bytes that stand for what follows it.
  const linear = (crc32(difference) ^ crc32(Buffer.alloc(before.length))) >>> 0;
  return (crc ^ multiplyModP(zeroBytesOperator(bytesAfter), linear)) >>> 0;
}

