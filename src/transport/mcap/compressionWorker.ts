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
    // Transferred back: a view into a shared or larger buffer (lz4js's slice, a pooled Buffer) is copied first.
    const own =
      compressedData.buffer instanceof ArrayBuffer && compressedData.byteOffset === 0 && compressedData.byteLength === compressedData.buffer.byteLength
        ? compressedData
        : new Uint8Array(compressedData);
    reply = { type: "compressed", id: request.id, compressedData: own, uncompressedCrc, compressedCrc: crc32(own), records: request.records };
    transfer = [own.buffer as ArrayBuffer, request.records];
  } catch (error) {
    reply = { type: "failed", id: request.id, message: error instanceof Error ? error.message : String(error) };
    transfer = [];
  }
  port.postMessage(reply, transfer);
});
port.postMessage({ type: "ready" } satisfies CompressionWorkerMessage);
