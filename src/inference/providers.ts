// Execution-provider chain. ORT errors out (instead of falling back) when a requested provider
// cannot load, e.g. CUDA libraries missing on this CPU build, so each provider is tried on its
// own, in order, and every failure is kept for one log line by the caller.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import { FatalError } from "../errors.js";

/** Shared libraries onnxruntime-node's Linux build loads for each GPU provider. */
const LINUX_PROVIDER_LIBRARIES: Readonly<Record<string, readonly string[]>> = {
  cuda: ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"],
  tensorrt: ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_tensorrt.so"],
};

/**
 * Why a GPU provider cannot load, known without asking ORT: its libraries are only downloaded
 * by onnxruntime-node's install script on CUDA machines. Asking ORT anyway works but prints a
 * multi-line native error per provider, which buries the one line we log.
 */
export function missingProviderLibraries(provider: string): string | undefined {
  const libraries = LINUX_PROVIDER_LIBRARIES[provider];
  if (process.platform !== "linux" || !libraries) return undefined;
  const require = createRequire(import.meta.url);
  const binDir = join(dirname(require.resolve("onnxruntime-node")), "..", "bin", "napi-v6", "linux", process.arch);
  const missing = libraries.filter((library) => !existsSync(join(binDir, library)));
  if (missing.length === 0) return undefined;
  // Short: it is logged on every CPU-only run. The provider's own library names the fix.
  return `not installed with onnxruntime-node: no ${missing.at(-1)}`;
}

/** Names accepted in configuration, mapped to onnxruntime-node's provider names. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  tensorrt: "tensorrt",
  trt: "tensorrt",
  cuda: "cuda",
  cpu: "cpu",
  coreml: "coreml",
  dml: "dml",
  directml: "dml",
};

export const KNOWN_PROVIDERS: readonly string[] = Object.keys(PROVIDER_NAMES);

export interface ProviderFailure {
  provider: string;
  reason: string;
}

export interface SessionThreads {
  /** 0 or undefined lets ORT decide. */
  intraOpThreads?: number;
  interOpThreads?: number;
}

export interface ProviderChainResult {
  session: InferenceSession;
  /** The ORT name of the provider that loaded. */
  provider: string;
  /** Providers tried before it, with why they failed. */
  fallbacks: ProviderFailure[];
}

/** Maps a configured provider name to ORT's; unknown names are a configuration error. */
export function ortProviderName(name: string): string {
  const mapped = PROVIDER_NAMES[name.trim().toLowerCase()];
  if (mapped === undefined) {
    throw new FatalError(`unknown execution provider "${name}" (expected one of ${KNOWN_PROVIDERS.join(", ")})`);
  }
  return mapped;
}

export async function createSessionWithFallback(
  model: string | Uint8Array,
  providers: readonly string[],
  threads: SessionThreads = {},
): Promise<ProviderChainResult> {
  if (providers.length === 0) throw new FatalError("no execution providers configured");
  const names = providers.map(ortProviderName);
  const fallbacks: ProviderFailure[] = [];
  for (const provider of names) {
    const missing = missingProviderLibraries(provider);
    if (missing) {
      fallbacks.push({ provider, reason: missing });
      continue;
    }
    const options: InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: "all",
    };
    if (threads.intraOpThreads) options.intraOpNumThreads = threads.intraOpThreads;
    if (threads.interOpThreads) options.interOpNumThreads = threads.interOpThreads;
    try {
      const session = typeof model === "string"
        ? await InferenceSession.create(model, options)
        : await InferenceSession.create(model, options);
      return { session, provider, fallbacks };
    } catch (err) {
      fallbacks.push({ provider, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  const where = typeof model === "string" ? model : "in-memory model";
  const reasons = fallbacks.map((f) => `${f.provider}: ${f.reason}`).join("; ");
  throw new FatalError(`could not create an ONNX Runtime session for ${where} with any provider (${reasons})`);
}

/** One line for the log, e.g. `cuda unavailable (…), using cpu`. */
export function describeFallbacks(result: { readonly provider: string; readonly fallbacks: readonly ProviderFailure[] }): string {
  if (result.fallbacks.length === 0) return `using ${result.provider}`;
  const failed = result.fallbacks.map((f) => `${f.provider} unavailable (${f.reason})`).join(", ");
  return `${failed}; using ${result.provider}`;
}
