// A small typed helper for building the panel's DOM without a framework.

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === true) {
      node.setAttribute(name, '');
    } else if (typeof value === 'string') {
      node.setAttribute(name, value);
    }
  }
  for (const child of children) {
    if (child) {
      node.append(child);
    }
  }
  return node;
}

/** A link that opens outside JupyterLab. */
export const externalLink = (href: string, text: string, title: string): HTMLAnchorElement =>
  el('a', { class: 'kappa-link', href, target: '_blank', rel: 'noopener noreferrer', title }, text);
