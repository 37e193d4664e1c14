// Responses: not built yet. The page says so (no fake data).
import { capabilities } from "../api.js";
import { emptyState, h } from "../dom.js";

export function mount(root) {
  const body = h("div");
  root.append(h("h1", {}, "Responses"), body);
  capabilities()
    .then((caps) => {
      body.replaceChildren(
        caps.has("/api/v1/responses")
          ? emptyState("The daemon has a responses API; this page does not show it yet.")
          : emptyState("Responses are not built yet: this daemon has no responses API (GET /api/v1/responses).", "Proposed and executed responses to threats will be listed here.")
      );
    })
    .catch(() => body.replaceChildren(emptyState("Responses are not built yet.")));
}
