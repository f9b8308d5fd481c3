/**
 * What the page says about saving (persistence.ts): why a save failed, in words (a full quota
 * with its numbers and what to do), each problem once until a save succeeds again, not once per
 * checkpoint; what the storage budget removed; and that the saved runs were cleared under the tab.
 */
import { useAppStore } from '../../store/store.ts';
import { STORAGE_BUDGET_BYTES, StorageFullError, type BudgetReport } from './run-store.ts';

const store = () => useAppStore.getState();

/** Problems already told (one notice each until a save succeeds again). */
const told = new Set<string>();

const mb = (n: number) => `${Math.round(n / 1024 / 1024).toLocaleString('en-US')} MB`;

/** Why a save failed, in words: a full quota is named with its numbers. */
async function saveProblem(err: unknown): Promise<string> {
  if (err instanceof StorageFullError || (err as { name?: string } | null)?.name === 'QuotaExceededError') {
    const e = await navigator.storage?.estimate?.().catch(() => undefined);
    const numbers = e?.quota ? ` (${mb(e.usage ?? 0)} of the ${mb(e.quota)} it allows this page are in use)` : '';
    return `the browser refused to store it: its storage quota for this page is full${numbers}. Delete saved runs or export this one as a file`;
  }
  return err instanceof Error && err.message ? err.message : String(err) || 'an unknown storage error';
}

/** A save problem, told once until a save succeeds (not one notice per checkpoint). */
export async function warnSave(prefix: string, err: unknown): Promise<void> {
  const full = err instanceof StorageFullError || (err as { name?: string } | null)?.name === 'QuotaExceededError';
  const kind = full ? 'quota' : `${prefix}: ${err instanceof Error ? err.message : String(err)}`;
  if (told.has(kind)) return;
  told.add(kind);
  const more = full ? ' Training goes on, and the run is kept in this page: it is saved again at the next checkpoint once there is room.' : '';
  store().notify('warning', `${prefix}: ${await saveProblem(err)}.${more}`);
}

export function saved(): void {
  told.clear();
}

export function reportBudget(r: BudgetReport): void {
  if (r.thinned.length === 0 && r.deleted.length === 0 && !r.over) return;
  const parts: string[] = [];
  if (r.thinned.length) parts.push(`thinned the snapshots of ${r.thinned.map((n) => `“${n}”`).join(', ')}`);
  if (r.deleted.length) parts.push(`deleted the oldest saved run${r.deleted.length > 1 ? 's' : ''} ${r.deleted.map((n) => `“${n}”`).join(', ')}`);
  const over = r.over ? ` The open run alone is larger than the ${mb(STORAGE_BUDGET_BYTES)} budget; it is kept, but export it to be safe.` : '';
  store().notify('warning', `Saved runs were over the ${mb(STORAGE_BUDGET_BYTES)} storage budget: ${parts.join('; ') || 'nothing could be removed'}.${over}`);
}

/** Says once that the saved runs were cleared under this tab and the open run was saved again. */
export function tellCleared(epoch: number): void {
  if (told.has('cleared')) return;
  told.add('cleared');
  store().notify('warning', `The saved runs were cleared under this tab (the browser's site data, or another tab): this run was saved again, whole, at epoch ${epoch.toLocaleString('en-US')}, and goes on being saved. Runs saved before and not open here are gone unless they were exported.`);
}
