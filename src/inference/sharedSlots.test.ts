import { describe, expect, it } from "vitest";
import { SharedSlots } from "./sharedSlots.js";

describe("SharedSlots", () => {
  it("makes slots on demand up to its capacity, reuses released ones, and then says none is free", () => {
    const pool = new SharedSlots(2);
    expect(pool.size).toBe(0);
    const a = pool.acquire();
    const b = pool.acquire();
    expect([a?.index, b?.index]).toEqual([0, 1]);
    expect(pool.acquire()).toBeUndefined(); // exhausted: the caller transfers instead
    expect([pool.size, pool.inUse]).toEqual([2, 2]);
    pool.release(a!);
    pool.release(a!); // twice: no-op
    expect(pool.inUse).toBe(1);
    expect(pool.acquire()).toBe(a); // the same slot, memory and all
    expect(pool.acquire()).toBeUndefined();
    pool.release(b!);
    pool.release(a!);
    expect([pool.size, pool.inUse]).toEqual([2, 0]);
  });

  it("capacity 0 never gives a slot; a slot of another pool is refused", () => {
    expect(new SharedSlots(0).acquire()).toBeUndefined();
    expect(() => new SharedSlots(-1)).toThrow(RangeError);
    const other = new SharedSlots(1).acquire()!;
    expect(() => new SharedSlots(1).release(other)).toThrow(/not from this pool/);
  });

  it("grows the input only when a run needs more, and sends it to the worker once per buffer", () => {
    const slot = new SharedSlots(1).acquire()!;
    expect(slot.takeUnsentInput()).toBeUndefined();
    const first = slot.floatInput(12);
    expect(first.length).toBe(12);
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    const sent = slot.takeUnsentInput();
    expect(sent).toBe(first.buffer);
    expect(sent?.byteLength).toBe(48);
    expect(slot.takeUnsentInput()).toBeUndefined();

    // Same or smaller: the same memory, nothing to send.
    first.fill(7);
    const smaller = slot.floatInput(6);
    expect(smaller.buffer).toBe(first.buffer);
    expect([...smaller]).toEqual([7, 7, 7, 7, 7, 7]);
    expect(slot.byteInput(48).buffer).toBe(first.buffer);
    expect(slot.takeUnsentInput()).toBeUndefined();

    // Larger: new memory, sent with the next run.
    const larger = slot.floatInput(13);
    expect(larger.buffer).not.toBe(first.buffer);
    expect(slot.takeUnsentInput()?.byteLength).toBe(52);
  });

  it("views outputs over the buffers the worker made, adopting grown ones", () => {
    const slot = new SharedSlots(1).acquire()!;
    const depth = new SharedArrayBuffer(4 * 6);
    new Float32Array(depth).set([1, 2, 3, 4, 5, 6]);
    const labels = new SharedArrayBuffer(2 * 4);
    new Uint16Array(labels).set([9, 8, 7, 6]);
    const views = slot.outputViews(
      { depth: { dims: [1, 1, 2, 3], type: "float32" }, labels: { dims: [2, 2], type: "uint16" } },
      { depth, labels },
    );
    expect(views["depth"]?.data).toBeInstanceOf(Float32Array);
    expect([...views["depth"]!.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(views["depth"]?.dims).toEqual([1, 1, 2, 3]);
    expect(views["labels"]?.data).toBeInstanceOf(Uint16Array);
    expect([...views["labels"]!.data]).toEqual([9, 8, 7, 6]);

    // A later, smaller run in the same buffers: no `grown`, views of the first values.
    const again = slot.outputViews({ depth: { dims: [1, 1, 1, 2], type: "float32" } }, undefined);
    expect(again["depth"]?.data.buffer).toBe(depth);
    expect([...again["depth"]!.data]).toEqual([1, 2]);

    // A reply naming more than the slot holds is an error, not a short view.
    expect(() => slot.outputViews({ depth: { dims: [1, 1, 3, 3], type: "float32" } }, undefined)).toThrow(/needs 36 bytes, the slot has 24/);
    expect(() => slot.outputViews({ sky: { dims: [1], type: "float32" } }, undefined)).toThrow(/"sky" needs 4 bytes, the slot has 0/);
  });
});
