// vitest globalSetup: unpacks rclnodejs and generates its messages once, before any test file
// loads it (test files run in parallel processes and must not generate into the same folder).

import { prepareRclnodejsPackages } from "./rclnodejsPackages.js";

export default function setup(): void {
  prepareRclnodejsPackages((line) => process.stderr.write(`rclnodejs: ${line}\n`));
}
