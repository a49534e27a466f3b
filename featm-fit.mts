import { performance } from "node:perf_hooks";
import { main } from "./src/cli.js";
const [model, data, out, ...rest] = process.argv.slice(2);
const t = performance.now();
const code = await main(["fit-head", "--model", model!, "--data", data!, "--labels", `${data}/labels.yaml`, "--out", out!, "--quiet", ...rest]);
console.error(`fit-head ${model}: exit ${code}, ${((performance.now() - t) / 1000).toFixed(1)} s`);
