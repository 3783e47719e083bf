// Removal from an open-addressing table with linear probing in shared memory (FlowOwners, SharedUserCounts):
// backward-shift deletion, which leaves no tombstones, so a table whose keys come and go for months never fills
// with dead slots. Each table says how its slots are laid out; the walk is the same for all.

/** How a table lays out its slots in its Int32Array. */
export interface ProbeLayout {
  /** Slot count - 1 (a power of two minus one). */
  readonly mask: number;
  /** Word index of slot 0, and words per slot. */
  readonly slot0: number;
  readonly stride: number;
  /** Whether the slot at word index `at` is empty. */
  isEmpty(at: number): boolean;
  /** The slot index where the probe for the entry at word index `at` starts. */
  home(at: number): number;
  /** Copies the entry at `from` into the slot at `to` (word indexes), in the order the table's readers need. */
  move(from: number, to: number): void;
  /** Empties the slot at `at`. */
  clear(at: number): void;
}

/**
 * Empties the slot at word index `at`, moving later entries of its probe run back so that every probe still finds
 * them: an entry moves back to the hole only if the hole lies between its home slot and where it is now.
 */
export function removeSlot(layout: ProbeLayout, at: number): void {
  const { mask, slot0, stride } = layout;
  let hole = (at - slot0) / stride;
  for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
    const from = slot0 + j * stride;
    if (layout.isEmpty(from)) break;
    if (((j - layout.home(from)) & mask) < ((j - hole) & mask)) continue;
    layout.move(from, slot0 + hole * stride);
    hole = j;
  }
  layout.clear(slot0 + hole * stride);
}
