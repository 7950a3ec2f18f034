import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { KappaPanel } from './kappaPanel';

const kappaIcon = new LabIcon({
  name: 'kappanb:kappa',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24" fill="none">' +
    '<path class="jp-icon3" stroke="#616161" stroke-width="2.4" stroke-linecap="round" ' +
    'd="M7 5v14M7 13.5 16.5 5M10.5 10.5 17.5 19"/></svg>'
});

export const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kappanb-lab:panel',
  description: "The Kappa side panel: kappanb's stack and jobs, with their actions.",
  autoStart: true,
  optional: [INotebookTracker, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const panel = new KappaPanel(app, notebooks);
    panel.title.icon = kappaIcon;
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, panel.id);
  }
};
