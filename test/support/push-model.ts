/**
 * What the hub must answer to pushes, worked out independently of it (API.md:
 * a new record is `accepted`; the same content again a `duplicate` that
 * changes nothing; changed content `updated`, a new version; records repeated
 * in one request are applied in their order). The model follows each record
 * by a key of the test's choosing and its content by a variant number.
 *
 * A request applied on its own has exactly one right answer. When copies of a
 * request run at the same time (a client that sent it twice), which copy
 * applies each record first is the hub's choice: the model then checks that
 * the statuses answered fit some order of applying the copies' records (each
 * copy in its own order), and keeps every history of contents such an order
 * leaves. All of them end with the same content and have the same length.
 */
export type PushStatus = 'accepted' | 'updated' | 'duplicate' | 'rejected';

/** A record of a request: which record and which content, or one the hub must reject. */
export type ModelRecord = { key: string; variant: number } | { rejected: true };

export class PushModel {
  /** Per record: the histories of contents written (oldest first) that the answers so far allow. */
  readonly #histories = new Map<string, number[][]>();

  keys(): string[] {
    return [...this.#histories.keys()];
  }

  /** The possible histories of a record (versions' contents, oldest first); undefined when never stored. */
  histories(key: string): readonly (readonly number[])[] | undefined {
    return this.#histories.get(key);
  }

  /** The content a record must hold now. */
  current(key: string): number | undefined {
    return this.#histories.get(key)?.[0]?.at(-1);
  }

  /** How many versions a record must have now. */
  versions(key: string): number {
    return this.#histories.get(key)?.[0]?.length ?? 0;
  }

  /** A request applied alone: the status the hub must answer for each record, in order. */
  applyAlone(records: readonly ModelRecord[]): PushStatus[] {
    return records.map((r) => {
      if ('rejected' in r) return 'rejected';
      const histories = this.#histories.get(r.key);
      if (!histories) {
        this.#histories.set(r.key, [[r.variant]]);
        return 'accepted';
      }
      if (histories[0]!.at(-1) === r.variant) return 'duplicate';
      for (const h of histories) h.push(r.variant);
      return 'updated';
    });
  }

  /**
   * Copies of one request applied at the same time, with the statuses each copy was answered:
   * what does not fit any order of applying them (one line per record; empty when all fit).
   */
  applyConcurrently(records: readonly ModelRecord[], answered: readonly (readonly PushStatus[])[]): string[] {
    const problems: string[] = [];
    const positions = new Map<string, number[]>();
    records.forEach((r, index) => {
      if ('rejected' in r) {
        answered.forEach((statuses, copy) => {
          if (statuses[index] !== 'rejected') problems.push(`record ${index} (invalid) was ${statuses[index]} in copy ${copy}, not rejected`);
        });
      } else positions.set(r.key, [...(positions.get(r.key) ?? []), index]);
    });
    for (const [key, at] of positions) {
      const variants = at.map((index) => (records[index] as { variant: number }).variant);
      const statuses = answered.map((copy) => at.map((index) => copy[index]!));
      const starts = this.#histories.get(key) ?? [[]];
      const found = new Map<string, number[]>();
      for (const start of starts) for (const h of interleavings(variants, statuses, start)) found.set(JSON.stringify(h), h);
      if (found.size === 0) {
        problems.push(`${key}: contents ${JSON.stringify(variants)} answered ${JSON.stringify(statuses)} fit no order of applying the copies to ${JSON.stringify(starts)}`);
      } else this.#histories.set(key, [...found.values()]);
    }
    return problems;
  }
}

/** The status pushing `variant` onto a record with `history` gets. */
function statusOf(history: readonly number[], variant: number): PushStatus {
  if (history.length === 0) return 'accepted';
  return history.at(-1) === variant ? 'duplicate' : 'updated';
}

/** Every history left by an order of applying the copies' records that gives exactly the statuses answered. */
function interleavings(variants: readonly number[], statuses: readonly (readonly PushStatus[])[], start: readonly number[]): number[][] {
  const out: number[][] = [];
  const step = (done: number[], history: number[]) => {
    if (done.every((n) => n === variants.length)) return void out.push(history);
    done.forEach((n, copy) => {
      if (n === variants.length) return;
      const variant = variants[n]!;
      const status = statusOf(history, variant);
      if (status !== statuses[copy]![n]) return;
      const next = [...done];
      next[copy] = n + 1;
      step(next, status === 'duplicate' ? history : [...history, variant]);
    });
  };
  step(statuses.map(() => 0), [...start]);
  return out;
}
