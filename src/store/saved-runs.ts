/** A run saved in this browser, as the runs list shows it (src/client/storage/run-store.ts keeps them). */
import type { TrainConfig } from '../config/schema.ts';

export interface SavedRunMeta {
  key: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  epoch: number;
  config: TrainConfig;
  /** The run reached its epoch limit. */
  finished: boolean;
  /** Bytes of the run file plus its snapshots. */
  bytes: number;
  snapshotEpochs: number[];
  /** Set on a resume offer: another tab has the run open (it is offered as a copy). */
  openElsewhere?: boolean;
}
