import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "tests/**/*.test.ts", "tools/**/*.test.ts"],
    // The live-node tests run a real copy of rclnodejs (tests/support/rclnodejsPackages.ts).
    globalSetup: ["tests/support/rclnodejsGlobalSetup.ts"],
    // Native addons (onnxruntime, OpenCV) are not fork-safe across many workers on 2 cores.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
