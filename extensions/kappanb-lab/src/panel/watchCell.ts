// "watch": a `%kappa watch JOB` cell below the active cell of the current notebook, run.
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { type INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

const LOAD_KAPPANB = "get_ipython().extension_manager.load_extension('kappanb')";

/** Inserts and runs the cell, resolves to the notebook's name; rejects with a readable
 * message when there is no notebook. */
export async function insertWatchCell(
  app: JupyterFrontEnd,
  tracker: INotebookTracker | null,
  job: string
): Promise<string> {
  const panel = tracker?.currentWidget;
  if (!panel) {
    throw new Error(
      `Open a notebook first: "watch" adds a %kappa watch ${job} cell below its active cell.`
    );
  }
  const notebook = panel.content;
  NotebookActions.insertBelow(notebook);
  NotebookActions.changeCellType(notebook, 'code');
  const cell = notebook.activeCell;
  if (!cell) {
    throw new Error('The notebook has no active cell to put the watch cell below.');
  }
  cell.model.sharedModel.setSource(`%kappa watch ${job}`);
  app.shell.activateById(panel.id);
  // The magic needs kappanb loaded in the kernel: load it quietly first (a no-op when the
  // notebook already did `%load_ext kappanb`), so the cell works in any notebook.
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session?.kernel;
  if (kernel) {
    await kernel.requestExecute({ code: LOAD_KAPPANB, silent: true, store_history: false }).done;
  }
  // Resolves false when the cell failed: say so, rather than report a cell that ran.
  const ran = await NotebookActions.run(notebook, panel.sessionContext);
  if (!ran) {
    throw new Error(`The %kappa watch ${job} cell in ${panel.title.label} failed: see its output.`);
  }
  return panel.title.label;
}
