// What a cell's text means to kappanb, as plain functions of the text (no editor): where a
// `%%kappa job` cell's SQL body starts, and the words of `%kappa` / `%%kappa` lines.
// Shared by the highlighter and the completion provider.

/** `%%kappa job NAME ...` on the first line: the rest of the cell is the job's Flink SQL. */
const JOB_HEADER = /^[ \t]*%%kappa[ \t]+job(?:[ \t]|$)/;
/** A line magic or the cell magic's own line. */
const MAGIC_LINE = /^[ \t]*(%%?kappa)(?=[ \t]|$)/;
const FLAG = /^--?[A-Za-z]/;

/** Offset of the SQL body (the start of the second line), or null when not a job cell. */
export function sqlBodyStart(text: string): number | null {
  if (!JOB_HEADER.test(text)) {
    return null;
  }
  const newline = text.indexOf('\n');
  return newline < 0 ? text.length : newline + 1;
}

export interface IWord {
  from: number;
  to: number;
  text: string;
}

export interface IMagicLine {
  /** Offset of the line's start in the cell. */
  from: number;
  /** `%kappa` or `%%kappa`. */
  magic: IWord;
  /** The words after the magic, in order (the first is the subcommand). */
  words: IWord[];
}

/** Splits a line at blanks; `offset` is where the line starts in the cell. */
export function wordsOf(line: string, offset: number): IWord[] {
  const words: IWord[] = [];
  for (const match of line.matchAll(/[^ \t]+/g)) {
    const from = offset + (match.index ?? 0);
    words.push({ from, to: from + match[0].length, text: match[0] });
  }
  return words;
}

/** Parses one line as a kappa magic line, or null when it is not one. */
export function magicLine(line: string, offset: number): IMagicLine | null {
  if (!MAGIC_LINE.test(line)) {
    return null;
  }
  const [magic, ...words] = wordsOf(line, offset);
  return magic ? { from: offset, magic, words } : null;
}

/** Every kappa magic line of a cell. Cheap for other cells: one substring search. */
export function magicLines(text: string): IMagicLine[] {
  if (!text.includes('%kappa')) {
    return [];
  }
  const found: IMagicLine[] = [];
  const bodyStart = sqlBodyStart(text);
  let offset = 0;
  for (const line of text.split('\n')) {
    if (bodyStart !== null && offset >= bodyStart) {
      break; // a job cell's body is SQL, not magics
    }
    const parsed = magicLine(line, offset);
    if (parsed) {
      found.push(parsed);
    }
    offset += line.length + 1;
  }
  return found;
}

export const isFlag = (word: string): boolean => FLAG.test(word);
