// kappanb's names (GET kappanb/api/names), kept for a few seconds so that typing does not
// send a request per key. A failed request leaves the last names (or none) in place and
// is retried after the same pause: completion never shows an error.
import { getNames, type IKappaNames } from '../api';

const FRESH_MS = 5_000;

export const NO_NAMES: IKappaNames = {
  subcommands: [],
  flags: {},
  topics: [],
  sql_tables: [],
  topic_of_table: {},
  jobs: [],
  versions: {},
  tables: [],
  takes: { job: [], version: [], topic: [] }
};

export class NamesCache {
  private names: IKappaNames = NO_NAMES;
  private fetchedAt = -Infinity;
  private pending: Promise<IKappaNames> | null = null;

  /** The names, fetched again when older than a few seconds; never rejects. */
  get(): Promise<IKappaNames> {
    if (Date.now() - this.fetchedAt < FRESH_MS) {
      return Promise.resolve(this.names);
    }
    if (!this.pending) {
      this.pending = getNames()
        .then(names => {
          this.names = { ...NO_NAMES, ...names };
          return this.names;
        })
        .catch(() => this.names)
        .finally(() => {
          this.fetchedAt = Date.now();
          this.pending = null;
        });
    }
    return this.pending;
  }
}
