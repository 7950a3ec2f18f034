// Builds the panel's content from kappanb's state: the stack's services, then each job
// with its versions. Buttons carry data-kappa-action; the panel handles their clicks.
// The data-kappa-* attributes and kappa-* classes are the hooks the browser test uses.
import type { IJobState, IKappaState, IRunState, IServiceState, IVersionState } from '../api';
import { el, externalLink } from './dom';

export type StackAction = 'up' | 'down';
export type JobAction = 'watch' | 'promote' | 'rollback' | 'stop';

/** Buttons under way: their key (see actionKey) -> the text shown meanwhile. */
export type Busy = ReadonlyMap<string, string>;

export const actionKey = (action: string, job = '', version: number | null = null): string =>
  [action, job, version ?? ''].join(':');

function button(
  action: StackAction | JobAction,
  label: string,
  title: string,
  busy: Busy,
  key: string,
  enabled = true
): HTMLButtonElement {
  const pending = busy.get(key);
  const node = el(
    'button',
    {
      class: `kappa-button kappa-button-${action}${pending ? ' kappa-busy' : ''}`,
      type: 'button',
      'data-kappa-action': action,
      title,
      disabled: !enabled || pending !== undefined
    },
    pending ?? label
  );
  return node;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function service(svc: IServiceState): HTMLElement {
  const health = svc.healthy ? 'healthy' : svc.pid === null ? 'stopped' : 'unhealthy';
  // kappanb's own word for the state (`kappanb status`) when the server sends it
  const said = text(svc.state) || health;
  const detail = [text(svc.address), text(svc.detail), text(svc.log_file)].filter(t => t);
  return el(
    'li',
    { class: 'kappa-service', 'data-kappa-service': svc.name, title: detail.join('\n') },
    el('span', { class: `kappa-dot kappa-dot-${health}`, title: health }),
    el('span', { class: 'kappa-service-name' }, svc.name),
    el('span', { class: 'kappa-dim' }, svc.pid === null ? said : `${said} · pid ${svc.pid}`)
  );
}

export function renderStack(state: IKappaState, busy: Busy): HTMLElement {
  const { stack } = state;
  const summary = stack.running ? (stack.healthy ? 'running' : 'running, not healthy') : 'stopped';
  const buttons = el('div', { class: 'kappa-buttons' });
  if (!stack.running || !stack.healthy) {
    buttons.append(
      button(
        'up',
        'Start stack',
        'kappanb up: start Kafka, Flink and the catalog',
        busy,
        actionKey('up')
      )
    );
  }
  // "Stop stack" stands alone at the end of the section, away from the Flink UI link
  // (a link in the heading), so a click meant for one never lands on the other.
  const stop = stack.running
    ? el(
        'div',
        { class: 'kappa-buttons kappa-stack-stop' },
        button('down', 'Stop stack', 'kappanb down: stop the stack', busy, actionKey('down'))
      )
    : null;
  const flinkUi = state.flink_ui
    ? externalLink(`${state.flink_ui.replace(/\/$/, '')}/#/overview`, 'Flink UI ↗', 'Flink web UI')
    : null;
  const notes = [...state.problems, ...(state.warnings ?? [])];
  const problems = notes.length
    ? el('ul', { class: 'kappa-problems' }, ...notes.map(p => el('li', {}, p)))
    : null;
  return el(
    'section',
    { class: 'kappa-stack', 'data-kappa-stack': stack.running ? 'running' : 'stopped' },
    el('h3', {}, 'Stack ', el('span', { class: 'kappa-dim' }, summary), flinkUi),
    el('ul', { class: 'kappa-services' }, ...stack.services.map(service)),
    buttons.childElementCount ? buttons : null,
    problems,
    el('div', { class: 'kappa-dim kappa-home', title: 'KAPPANB_HOME' }, state.home),
    stop
  );
}

function runFacts(run: IRunState): HTMLElement {
  const facts: (string | HTMLElement)[] = [`${run.mode}${run.bounded ? ', bounded' : ''}`];
  if (run.behind !== null) {
    facts.push(`${run.behind.toLocaleString('en-US')} behind`);
  }
  // The server's word, the one the watch panel uses for the same figures: this panel
  // computes no verdict of its own ("caught up" here and "catching up" there).
  const progress = run.progress ?? '';
  if (progress) {
    const settled = progress === 'caught up' || progress === 'finished';
    facts.push(el('span', { class: `kappa-caught-up kappa-caught-up-${settled}` }, progress));
  }
  // As the watch's "late" column and `status`: records the windows dropped, not in the output.
  const late = run.late_dropped ?? 0;
  if (late > 0) {
    const title = 'records its windows dropped as late: they are not in the output';
    facts.push(
      el('span', { class: 'kappa-late', title }, `${late.toLocaleString('en-US')} late dropped`)
    );
  }
  const parts = facts.flatMap((fact, i) => (i ? [' · ', fact] : [fact]));
  return el('div', { class: 'kappa-facts' }, ...parts);
}

function versionRow(job: IJobState, v: IVersionState, busy: Busy): HTMLElement {
  const serving = job.serving === v.version;
  const run = v.run;
  const state = run ? run.shown || run.state : 'not run';
  const actions = v.actions ?? [];
  const buttons = el('div', { class: 'kappa-buttons' });
  const key = actionKey('promote', job.name, v.version);
  if (actions.includes('promote')) {
    buttons.append(button('promote', 'Promote', `serve ${job.name} v${v.version}`, busy, key));
  } else if (actions.includes('promote-force')) {
    const forced = button(
      'promote',
      'Promote anyway…',
      `v${v.version} has not caught up or is not running: serve it as it is (force)`,
      busy,
      key
    );
    forced.dataset.kappaForce = 'true';
    buttons.append(forced);
  }
  if (actions.includes('stop')) {
    buttons.append(
      button(
        'stop',
        'Stop',
        `stop v${v.version}'s run`,
        busy,
        actionKey('stop', job.name, v.version)
      )
    );
  }
  if (run?.flink_url) {
    buttons.append(
      externalLink(run.flink_url, 'Flink job ↗', `v${v.version}'s job in Flink's web UI`)
    );
  }
  return el(
    'li',
    {
      class: `kappa-version${serving ? ' kappa-version-serving' : ''}`,
      'data-kappa-version': String(v.version)
    },
    el(
      'div',
      { class: 'kappa-version-head' },
      el('span', { class: 'kappa-version-name' }, `v${v.version}`),
      serving
        ? el('span', { class: 'kappa-serving', title: 'the served version' }, 'serving')
        : null,
      el(
        'span',
        { class: `kappa-state kappa-state-${state.toLowerCase().replace(/\W+/g, '-')}` },
        state
      )
    ),
    v.note ? el('div', { class: 'kappa-note kappa-dim' }, v.note) : null,
    run ? runFacts(run) : null,
    run?.error ? el('div', { class: 'kappa-run-error' }, run.error) : null,
    buttons.childElementCount ? buttons : null
  );
}

/** Only the job actions the server would carry out now (none while the stack is down). */
function jobButtons(job: IJobState, busy: Busy): HTMLElement | null {
  const actions = job.actions ?? [];
  const buttons: HTMLElement[] = [];
  if (actions.includes('watch')) {
    buttons.push(
      button(
        'watch',
        'Watch',
        `add a %kappa watch ${job.name} cell below the active cell and run it`,
        busy,
        actionKey('watch', job.name)
      )
    );
  }
  if (actions.includes('rollback')) {
    buttons.push(
      button(
        'rollback',
        'Rollback',
        `serve the version ${job.name} served before`,
        busy,
        actionKey('rollback', job.name)
      )
    );
  }
  return buttons.length ? el('div', { class: 'kappa-buttons' }, ...buttons) : null;
}

function jobBlock(job: IJobState, busy: Busy): HTMLElement {
  const serving = job.serving === null ? 'nothing served' : `serving v${job.serving}`;
  return el(
    'div',
    { class: 'kappa-job', 'data-kappa-job': job.name },
    el(
      'div',
      { class: 'kappa-job-head' },
      el('span', { class: 'kappa-job-name' }, job.name),
      el('span', { class: 'kappa-dim' }, serving)
    ),
    jobButtons(job, busy),
    el('ul', { class: 'kappa-versions' }, ...job.versions.map(v => versionRow(job, v, busy)))
  );
}

export function renderJobs(state: IKappaState, busy: Busy): HTMLElement {
  return el(
    'section',
    { class: 'kappa-jobs' },
    el('h3', {}, 'Jobs'),
    state.jobs.length
      ? null
      : el('div', { class: 'kappa-dim' }, 'No jobs yet: define one with a %%kappa job cell.'),
    ...state.jobs.map(job => jobBlock(job, busy))
  );
}
