// The CodeMirror 6 extension: in a `%%kappa job` cell the SQL body is parsed with the
// Flink SQL dialect and marked with @lezer/highlight's classHighlighter classes
// (`tok-keyword`, ...) on lines that carry `cm-kappa-sql`; on `%kappa` lines the
// subcommand gets `cm-kappa-subcommand` and flags `cm-kappa-flag`.
//
// Decorations are recomputed only when the document changes, and a cell without
// `%kappa` costs one substring search. The plugin has a low precedence: its marks are the
// outer elements, never split by the python mode's highlighting (Prec.high), so a keyword
// or a flag is one element; the CSS has the python spans inside them inherit the colour,
// so the SQL colours win.
import { Prec, type Extension, type Range } from '@codemirror/state';
import {
  Decoration,
  type DecorationSet,
  type EditorView,
  ViewPlugin,
  type ViewUpdate
} from '@codemirror/view';
import { classHighlighter, highlightTree, tagHighlighter, tags } from '@lezer/highlight';

import { FlinkSQL } from './flinkSql';
import { isFlag, magicLines, sqlBodyStart } from './kappaCell';

const SQL_LINE = Decoration.line({ class: 'cm-kappa-sql' });
const MAGIC = Decoration.mark({ class: 'cm-kappa-magic' });
const SUBCOMMAND = Decoration.mark({ class: 'cm-kappa-subcommand' });
const FLAG = Decoration.mark({ class: 'cm-kappa-flag' });
const tokenMarks = new Map<string, Decoration>();
/** Flink's built-in functions (lang-sql tags them standard(name)), which classHighlighter leaves out. */
const builtinHighlighter = tagHighlighter([
  { tag: tags.standard(tags.name), class: 'tok-builtin' }
]);

function tokenMark(classes: string): Decoration {
  let mark = tokenMarks.get(classes);
  if (!mark) {
    mark = Decoration.mark({ class: `cm-kappa-sql-token ${classes}` });
    tokenMarks.set(classes, mark);
  }
  return mark;
}

function sqlRanges(text: string, bodyStart: number, into: Range<Decoration>[]): void {
  const body = text.slice(bodyStart);
  let lineStart = bodyStart;
  for (const line of body.split('\n')) {
    into.push(SQL_LINE.range(lineStart));
    lineStart += line.length + 1;
  }
  const tree = FlinkSQL.language.parser.parse(body);
  highlightTree(tree, [classHighlighter, builtinHighlighter], (from, to, classes) => {
    into.push(tokenMark(classes).range(bodyStart + from, bodyStart + to));
  });
}

function magicRanges(text: string, into: Range<Decoration>[]): void {
  for (const line of magicLines(text)) {
    into.push(MAGIC.range(line.magic.from, line.magic.to));
    const [subcommand] = line.words;
    if (subcommand && !isFlag(subcommand.text)) {
      into.push(SUBCOMMAND.range(subcommand.from, subcommand.to));
    }
    for (const word of line.words) {
      if (isFlag(word.text)) {
        // `--name=value`: only the flag's name is a flag
        const end = word.text.indexOf('=');
        into.push(FLAG.range(word.from, end > 0 ? word.from + end : word.to));
      }
    }
  }
}

/** The decorations of a whole cell. */
export function kappaDecorations(text: string): DecorationSet {
  if (!text.includes('%kappa')) {
    return Decoration.none;
  }
  const ranges: Range<Decoration>[] = [];
  magicRanges(text, ranges);
  const bodyStart = sqlBodyStart(text);
  if (bodyStart !== null && bodyStart < text.length) {
    sqlRanges(text, bodyStart, ranges);
  }
  return Decoration.set(ranges, true);
}

class KappaHighlighter {
  decorations: DecorationSet;

  constructor(view: EditorView) {
    this.decorations = kappaDecorations(view.state.doc.toString());
  }

  update(update: ViewUpdate): void {
    if (update.docChanged) {
      this.decorations = kappaDecorations(update.state.doc.toString());
    }
  }
}

/** The editor extension JupyterLab adds to every cell editor. */
export const kappaHighlight: Extension = Prec.low(
  ViewPlugin.fromClass(KappaHighlighter, { decorations: plugin => plugin.decorations })
);
