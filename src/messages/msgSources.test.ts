import { readFileSync } from "node:fs";

import { parse } from "@foxglove/rosmsg";
import { describe, expect, it } from "vitest";

import { PERCEPTION_STATUS_MSG } from "./msgSources.js";

describe("PERCEPTION_STATUS_MSG", () => {
  const fileText = readFileSync(new URL("../../msg/PerceptionStatus.msg", import.meta.url), "utf8");

  it("has the same fields as msg/PerceptionStatus.msg", () => {
    const embedded = parse(PERCEPTION_STATUS_MSG, { ros2: true, skipTypeFixup: true });
    const file = parse(fileText, { ros2: true, skipTypeFixup: true });
    expect(embedded).toEqual(file);
    expect(embedded[0]?.definitions.map((f) => f.name)).toContain("frames_failed");
  });

  it("is a verbatim copy (comments included)", () => {
    expect(PERCEPTION_STATUS_MSG).toBe(fileText);
  });
});
