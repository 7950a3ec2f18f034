// What the notebook's kernel told JupyterLab, read from the kernel websocket's frames: the
// widget models (their state, with every update merged) and which cell displayed which
// widget. The watch panel's charts draw on a canvas; their last points are read here, from
// the specs the browser was sent to draw, to compare with the table the page shows.

/** One Jupyter message from a websocket frame: the v1 binary protocol or plain JSON. */
export function decodeFrame(payload) {
  try {
    if (typeof payload === 'string') return JSON.parse(payload);
    const buf = Buffer.from(payload);
    const n = Number(buf.readBigUInt64LE(0));
    const offsets = [...Array(n).keys()].map((i) => Number(buf.readBigUInt64LE(8 * (i + 1))));
    const part = (i) => buf.subarray(offsets[i], offsets[i + 1]).toString('utf8');
    if (n < 6) return null;
    return {
      channel: part(0), header: JSON.parse(part(1)), parent_header: JSON.parse(part(2) || '{}'),
      content: JSON.parse(part(4) || '{}'),
    };
  } catch {
    return null;
  }
}

export class KernelFrames {
  constructor() {
    this.models = new Map(); // comm (model) id -> widget state
    this.code = new Map(); // execute_request msg_id -> the cell's code
    this.displayCode = new Map(); // display id -> the code of the cell that displayed it
    this.roots = new Map(); // a cell's code -> the widget it displayed last
  }

  watch(page) {
    page.on('websocket', (ws) => {
      if (!/\/api\/kernels\/[^/]+\/channels/.test(ws.url())) return;
      ws.on('framesent', (f) => this.take(decodeFrame(f.payload)));
      ws.on('framereceived', (f) => this.take(decodeFrame(f.payload)));
    });
  }

  take(msg) {
    const type = msg?.header?.msg_type;
    const c = msg?.content ?? {};
    if (type === 'execute_request') this.code.set(msg.header.msg_id, c.code);
    else if (type === 'comm_open' && c.data?.state) this.models.set(c.comm_id, { ...c.data.state });
    else if (type === 'comm_msg' && c.data?.method === 'update' && c.data.state) {
      this.models.set(c.comm_id, { ...(this.models.get(c.comm_id) ?? {}), ...c.data.state });
    } else if (type === 'display_data' || type === 'update_display_data') {
      const id = c.transient?.display_id;
      const code = type === 'display_data' ? this.code.get(msg.parent_header?.msg_id) : this.displayCode.get(id);
      if (type === 'display_data' && id && code) this.displayCode.set(id, code);
      const model = c.data?.['application/vnd.jupyter.widget-view+json']?.model_id;
      if (code && model) this.roots.set(code, model);
    }
  }

  /** The vega-lite specs of the charts under the widget the cell with `code` displayed. */
  specs(code) {
    const found = [];
    const walk = (id, depth) => {
      const state = this.models.get(id);
      if (!state || depth > 5) return;
      if (state.spec) found.push(state.spec);
      for (const child of state.children ?? []) walk(String(child).replace(/^IPY_MODEL_/, ''), depth + 1);
    };
    walk(this.roots.get(code), 0);
    return found;
  }

  /** {chart title: {version: its last row}} for the cell's charts. */
  lastPoints(code) {
    const points = {};
    for (const spec of this.specs(code)) {
      const title = typeof spec.title === 'string' ? spec.title : spec.title?.text ?? spec.layer?.[0]?.title;
      const rows = Object.values(spec.datasets ?? {}).flat();
      const last = {};
      for (const row of rows) if (row.version) last[row.version] = row;
      points[String(title)] = last;
    }
    return points;
  }
}
