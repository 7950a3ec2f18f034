// Registers the kappa highlighter with JupyterLab's editor extension registry, so every
// CodeMirror editor (notebook cells, consoles, files) gets it.
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';

import { kappaHighlight } from './kappaHighlight';

export const editorPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kappanb-lab:editor',
  description: '%%kappa job cells highlighted as Flink SQL; subcommands and flags of %kappa lines.',
  autoStart: true,
  requires: [IEditorExtensionRegistry],
  activate: (_app: JupyterFrontEnd, registry: IEditorExtensionRegistry): void => {
    registry.addExtension({
      name: 'kappanb:highlight',
      factory: () => EditorExtensionRegistry.createImmutableExtension(kappaHighlight)
    });
  }
};
