import { describe, expect, it } from "vitest";
import { Subject, lastValueFrom, toArray } from "rxjs";
import { LatestWinsState, latestWins } from "./latestWins.js";

interface Item {
  readonly camera: string;
  readonly seq: number;
}

/** A process whose completions the test releases by hand, to model slow inference. */
function manualProcess() {
  const pending: { item: Item; resolve: () => void }[] = [];
  const process = (item: Item) => new Promise<Item>((resolve) => pending.push({ item, resolve: () => resolve(item) }));
  const releaseNext = async () => {
    pending.shift()!.resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { process, pending, releaseNext };
}

describe("latestWins", () => {
  it("under a burst keeps one waiting frame, drops and counts the rest, and processes the newest", async () => {
    const { process, pending, releaseNext } = manualProcess();
    const dropped: number[] = [];
    const state = new LatestWinsState();
    const source = new Subject<Item>();
    const done = lastValueFrom(
      source.pipe(latestWins(process, { maxInFlight: 1, keyOf: (i) => i.camera, onDrop: (i) => dropped.push(i.seq) }, state), toArray()),
    );
    for (let seq = 0; seq < 10; seq++) source.next({ camera: "cam", seq });
    expect(state.inFlight).toBe(1);
    expect(state.waiting).toBe(1);
    expect(pending.map((p) => p.item.seq)).toEqual([0]);
    await releaseNext();
    expect(pending.map((p) => p.item.seq)).toEqual([9]);
    source.complete();
    await releaseNext();
    const processed = await done;
    expect(processed.map((i) => i.seq)).toEqual([0, 9]);
    expect(dropped).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(state.maxWaitingSeen).toBe(1);
  });

  it("serves several cameras round robin with per-camera waiting slots", async () => {
    const { process, pending, releaseNext } = manualProcess();
    const dropsByCamera = new Map<string, number>();
    const state = new LatestWinsState();
    const source = new Subject<Item>();
    const done = lastValueFrom(
      source.pipe(
        latestWins(process, {
          maxInFlight: 1,
          keyOf: (i) => i.camera,
          onDrop: (i) => dropsByCamera.set(i.camera, (dropsByCamera.get(i.camera) ?? 0) + 1),
        }, state),
        toArray(),
      ),
    );
    source.next({ camera: "a", seq: 0 }); // starts at once
    for (let seq = 1; seq <= 5; seq++) source.next({ camera: "a", seq }); // a floods
    source.next({ camera: "b", seq: 100 });
    expect(state.maxWaitingSeen).toBe(2);
    await releaseNext(); // a0 done → b served before a again? a was served last, so b is next
    expect(pending[0]!.item).toEqual({ camera: "b", seq: 100 });
    await releaseNext();
    expect(pending[0]!.item).toEqual({ camera: "a", seq: 5 });
    source.complete();
    await releaseNext();
    expect((await done).map((i) => i.seq)).toEqual([0, 100, 5]);
    expect(Object.fromEntries(dropsByCamera)).toEqual({ a: 4 });
  });

  it("an offline producer that awaits whenReady loses nothing", async () => {
    const state = new LatestWinsState();
    const source = new Subject<Item>();
    let drops = 0;
    const slow = (item: Item) => new Promise<Item>((resolve) => setTimeout(() => resolve(item), 1));
    const done = lastValueFrom(
      source.pipe(latestWins(slow, { maxInFlight: 1, keyOf: () => "cam", onDrop: () => drops++ }, state), toArray()),
    );
    for (let seq = 0; seq < 20; seq++) {
      await state.whenReady();
      source.next({ camera: "cam", seq });
    }
    source.complete();
    const processed = await done;
    expect(processed.map((i) => i.seq)).toEqual([...Array(20).keys()]);
    expect(drops).toBe(0);
  });

  it("honours maxInFlight > 1", async () => {
    const { process, pending } = manualProcess();
    const state = new LatestWinsState();
    const source = new Subject<Item>();
    source.pipe(latestWins(process, { maxInFlight: 2, keyOf: (i) => i.camera }, state)).subscribe();
    for (let seq = 0; seq < 4; seq++) source.next({ camera: "c", seq });
    expect(pending.map((p) => p.item.seq)).toEqual([0, 1]);
    expect(state.waiting).toBe(1);
  });
});

describe("latestWins lossless (offline)", () => {
  it("queues items released together instead of dropping them, in order", async () => {
    const { process, pending, releaseNext } = manualProcess();
    const state = new LatestWinsState();
    const source = new Subject<Item>();
    let drops = 0;
    const done = lastValueFrom(
      source.pipe(latestWins(process, { maxInFlight: 1, keyOf: (i) => i.camera, onDrop: () => drops++, lossless: true }, state), toArray()),
    );
    for (let seq = 0; seq < 4; seq++) source.next({ camera: "cam", seq });
    expect(state.waiting).toBe(3);
    let ready = false;
    void state.whenReady().then(() => (ready = true));
    source.complete();
    for (let k = 0; k < 3; k++) await releaseNext();
    expect(state.waiting).toBe(0);
    expect(ready).toBe(false); // the last one is still in flight
    expect(pending.map((p) => p.item.seq)).toEqual([3]);
    await releaseNext();
    expect(ready).toBe(true);
    expect((await done).map((i) => i.seq)).toEqual([0, 1, 2, 3]);
    expect(drops).toBe(0);
  });
});
