// The confirmations asked before an action that changes what is served or what runs.
import { Dialog, showDialog } from '@jupyterlab/apputils';

import type { IJobState } from '../api';

export interface IConfirmation {
  title: string;
  body: string;
  /** The accept button's label (the browser test clicks it by this label). */
  accept: string;
  warn: boolean;
}

export const confirmations = {
  promote: (job: IJobState, version: number): IConfirmation => ({
    title: `Promote ${job.name} v${version}?`,
    body:
      `The serving name ${job.name} will read v${version}` +
      (job.serving === null ? '.' : ` instead of v${job.serving}.`) +
      ' kappanb refuses when v' +
      version +
      ' has not caught up with the log yet.',
    accept: 'Promote',
    warn: false
  }),
  promoteForce: (job: IJobState, version: number): IConfirmation => ({
    title: `Promote ${job.name} v${version} anyway?`,
    body:
      `v${version} has not caught up with the log, or its run is not running: its table ` +
      `may lack recent events. The serving name ${job.name} will read it as it is` +
      (job.serving === null ? '.' : ` instead of v${job.serving}.`),
    accept: 'Promote',
    warn: true
  }),
  rollback: (job: IJobState): IConfirmation => ({
    title: `Roll ${job.name} back?`,
    body: `The serving name ${job.name} goes back to the version it served before v${job.serving}.`,
    accept: 'Rollback',
    warn: false
  }),
  stop: (job: IJobState, version: number): IConfirmation => ({
    title: `Stop ${job.name} v${version}?`,
    body: `kappanb stops the Flink job of ${job.name} v${version}. Its table keeps what it wrote.`,
    accept: 'Stop',
    warn: true
  }),
  down: (): IConfirmation => ({
    title: 'Stop the kappanb stack?',
    body: 'Kafka, Flink and the catalog stop, and the jobs running on Flink with them.',
    accept: 'Stop stack',
    warn: true
  })
};

/** Shows the dialog; true when the user accepted. */
export async function confirm(what: IConfirmation): Promise<boolean> {
  const accept = what.warn
    ? Dialog.warnButton({ label: what.accept })
    : Dialog.okButton({ label: what.accept });
  const result = await showDialog({
    title: what.title,
    body: what.body,
    buttons: [Dialog.cancelButton(), accept]
  });
  return result.button.accept;
}
