import { describe, expect, it } from "vitest";
import { CleanupStack } from "./cleanupStack.js";

describe("CleanupStack", () => {
  it("runs every cleanup in reverse order and returns the body's result", async () => {
    const order: string[] = [];
    const result = await CleanupStack.run(async (stack) => {
      stack.push(async () => void order.push("a"));
      stack.push(async () => void order.push("b"));
      return 42;
    });
    expect(result).toBe(42);
    expect(order).toEqual(["b", "a"]);
  });

  it("reports the body's error, not a cleanup's, and still runs the rest", async () => {
    const order: string[] = [];
    const run = CleanupStack.run(async (stack) => {
      stack.push(async () => void order.push("first"));
      stack.push(async () => {
        throw new Error("close failed");
      });
      throw new Error("run failed");
    });
    await expect(run).rejects.toThrow("run failed");
    expect(order).toEqual(["first"]);
  });

  it("reports the first cleanup error when the body succeeded", async () => {
    const run = CleanupStack.run(async (stack) => {
      stack.push(async () => {
        throw new Error("second to run");
      });
      stack.push(async () => {
        throw new Error("first to run");
      });
      return 1;
    });
    await expect(run).rejects.toThrow("first to run");
  });
});
