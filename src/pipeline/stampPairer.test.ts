import { describe, expect, it } from "vitest";
import { StampPairer, type PairingEvent } from "./stampPairer.js";

const t = (sec: number, nanosec = 0) => ({ sec, nanosec });
const ms = (milliseconds: number) => t(Math.floor(milliseconds / 1000), (milliseconds % 1000) * 1_000_000);

/** "image->info" for each pair, "image:-" for each image turned away. */
function summarise<I, C>(events: PairingEvent<I, C>[]): string[] {
  return events.map((e) => (e.kind === "paired" ? `${String(e.image)}->${String(e.info)}` : `${String(e.image)}:-`));
}

describe("StampPairer, exact (sync_slop 0)", () => {
  it("pairs exact stamps whichever message arrives first", () => {
    const pairer = new StampPairer<string, string>(0);
    expect(pairer.addImage(t(1), "img1")).toEqual([]);
    expect(pairer.addInfo(t(1), "info1")).toEqual([{ kind: "paired", image: "img1", info: "info1", stamp: t(1) }]);
    expect(pairer.addInfo(t(2), "info2")).toEqual([]);
    expect(pairer.addImage(t(2), "img2")).toEqual([{ kind: "paired", image: "img2", info: "info2", stamp: t(2) }]);
  });

  it("does not pair stamps 1 ns apart, and reports it once a later CameraInfo proves it", () => {
    const pairer = new StampPairer<string, string>(0);
    expect(pairer.addImage(t(1, 1), "img")).toEqual([]);
    const events = pairer.addInfo(t(1, 2), "info");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "unpaired", image: "img" });
    expect(events[0]!.kind === "unpaired" && events[0]!.detail).toContain("exact stamp");
  });

  it("stamps that jump backwards (clock reset) pair as before the jump, in either arrival order", () => {
    const pairer = new StampPairer<string, string>(0);
    const events: PairingEvent<string, string>[] = [];
    // 40 frames at 1000 s + 33 ms steps fill every queue with large stamps ...
    for (let i = 0; i < 40; i++) {
      events.push(...pairer.addInfo(ms(1_000_000 + 33 * i), `i${i}`));
      events.push(...pairer.addImage(ms(1_000_000 + 33 * i), `m${i}`));
    }
    // ... then the clock restarts at 5 s: info first for one frame, image first for the next.
    events.push(...pairer.addInfo(ms(5000), "iA"));
    events.push(...pairer.addImage(ms(5000), "mA"));
    events.push(...pairer.addImage(ms(5033), "mB"));
    events.push(...pairer.addInfo(ms(5033), "iB"));
    expect(summarise(events).slice(40)).toEqual(["mA->iA", "mB->iB"]);
    expect(events.filter((e) => e.kind === "unpaired")).toEqual([]);
    expect(pairer.waitingImages).toBe(0);
  });

  it("a backwards stamp does not make later valid frames fail (they did with smallest-stamp eviction)", () => {
    const pairer = new StampPairer<number, number>(0);
    for (let i = 0; i < 32; i++) pairer.addInfo(t(100 + i), i);
    // Past the jump, each frame's CameraInfo is now the smallest stamp kept.
    const out = [];
    for (let i = 0; i < 5; i++) {
      out.push(...pairer.addInfo(t(10 + i), 1000 + i));
      out.push(...pairer.addImage(t(10 + i), 2000 + i));
    }
    expect(summarise(out)).toEqual(["2000->1000", "2001->1001", "2002->1002", "2003->1003", "2004->1004"]);
  });

  it("duplicate stamps lose nothing: two images share one CameraInfo, the later of two CameraInfos wins", () => {
    const pairer = new StampPairer<string, string>(0);
    expect(summarise([...pairer.addImage(t(3), "a"), ...pairer.addImage(t(3), "b")])).toEqual([]);
    expect(summarise(pairer.addInfo(t(3), "info"))).toEqual(["a->info", "b->info"]);
    expect(summarise(pairer.addImage(t(3), "c"))).toEqual(["c->info"]);
    pairer.addInfo(t(4), "first");
    pairer.addInfo(t(4), "second");
    expect(summarise(pairer.addImage(t(4), "d"))).toEqual(["d->second"]);
  });

  it("live: an image with no CameraInfo is turned away once a CameraInfo that arrived after it is newer", () => {
    const pairer = new StampPairer<string, string>(0);
    pairer.addInfo(t(9), "late-stamped");
    // The 9 s CameraInfo arrived before the image: it proves nothing (it may be from before a reset).
    expect(pairer.addImage(t(5), "img")).toEqual([]);
    expect(pairer.addInfo(t(4), "older")).toEqual([]);
    const events = pairer.addInfo(t(6), "newer");
    expect(summarise(events)).toEqual(["img:-"]);
    expect(events[0]!.kind === "unpaired" && events[0]!.detail).toBe("no CameraInfo with the exact stamp (nearest is 1.000000 s away)");
  });

  it("offline (lossless): CameraInfo stamps out of arrival order still pair; nothing pairable is lost", () => {
    // Log order: image 1, info 2, image 2, info 1 (the recorder wrote info 1 late).
    const pairer = new StampPairer<string, string>(0, { lossless: true });
    const events = [
      ...pairer.addImage(t(1), "m1"),
      ...pairer.addInfo(t(2), "i2"),
      ...pairer.addImage(t(2), "m2"),
      ...pairer.addInfo(t(1), "i1"),
      ...pairer.flush(),
    ];
    expect(summarise(events)).toEqual(["m2->i2", "m1->i1"]);
    // The live rule turns image 1 away at info 2 instead (bounded latency over completeness).
    const live = new StampPairer<string, string>(0);
    const liveEvents = [...live.addImage(t(1), "m1"), ...live.addInfo(t(2), "i2"), ...live.addInfo(t(1), "i1")];
    expect(summarise(liveEvents)).toEqual(["m1:-"]);
  });

  it("flush reports images still waiting", () => {
    const pairer = new StampPairer<string, string>(0);
    pairer.addImage(t(5), "x");
    expect(pairer.waitingImages).toBe(1);
    const events = pairer.flush();
    expect(events).toEqual([{ kind: "unpaired", image: "x", stamp: t(5), detail: "no CameraInfo received with the exact stamp" }]);
    expect(pairer.waitingImages).toBe(0);
  });

  it("bounds the images waiting for a CameraInfo (oldest decided first)", () => {
    const pairer = new StampPairer<number, string>(0, { maxWaitingImages: 3 });
    const unpaired = [];
    for (let i = 0; i < 5; i++) unpaired.push(...pairer.addImage(t(i), i));
    expect(unpaired.map((e) => e.image)).toEqual([0, 1]);
    expect(pairer.waitingImages).toBe(3);
    // Offline keeps 64 waiting by default, live 16.
    const offline = new StampPairer<number, string>(0, { lossless: true });
    const live = new StampPairer<number, string>(0);
    for (let i = 0; i < 100; i++) {
      offline.addImage(t(i), i);
      live.addImage(t(i), i);
    }
    expect([offline.waitingImages, live.waitingImages]).toEqual([64, 16]);
  });
});

