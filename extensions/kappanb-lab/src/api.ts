// The kappanb server routes (kappanb.server), called through Jupyter's own connection:
// ServerConnection adds the token and the XSRF header. Shapes follow
// extensions/kappanb-lab/API.md; every error body is {"message": "..."}.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IServiceState {
  name: string;
  healthy: boolean;
  pid: number | null;
  [extra: string]: unknown;
}

export interface IRunState {
  id: number;
  state: string;
  mode: string;
  bounded: boolean;
  behind: number | null;
  caught_up: boolean;
  finished: boolean;
  flink_url: string | null;
  error: string;
  table: string;
  /** The state as the watch panel shows it (a live run Flink FINISHED reads STOPPED). */
  shown?: string;
  /** "caught up", "catching up", "at the head", "finished", ...: the watch panel's word. */
  progress?: string;
  /** Records its windows dropped as late: its output is short of what the data holds. */
  late_dropped?: number;
}

/** What the server accepts for a version now ("promote-force": only with force). */
export type VersionAction = 'promote' | 'promote-force' | 'stop';

export interface IVersionState {
  version: number;
  note: string;
  run: IRunState | null;
  actions?: VersionAction[];
}

export interface IJobState {
  name: string;
  serving: number | null;
  versions: IVersionState[];
  /** "watch" while a version runs, "rollback" when a switch can be undone. */
  actions?: ('watch' | 'rollback')[];
}

export interface IKappaState {
  home: string;
  stack: { healthy: boolean; running: boolean; services: IServiceState[] };
  flink_ui: string | null;
  jobs: IJobState[];
  problems: string[];
  /** What the data itself calls for (records a sealed topic version got past its cut). */
  warnings?: string[];
}

export interface IKappaNames {
  subcommands: string[];
  flags: Record<string, string[]>;
  topics: string[];
  sql_tables: string[];
  /** Each SQL table name with the topic it reads (a --table name is not derived from it). */
  topic_of_table: Record<string, string>;
  jobs: string[];
  versions: Record<string, number[]>;
  tables: string[];
  /** Which subcommands take a job (1st argument), a version (2nd) or a topic (1st). */
  takes: { job: string[]; version: string[]; topic: string[] };
}

export interface IActionReply {
  message: string;
  serving?: number | null;
}

/** A failed call: `message` is the server's readable text (or ours when it sent none). */
export class KappaApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null
  ) {
    super(message);
    this.name = 'KappaApiError';
  }
}

const API = 'kappanb/api';

/** Calls one route; rejects with a KappaApiError whose message can be shown as it is. */
export async function requestKappa<T>(
  path: string,
  options: { method?: 'GET' | 'POST'; body?: unknown; timeoutMs: number; signal?: AbortSignal }
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, API, path);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const cancel = (): void => controller.abort();
  options.signal?.addEventListener('abort', cancel);
  const init: RequestInit = { method: options.method ?? 'GET', signal: controller.signal };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (controller.signal.aborted && !options.signal?.aborted) {
      const seconds = Math.round(options.timeoutMs / 1000);
      throw new KappaApiError(
        `The Jupyter server did not answer ${path} within ${seconds} s; it may be busy. ` +
          'The panel tries again by itself.',
        null
      );
    }
    throw new KappaApiError(
      `Cannot reach the Jupyter server (${describe(error)}). Is it still running?`,
      null
    );
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancel);
  }
  const text = await response.text();
  const body = parseJson(text);
  if (!response.ok) {
    throw new KappaApiError(errorMessage(path, response.status, body), response.status);
  }
  if (body === undefined) {
    throw new KappaApiError(`The answer to ${path} was not JSON; is kappanb.server current?`, 0);
  }
  return body as T;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorMessage(path: string, status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const message = (body as { message: unknown }).message;
    if (typeof message === 'string' && message.trim()) {
      return message;
    }
  }
  if (status === 404) {
    return (
      `The Jupyter server has no ${API}/${path} route: kappanb's server extension is not ` +
      'loaded. Run `jupyter server extension enable kappanb.server` and restart JupyterLab.'
    );
  }
  if (status === 403) {
    return 'The Jupyter server refused the request (403): log in to JupyterLab again.';
  }
  return `${API}/${path} failed with HTTP ${status}.`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const getState = (signal: AbortSignal, timeoutMs = 10_000): Promise<IKappaState> =>
  requestKappa<IKappaState>('state', { signal, timeoutMs });

export const getNames = (timeoutMs = 3_000): Promise<IKappaNames> =>
  requestKappa<IKappaNames>('names', { timeoutMs });

/** `up` takes ~20 s (more on a cold machine); `down` stops three JVMs. */
export const stackAction = (action: 'up' | 'down'): Promise<IActionReply> =>
  requestKappa<IActionReply>('stack', { method: 'POST', body: { action }, timeoutMs: 300_000 });

export const jobAction = (
  job: string,
  action: 'promote' | 'rollback' | 'stop',
  body: { version?: number; reason?: string; force?: boolean }
): Promise<IActionReply> =>
  requestKappa<IActionReply>(`jobs/${encodeURIComponent(job)}/${action}`, {
    method: 'POST',
    body,
    timeoutMs: 120_000
  });
