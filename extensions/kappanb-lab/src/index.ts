// kappanb's JupyterLab extension: three plugins, one per feature.
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { completionPlugin } from './completion/plugin';
import { editorPlugin } from './editor/plugin';
import { panelPlugin } from './panel/plugin';

const plugins: JupyterFrontEndPlugin<void>[] = [editorPlugin, completionPlugin, panelPlugin];

export default plugins;
