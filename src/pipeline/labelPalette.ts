// Class-id conventions shared by the label image, the point cloud and the colourised view.

import type { LabelSet } from "../inference/labels.js";

/**
 * The "unlabelled" id is the label image's maximum value (DESIGN: max value = unlabelled):
 * 255 while every class id fits below it (mono8), else 65535 (16UC1).
 */
export function unlabelledValue(labels: LabelSet | undefined): number {
  if (!labels || labels.classes.length === 0) return 255;
  const maxId = Math.max(...labels.classes.map((c) => c.id));
  return maxId < 255 ? 255 : 65535;
}

/** RGB per class id (3 bytes each, indexable by id up to `unlabelled`); unknown ids stay black. */
export function labelPalette(labels: LabelSet | undefined, unlabelled: number): Uint8Array {
  const palette = new Uint8Array((unlabelled + 1) * 3);
  for (const entry of labels?.classes ?? []) palette.set(entry.color, entry.id * 3);
  return palette;
}
