// What to offer at the cursor in a kappa cell, as a pure function of the cell's text, the
// cursor and kappanb's names. Mirrors kappanb/magics/completion.py (the kernel's side):
// on a `%kappa` line the subcommand, then its flags, job names, versions or topics by
// position; in a `%%kappa job` body, SQL table names (after FROM/JOIN) and SQL keywords.
import type { IKappaNames } from '../api';
import { SQL_COMPLETION_KEYWORDS } from '../editor/flinkSql';
import { isFlag, magicLine, sqlBodyStart } from '../editor/kappaCell';

/** Keywords after which a source table is expected. */
const TABLE_KEYWORDS = new Set(['FROM', 'JOIN']);

export interface ICandidate {
  label: string;
  type: string;
  /** Marks kappanb's own names, which the completer lists before other providers' words. */
  kappanb: true;
}

export interface ICandidates {
  /** Offset where the word being completed starts. */
  start: number;
  items: ICandidate[];
}

const of = (labels: readonly string[], type: string): ICandidate[] =>
  labels.map(label => ({ label, type, kappanb: true }));

function matching(items: ICandidate[], prefix: string): ICandidate[] {
  const lower = prefix.toLowerCase();
  const seen = new Set<string>();
  return items.filter(item => {
    const keep = item.label.toLowerCase().startsWith(lower) && !seen.has(item.label);
    seen.add(item.label);
    return keep;
  });
}

function onMagicLine(words: string[], names: IKappaNames): ICandidate[] {
  const command = words[0] ?? '';
  const current = words[words.length - 1] ?? '';
  if (words.length <= 1) {
    return of(names.subcommands, 'subcommand');
  }
  if (current.startsWith('-')) {
    return of(names.flags[command] ?? [], 'flag');
  }
  const positional = words.slice(1, -1).filter(w => !isFlag(w));
  // Which subcommands take a job, a version or a topic comes from the server, which reads
  // it from the subcommands' declarations (kappanb.commands.vocabulary).
  const takes = (kind: keyof IKappaNames['takes']): boolean => names.takes[kind].includes(command);
  if (positional.length === 0) {
    if (takes('job')) {
      return of(names.jobs, 'job');
    }
    if (takes('topic')) {
      return of(names.topics, 'topic');
    }
  } else if (positional.length === 1 && takes('version')) {
    const job = positional[0] ?? '';
    return of(
      (names.versions[job] ?? []).map(v => `v${v}`),
      'version'
    );
  }
  return [];
}

/** SQL tables of the log: a topic's table shows its topic, `payments_v1  topic payments.v1`. */
function sourceTables(names: IKappaNames): ICandidate[] {
  // The server names each table's topic: a topic declared with --table has a SQL name
  // that cannot be derived from the topic's own.
  const topicOf = names.topic_of_table ?? {};
  return names.sql_tables.map(label => {
    const topic = topicOf[label];
    return { label, type: topic ? `topic ${topic}` : 'table', kappanb: true as const };
  });
}

function inSqlBody(sqlBefore: string, names: IKappaNames): ICandidate[] {
  const previous = sqlBefore.match(/([A-Za-z_]+)[\s(]+[\w.`]*$/)?.[1]?.toUpperCase() ?? '';
  const tables = [...sourceTables(names), ...of(names.tables, 'output table')];
  return TABLE_KEYWORDS.has(previous)
    ? tables
    : [...tables, ...of(SQL_COMPLETION_KEYWORDS, 'keyword')];
}

/** Candidates at `offset` in a cell, or null when the cursor is not in kappa territory. */
export function candidatesAt(text: string, offset: number, names: IKappaNames): ICandidates | null {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const bodyStart = sqlBodyStart(text);
  if (bodyStart !== null && offset >= bodyStart && lineStart >= bodyStart) {
    const word = before.match(/[\w.]*$/)?.[0] ?? '';
    return {
      start: offset - word.length,
      items: matching(inSqlBody(text.slice(bodyStart, offset), names), word)
    };
  }
  const line = magicLine(before, lineStart);
  if (!line) {
    return null;
  }
  const words = line.words.map(w => w.text);
  if (/[ \t]$/.test(before) || words.length === 0) {
    words.push('');
  }
  const current = words[words.length - 1] ?? '';
  return { start: offset - current.length, items: matching(onMagicLine(words, names), current) };
}
