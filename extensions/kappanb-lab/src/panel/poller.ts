// Polls kappanb's state every few seconds while the panel is shown: never two requests at
// once, each with a timeout, nothing while stopped or while the browser tab is hidden.
import type { IKappaState } from '../api';

export type PollResult = { state: IKappaState } | { error: unknown };

export class StatePoller {
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: AbortController | null = null;
  private again = false;

  constructor(
    private readonly fetchState: (signal: AbortSignal) => Promise<IKappaState>,
    private readonly onResult: (result: PollResult) => void,
    private readonly intervalMs = 3_000
  ) {}

  /** Starts polling (at once); a no-op when already started. */
  start(): void {
    if (this.running) {
      return;
    }
    this.running = true;
    if (this.inFlight) {
      this.again = true; // an abandoned request is still settling: go on after it
    } else {
      void this.tick();
    }
  }

  /** Stops polling and abandons a request under way. */
  stop(): void {
    this.running = false;
    this.clearTimer();
    this.inFlight?.abort();
  }

  /** Asks for fresh state now (after an action), or as soon as the current request ends. */
  refresh(): void {
    if (!this.running) {
      return;
    }
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.clearTimer();
    void this.tick();
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (!this.running || this.inFlight) {
      return;
    }
    if (document.hidden) {
      this.schedule();
      return;
    }
    const controller = new AbortController();
    this.inFlight = controller;
    try {
      const state = await this.fetchState(controller.signal);
      if (!controller.signal.aborted) {
        this.onResult({ state });
      }
    } catch (error) {
      if (!controller.signal.aborted) {
        this.onResult({ error });
      }
    } finally {
      this.inFlight = null;
    }
    if (this.again) {
      this.again = false;
      void this.tick();
    } else {
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.running && this.timer === null) {
      this.timer = setTimeout(() => void this.tick(), this.intervalMs);
    }
  }
}
