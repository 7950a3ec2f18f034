// The "kappanb" completion provider: kappanb's names in kappa cells, from the server part
// (GET kappanb/api/names). It answers with no items outside kappa cells and when the
// names cannot be had, and never throws.
import type {
  CompletionHandler,
  ICompletionContext,
  ICompletionProvider
} from '@jupyterlab/completer';

import { candidatesAt } from './candidates';
import { NamesCache } from './namesCache';

export class KappaCompletionProvider implements ICompletionProvider {
  readonly identifier = 'kappanb';
  /** Above the kernel's and the context's (~500): kappanb's names come first. */
  readonly rank = 800;
  private readonly names = new NamesCache();

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
