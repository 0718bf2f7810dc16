/*
 * A worker of a log read whose lines worker threads decode (see worker-log-read.ts): takes
 * whole lines of the log, decodes each as a scan does (checking what its creator asked:
 * workerData.verify), packs each with the packer module its creator named (workerData.packer,
 * see LinePacker) and answers with the packed lines and each line's length.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeLines } from './decode-lines.js';
import type { DecodedLines, DecoderSetup, LinePacker, LinesToDecode } from './worker-log-read.js';

const { packer, verify } = workerData as DecoderSetup;
const { packDecodedLine } = (await import(packer)) as LinePacker;

parentPort?.on('message', ({ id, bytes, length }: LinesToDecode) => {
  const packed: unknown[] = [];
  const lengths: number[] = [];
  decodeLines(Buffer.from(bytes, 0, length), verify, (decoded, bytesOfLine) => {
    packDecodedLine(decoded, packed);
    lengths.push(bytesOfLine);
  });
  const sent = Int32Array.from(lengths);
  parentPort!.postMessage({ id, packed, lengths: sent } satisfies DecodedLines, [sent.buffer]);
});
