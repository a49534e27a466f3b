// Child process for exitBySignal.test.ts: starts the real inference worker on a large frame and,
// while session.run is executing, leaves the way argv[2] says ("signal" or "exit").

import { join } from "node:path";
import { loadModelBundle } from "../../src/inference/bundle.js";
import { writeAnalyticBundle } from "./analyticBundle.js";
import { InferenceWorker } from "../../src/inference/inferenceWorker.js";
import { exitBySignal } from "../../src/exitBySignal.js";

const [how = "signal", dir = "."] = process.argv.slice(2);
const bundle = await loadModelBundle(await writeAnalyticBundle(join(dir, "analytic")));
const worker = await InferenceWorker.start({ bundle, providers: ["cpu"], intraOpThreads: 1 });
void worker.run(new Float32Array(3 * 2000 * 2000).fill(0.5), [1, 3, 2000, 2000]).catch(() => undefined);
await new Promise((resolve) => setTimeout(resolve, 20));
process.stdout.write("leaving\n");
if (how === "exit") process.exit(130);
exitBySignal("SIGINT");
