/**
 * One redraw queue for every chart on the page: draws run on animation frames, as many per frame
 * as fit in FRAME_BUDGET_MS, the rest on the next frames — so a checkpoint that touches ten charts
 * never becomes one long main-thread task.
 */

/** Time spent drawing in one frame before the rest waits for the next. */
export const FRAME_BUDGET_MS = 12;

const pending = new Map<object, () => void>();
let frame = 0;

export function requestDraw(key: object, draw: () => void): void {
  pending.set(key, draw);
  if (!frame) frame = requestAnimationFrame(flush);
}

export function cancelDraw(key: object): void {
  pending.delete(key);
}

function flush(): void {
  frame = 0;
  const start = performance.now();
  for (const [key, draw] of pending) {
    pending.delete(key);
    draw();
    if (performance.now() - start > FRAME_BUDGET_MS) break;
  }
  if (pending.size > 0) frame = requestAnimationFrame(flush);
}
