// The "kappanb" completion provider: kappanb's names in kappa cells, from the server part
// (GET kappanb/api/names). It answers with no items outside kappa cells and when the
// names cannot be had, and never throws.
import {
  type CompletionHandler,
  type Completer,
  CompleterModel,
  type ICompletionContext,
  type ICompletionProvider
} from '@jupyterlab/completer';

import { candidatesAt } from './candidates';
import { NamesCache } from './namesCache';

export class KappaCompletionProvider implements ICompletionProvider {
  readonly identifier = 'kappanb';
  /** Above the kernel's and the context's (~500): kappanb's names come first. */
  readonly rank = 800;
  private readonly names = new NamesCache();

  /** The completer's model, as the highest-ranked provider: see `KappaCompleterModel`. */
  async modelFactory(_context: ICompletionContext): Promise<Completer.IModel> {
    return new KappaCompleterModel();
  }

  async isApplicable(context: ICompletionContext): Promise<boolean> {
    return !!context.editor;
  }

  async fetch(
    request: CompletionHandler.IRequest,
    _context: ICompletionContext
  ): Promise<CompletionHandler.ICompletionItemsReply> {
    const none = { start: request.offset, end: request.offset, items: [] };
    try {
      if (!request.text.includes('%kappa')) {
        return none;
      }
      const names = await this.names.get();
      const found = candidatesAt(request.text, request.offset, names);
      if (!found) {
        return none;
      }
      return { start: found.start, end: request.offset, items: found.items };
    } catch (error) {
      console.warn('kappanb completion:', error);
      return none;
    }
  }
}

const isKappa = (item: CompletionHandler.ICompletionItem): boolean =>
  (item as { kappanb?: boolean }).kappanb === true;

/**
 * JupyterLab's model, except that kappanb's names come before other providers' words
 * that match as well: it sorts equal matches alphabetically, so after `FROM pay` a column
 * alias `payments` from the same cell came before the table `payments_v1`. Each group
 * keeps the order the model gave it; without kappanb's names nothing changes.
 */
export class KappaCompleterModel extends CompleterModel {
  private ordered = new WeakMap<object, CompletionHandler.ICompletionItems>();

  override completionItems(): CompletionHandler.ICompletionItems {
    const items = super.completionItems();
    let ordered = this.ordered.get(items);
    if (!ordered) {
      ordered = kappanbFirst(items);
      this.ordered.set(items, ordered);
    }
    return ordered;
  }
}

/** kappanb's items first, each group in its order (stable). */
export function kappanbFirst(
  items: CompletionHandler.ICompletionItems
): CompletionHandler.ICompletionItems {
  if (!items.some(isKappa)) {
    return items;
  }
  return [...items.filter(isKappa), ...items.filter(item => !isKappa(item))];
}
