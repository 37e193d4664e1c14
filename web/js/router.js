// Hash router: #/overview, #/threats, #/threats/ID, #/agents, ... Each page
// module exports mount(root, params) -> unmount function (or nothing).

export class Router {
  constructor(routes, { root, fallback, onChange }) {
    this.routes = routes; // [{pattern: /^\/threats\/([^/]+)$/, page, load}]
    this.root = root;
    this.fallback = fallback;
    this.onChange = onChange;
    this.unmount = null;
    this.seq = 0;
    window.addEventListener("hashchange", () => this.resolve());
  }

  go(path) {
    if (location.hash === `#${path}`) this.resolve();
    else location.hash = `#${path}`;
  }

  async resolve() {
    const path = location.hash.replace(/^#/, "") || this.fallback;
    const seq = ++this.seq;
    let match = null;
    let route = null;
    for (const r of this.routes) {
      match = r.pattern.exec(path);
      if (match) {
        route = r;
        break;
      }
    }
    if (!route) {
      this.go(this.fallback);
      return;
    }
    if (this.unmount) {
      try {
        this.unmount();
      } catch (e) {
        console.warn("unmount", e);
      }
      this.unmount = null;
    }
    const mod = await route.load();
    if (seq !== this.seq) return; // a newer navigation won
    while (this.root.firstChild) this.root.removeChild(this.root.firstChild);
    if (this.onChange?.(route, path) === false) return;
    this.unmount = mod.mount(this.root, match.slice(1).map(decodeURIComponent)) || null;
  }
}
