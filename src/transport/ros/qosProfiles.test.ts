import { describe, expect, it } from "vitest";
import { IMAGE_QOS, OUTPUT_QOS, applyQosOverrides, describeQos, unmatchedQosOverrides } from "./qosProfiles.js";

describe("qos overrides", () => {
  const overrides = new Map<string, unknown>([
    ["qos_overrides./cam/image_raw.subscription.reliability", "reliable"],
    ["qos_overrides./cam/image_raw.subscription.depth", 4n],
    ["qos_overrides./cam/image_raw.publisher.depth", 9n],
    ["qos_overrides./elsewhere.publisher.depth", 2n],
  ]);

  it("applies only the overrides of the topic and entity, and reports which it used", () => {
    const applied = applyQosOverrides(IMAGE_QOS, "/cam/image_raw", "subscription", overrides);
    expect(applied.profile).toEqual({ history: "keep_last", depth: 4, reliability: "reliable", durability: "volatile" });
    expect([...applied.used]).toEqual([
      ["qos_overrides./cam/image_raw.subscription.reliability", "reliable"],
      ["qos_overrides./cam/image_raw.subscription.depth", 4],
    ]);
    expect(applyQosOverrides(OUTPUT_QOS, "/depth/image", "publisher", overrides).profile).toBe(OUTPUT_QOS);
    expect(unmatchedQosOverrides(overrides, new Set(applied.used.keys()))).toEqual([
      "qos_overrides./cam/image_raw.publisher.depth",
      "qos_overrides./elsewhere.publisher.depth",
    ]);
  });

  it("refuses values and policies it cannot apply, naming the parameter", () => {
    const bad = (name: string, value: unknown) => () => applyQosOverrides(IMAGE_QOS, "/t", "subscription", new Map([[`qos_overrides./t.subscription.${name}`, value]]));
    expect(bad("depth", 0n)).toThrow("qos_overrides./t.subscription.depth must be an integer in [1, 1000], got 0");
    expect(bad("durability", "forever")).toThrow('must be one of volatile | transient_local, got "forever"');
    expect(bad("deadline", 5n)).toThrow('unsupported QoS policy "deadline"');
  });

  it("describes a profile in rmw's words", () => {
    expect(describeQos(IMAGE_QOS)).toBe("best_effort, volatile, keep_last 1");
    expect(describeQos({ ...OUTPUT_QOS, history: "keep_all" })).toBe("reliable, volatile, keep_all");
  });
});
