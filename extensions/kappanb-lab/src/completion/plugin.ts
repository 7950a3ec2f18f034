import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICompletionProviderManager } from '@jupyterlab/completer';

import { KappaCompletionProvider } from './provider';

export const completionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kappanb-lab:completion',
  description: "Completion of kappanb's subcommands, flags, jobs, versions, topics and tables.",
  autoStart: true,
  requires: [ICompletionProviderManager],
  activate: (_app: JupyterFrontEnd, manager: ICompletionProviderManager): void => {
    manager.registerProvider(new KappaCompletionProvider());
  }
};
