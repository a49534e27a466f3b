import { describe, expect, it } from "vitest";
import { StampPairer } from "./stampPairer.js";

const t = (sec: number, nanosec = 0) => ({ sec, nanosec });

describe("StampPairer", () => {
  it("pairs exact stamps whichever message arrives first", () => {
    const pairer = new StampPairer<string, string>(0);
    expect(pairer.addImage(t(1), "img1")).toEqual([]);
    expect(pairer.addInfo(t(1), "info1")).toEqual([{ kind: "paired", image: "img1", info: "info1", stamp: t(1) }]);
    expect(pairer.addInfo(t(2), "info2")).toEqual([]);
    expect(pairer.addImage(t(2), "img2")).toEqual([{ kind: "paired", image: "img2", info: "info2", stamp: t(2) }]);
  });

  it("with slop 0 does not pair stamps 1 ns apart, and reports it once a later info proves it", () => {
    const pairer = new StampPairer<string, string>(0);
    expect(pairer.addImage(t(1, 1), "img")).toEqual([]);
    const events = pairer.addInfo(t(1, 2), "info");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "unpaired", image: "img" });
    expect(events[0]!.kind === "unpaired" && events[0]!.detail).toContain("exact stamp");
  });

  it("approximate: picks the nearest info within the slop", () => {
    const pairer = new StampPairer<string, string>(0.01);
    pairer.addInfo(t(1, 0), "a");
    pairer.addInfo(t(1, 8_000_000), "b");
    expect(pairer.addImage(t(1, 6_000_000), "img")).toEqual([
      { kind: "paired", image: "img", info: "b", stamp: t(1, 6_000_000) },
    ]);
  });

  it("approximate: an image with no info within the slop is unpaired with the gap in the message", () => {
    const pairer = new StampPairer<string, string>(0.01);
    pairer.addInfo(t(1), "a");
    const events = pairer.addImage(t(0, 500_000_000), "early");
    // The newest info (1.0) is already past 0.5 + 0.01, so no later info can match.
    expect(events).toHaveLength(1);
    expect(events[0]!.kind === "unpaired" && events[0]!.detail).toContain("0.500000 s away");
  });

  it("flush reports images still waiting", () => {
    const pairer = new StampPairer<string, string>(0);
    pairer.addImage(t(5), "x");
    expect(pairer.waitingImages).toBe(1);
    const events = pairer.flush();
    expect(events).toEqual([{ kind: "unpaired", image: "x", stamp: t(5), detail: "no CameraInfo received with the exact stamp" }]);
    expect(pairer.waitingImages).toBe(0);
  });

  it("bounds the images waiting for an info", () => {
    const pairer = new StampPairer<number, string>(0, 3);
    const unpaired = [];
    for (let i = 0; i < 5; i++) unpaired.push(...pairer.addImage(t(i), i));
    expect(unpaired.map((e) => e.image)).toEqual([0, 1]);
    expect(pairer.waitingImages).toBe(3);
  });

  it("slop can be changed at run time", () => {
    const pairer = new StampPairer<string, string>(0);
    pairer.addInfo(t(1, 0), "a");
    pairer.slopSec = 0.005;
    expect(pairer.addImage(t(1, 4_000_000), "img")[0]).toMatchObject({ kind: "paired", info: "a" });
  });
});
