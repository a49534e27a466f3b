// Writes the synthetic world's labels.yaml (bundle format) to the given path, for the trainer.
import { writeFile } from "node:fs/promises";
import { labelsYaml } from "../../src/synthetic/classes.js";

const path = process.argv[2];
if (!path) throw new Error("usage: tsx tools/train/write-labels.ts <labels.yaml>");
await writeFile(path, labelsYaml());
