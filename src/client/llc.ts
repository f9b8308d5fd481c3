/**
 * Keeps the worker's LLC over training in step with the page: the schedule from the link (`llc=`)
 * or the panel goes to the worker when it changes (the worker keeps it for every run it builds),
 * and a new run's estimates start from nothing.
 */
import type { LlcSchedule } from '../config/llc.ts';
import { useLlcStore } from '../store/llc.ts';
import { useAppStore } from '../store/store.ts';
import { commands } from './client.ts';

/** After commands.init(): the worker has its run to estimate. */
export function startLlcRequests(fromLink: LlcSchedule | null): void {
  useLlcStore.getState().setSchedule(fromLink);
  if (fromLink) commands.llc(fromLink);
  useLlcStore.subscribe((s) => s.schedule, (schedule) => commands.llc(schedule));
  useAppStore.subscribe(
    (s) => s.readyCount,
    () => {
      useLlcStore.getState().clear(useAppStore.getState().readyLoaded);
      // A worker started again (after a crash or a lost GPU) has not heard the schedule; the same one again changes nothing.
      const { schedule } = useLlcStore.getState();
      if (schedule) commands.llc(schedule);
    },
  );
}
