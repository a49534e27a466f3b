// A chunk compression worker thread (compressionPool.ts starts it): the same codecs as the main
// thread's (chunkCompressor), one chunk at a time; both CRCs are computed here so the main thread
// never reads the chunk's bytes again.

import { parentPort, workerData } from "node:worker_threads";

import { chunkCompressor } from "./chunkCompression.js";
import type { CompressionWorkerData, CompressionWorkerMessage, CompressRequest } from "./compressionPool.js";
import { crc32 } from "./crc32.js";

const port = parentPort;
if (port === null) throw new Error("compressionWorker.ts runs as a worker thread (compressionPool.ts)");
const { compression } = workerData as CompressionWorkerData;
const compress = await chunkCompressor(compression);
if (compress === undefined) throw new Error(`no compressor for ${compression}`);

port.on("message", (request: CompressRequest) => {
  let reply: CompressionWorkerMessage;
  let transfer: ArrayBuffer[];
  try {
    const records = new Uint8Array(request.records, 0, request.length);
    const uncompressedCrc = crc32(records);
    const { compressedData } = compress(records);
    // Into the buffer the main thread gave back when it fits (a copy here saves a GC there);
    // else a new one as large as the records, so that it fits later chunks' output too.
    const output = request.output;
    const fits = output !== undefined && output.byteLength >= compressedData.byteLength;
    const into = fits ? output : new ArrayBuffer(Math.max(compressedData.byteLength, request.length));
    const result = new Uint8Array(into, 0, compressedData.byteLength);
    result.set(compressedData);
    reply = { type: "compressed", id: request.id, compressedData: result, uncompressedCrc, compressedCrc: crc32(result), records: request.records };
    transfer = [result.buffer as ArrayBuffer, request.records];
  } catch (error) {
    reply = { type: "failed", id: request.id, message: error instanceof Error ? error.message : String(error) };
    transfer = [];
  }
  port.postMessage(reply, transfer);
});
port.postMessage({ type: "ready" } satisfies CompressionWorkerMessage);
