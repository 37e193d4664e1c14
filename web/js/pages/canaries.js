// Canaries: not built yet. The page says so (no fake data).
import { capabilities } from "../api.js";
import { emptyState, h } from "../dom.js";

export function mount(root) {
  const body = h("div");
  root.append(h("h1", {}, "Canaries"), body);
  capabilities()
    .then((caps) => {
      body.replaceChildren(
        caps.has("/api/v1/canaries")
          ? emptyState("The daemon has a canaries API; this page does not show it yet.")
          : emptyState("Canaries are not built yet: this daemon has no canaries API (GET /api/v1/canaries).", "Canary tokens and their trips will be listed here.")
      );
    })
    .catch(() => body.replaceChildren(emptyState("Canaries are not built yet.")));
}