describe("StampPairer, approximate (sync_slop > 0)", () => {
  it("waits for a better CameraInfo within the slop instead of taking the nearest one present", () => {
    const pairer = new StampPairer<string, string>(0.02);
    pairer.addInfo(ms(1000), "a");
    // "a" is 10 ms away and a closer one may still come: wait.
    expect(pairer.addImage(ms(1010), "img")).toEqual([]);
    // 12 ms is 2 ms away, and anything after it (in stamp order) is further: final.
    expect(summarise(pairer.addInfo(ms(1012), "b"))).toEqual(["img->b"]);
  });

  it("emits the pair as soon as a later CameraInfo proves nothing closer can come", () => {
    const pairer = new StampPairer<string, string>(0.02);
    pairer.addInfo(ms(1000), "a");
    expect(pairer.addImage(ms(1004), "img")).toEqual([]);
    // 1030 is past 1004 + 4 ms: "a" (4 ms away) was the best.
    expect(summarise(pairer.addInfo(ms(1030), "c"))).toEqual(["img->a"]);
  });

  it("pairs at once when the nearest candidate is at or after the image (nothing closer can follow it)", () => {
    const pairer = new StampPairer<string, string>(0.01);
    pairer.addInfo(ms(1000), "a");
    pairer.addInfo(ms(1008), "b");
    expect(summarise(pairer.addImage(ms(1006), "img"))).toEqual(["img->b"]);
  });

  it("an earlier candidate is final once a later CameraInfo passes t + gap; with none in the slop the image is turned away", () => {
    const pairer = new StampPairer<string, string>(0.01);
    pairer.addImage(ms(500), "early");
    pairer.addInfo(ms(495), "near-but-not-enough");
    const events = pairer.addInfo(ms(1000), "a");
    expect(summarise(events)).toEqual(["early->near-but-not-enough"]);
    pairer.addImage(ms(2000), "lonely");
    const lonely = pairer.addInfo(ms(2030), "far");
    expect(summarise(lonely)).toEqual(["lonely:-"]);
    expect(lonely[0]!.kind === "unpaired" && lonely[0]!.detail).toBe("no CameraInfo within sync_slop 0.01 s (nearest is 0.030000 s away)");
  });

  it("at the queue bound an image takes the best candidate it has rather than failing", () => {
    const pairer = new StampPairer<number, string>(0.02, { maxWaitingImages: 2 });
    pairer.addInfo(ms(1000), "a");
    // Each image has "a" within the slop but waits for proof that never comes (no later CameraInfo).
    const events = [...pairer.addImage(ms(1005), 1), ...pairer.addImage(ms(1010), 2), ...pairer.addImage(ms(1015), 3)];
    expect(summarise(events)).toEqual(["1->a"]);
    expect(summarise(pairer.flush())).toEqual(["2->a", "3->a"]);
  });

  it("slop can be changed at run time, and re-judges waiting images", () => {
    const pairer = new StampPairer<string, string>(0);
    pairer.addInfo(ms(1000), "a");
    pairer.slopSec = 0.005;
    expect(summarise(pairer.addImage(ms(1004), "img"))).toEqual([]);
    expect(summarise(pairer.addInfo(ms(1040), "later"))).toEqual(["img->a"]);
    const narrowed = new StampPairer<string, string>(0.005);
    narrowed.addInfo(ms(1000), "a");
    narrowed.addImage(ms(1004), "img");
    narrowed.slopSec = 0;
    expect(summarise(narrowed.addInfo(ms(1040), "later"))).toEqual(["img:-"]);
  });
});
