// The Kappa side panel: kappanb's stack and jobs, refreshed every few seconds while shown,
// with the actions of the contract's routes. Actions run in the background: their button
// shows progress and is disabled, the rest of the UI stays usable.
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { getState, type IJobState, type IKappaState, jobAction, stackAction } from '../api';
import { confirm, confirmations } from './confirm';
import { el } from './dom';
import { type PollResult, StatePoller } from './poller';
import { actionKey, renderJobs, renderStack } from './render';
import { insertWatchCell } from './watchCell';

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

export class KappaPanel extends Widget {
  private readonly poller: StatePoller;
  private readonly updated = el('span', { class: 'kappa-updated kappa-dim' }, 'loading…');
  private readonly error = el('div', { class: 'kappa-error', role: 'alert', hidden: true });
  private readonly notice = el('div', { class: 'kappa-notice', role: 'status', hidden: true });
  private readonly content = el('div', { class: 'kappa-content' });
  private readonly busy = new Map<string, string>();
  private state: IKappaState | null = null;
  private rendered = '';
  private pollError = '';
  private actionError = '';
  private signature = '';
  private errorSignature = '';

  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly notebooks: INotebookTracker | null
  ) {
    super();
    this.id = 'kappanb-panel';
    this.addClass('kappa-panel');
    this.title.label = 'Kappa';
    this.title.caption = 'Kappa: stack and jobs';
    this.node.append(
      el('header', { class: 'kappa-header' }, el('h2', {}, 'Kappa'), this.updated),
      this.error,
      this.notice,
      this.content
    );
    this.node.addEventListener('click', event => this.onClick(event));
    this.poller = new StatePoller(
      signal => getState(signal),
      result => this.onPoll(result)
    );
  }

  protected override onAfterShow(): void {
    this.poller.start();
  }

  protected override onBeforeHide(): void {
    this.poller.stop();
  }

  protected override onAfterAttach(): void {
    if (this.isVisible) {
      this.poller.start();
    }
  }

  protected override onBeforeDetach(): void {
    this.poller.stop();
  }

  override dispose(): void {
    this.poller.stop();
    super.dispose();
  }

  private onPoll(result: PollResult): void {
    if ('state' in result) {
      // An action's error is about the state it was refused in: once the stack or a
      // run's state changed (the stack stopped, say), it no longer applies.
      const signature = stateSignature(result.state);
      if (this.actionError && signature !== this.errorSignature) {
        this.actionError = '';
      }
      this.signature = signature;
      this.state = result.state;
      this.pollError = '';
      this.updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } else {
      this.pollError = messageOf(result.error);
      this.updated.textContent = 'not updated';
    }
    this.render();
  }

  private render(force = false): void {
    const errors = [this.actionError, this.pollError].filter(e => e);
    this.error.hidden = errors.length === 0;
    this.error.textContent = errors.join('\n');
    this.content.classList.toggle('kappa-stale', this.pollError !== '');
    if (!this.state) {
      return;
    }
    const key = JSON.stringify([this.state, [...this.busy]]);
    if (!force && key === this.rendered) {
      return; // nothing changed: keep the DOM (and the hover, the focus) as it is
    }
    this.rendered = key;
    this.content.replaceChildren(
      renderStack(this.state, this.busy),
      renderJobs(this.state, this.busy)
    );
  }

  private showNotice(text: string): void {
    this.notice.hidden = !text;
    this.notice.textContent = text;
  }

  private onClick(event: MouseEvent): void {
    const target = event.target instanceof Element ? event.target : null;
    const button = target?.closest<HTMLButtonElement>('button[data-kappa-action]');
    if (!button || button.disabled || !this.state) {
      return;
    }
    const action = button.dataset.kappaAction ?? '';
    const jobName = button.closest<HTMLElement>('[data-kappa-job]')?.dataset.kappaJob;
    const versionText = button.closest<HTMLElement>('[data-kappa-version]')?.dataset.kappaVersion;
    const version = versionText === undefined ? null : Number(versionText);
    const job = this.state.jobs.find(j => j.name === jobName) ?? null;
    void this.act(action, job, version, button.dataset.kappaForce === 'true');
  }

  private async act(
    action: string,
    job: IJobState | null,
    version: number | null,
    force = false
  ): Promise<void> {
    if (action === 'up' || action === 'down') {
      if (action === 'down' && !(await confirm(confirmations.down()))) {
        return;
      }
      const doing = action === 'up' ? 'Starting the stack (about 20 s)…' : 'Stopping the stack…';
      await this.run(actionKey(action), action === 'up' ? 'Starting…' : 'Stopping…', doing, () =>
        stackAction(action)
      );
      return;
    }
    if (!job) {
      return;
    }
    switch (action) {
      case 'watch':
        await this.run(actionKey('watch', job.name), 'Adding…', '', async () => {
          const notebook = await insertWatchCell(this.app, this.notebooks, job.name);
          return { message: `Added a %kappa watch ${job.name} cell to ${notebook} and ran it.` };
        });
        return;
      case 'promote':
      case 'stop': {
        const asked =
          action === 'promote' && force
            ? confirmations.promoteForce(job, version ?? 0)
            : confirmations[action](job, version ?? 0);
        if (version === null || !(await confirm(asked))) {
          return;
        }
        const body = action === 'promote' && force ? { version, force } : { version };
        await this.run(
          actionKey(action, job.name, version),
          action === 'promote' ? 'Promoting…' : 'Stopping…',
          `${action === 'promote' ? 'Promoting' : 'Stopping'} ${job.name} v${version}…`,
          () => jobAction(job.name, action, body)
        );
        return;
      }
      case 'rollback':
        if (!(await confirm(confirmations.rollback(job)))) {
          return;
        }
        await this.run(
          actionKey('rollback', job.name),
          'Rolling back…',
          `Rolling ${job.name} back…`,
          () => jobAction(job.name, 'rollback', {})
        );
        return;
    }
  }

  /** Runs one action with its button disabled and showing `pending`; reports the outcome. */
  private async run(
    key: string,
    pending: string,
    doing: string,
    call: () => Promise<{ message: string }>
  ): Promise<void> {
    if (this.busy.has(key)) {
      return;
    }
    this.busy.set(key, pending);
    this.actionError = '';
    this.showNotice(doing);
    this.render();
    try {
      const reply = await call();
      this.showNotice(reply.message);
    } catch (error) {
      this.showNotice('');
      this.actionError = messageOf(error);
      this.errorSignature = this.signature;
    } finally {
      this.busy.delete(key);
      this.render(true);
      this.poller.refresh();
    }
  }
}

/** What an action's outcome depends on: the stack running, each version's run and state,
 * the served version (not the figures, which change on every poll). */
export function stateSignature(state: IKappaState): string {
  return JSON.stringify([
    state.stack.running,
    state.jobs.map(j => [j.name, j.serving, j.versions.map(v => [v.run?.id, v.run?.state])])
  ]);
}
