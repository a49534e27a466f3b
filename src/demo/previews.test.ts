import { describe, expect, it } from "vitest";
import { sideBySide } from "./previews.js";

describe("sideBySide", () => {
  it("places images left to right, row by row", () => {
    const a = { width: 2, height: 2, data: Uint8Array.from({ length: 12 }, (_, i) => i) };
    const b = { width: 1, height: 2, data: Uint8Array.from([100, 101, 102, 103, 104, 105]) };
    const joined = sideBySide([a, b]);
    expect([joined.width, joined.height]).toEqual([3, 2]);
    expect(Array.from(joined.data)).toEqual([0, 1, 2, 3, 4, 5, 100, 101, 102, 6, 7, 8, 9, 10, 11, 103, 104, 105]);
  });

  it("refuses images of different heights", () => {
    const a = { width: 1, height: 1, data: new Uint8Array(3) };
    const b = { width: 1, height: 2, data: new Uint8Array(6) };
    expect(() => sideBySide([a, b])).toThrow(/heights differ \(1, 2\)/);
  });
});
