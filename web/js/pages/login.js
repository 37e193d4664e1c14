// Login: the user pastes an API key (`mwrasp apikey create --role viewer`, or
// the admin key the daemon wrote at first start). It is checked against the
// daemon before it is kept (sessionStorage: gone when the tab closes).
import { api, session } from "../api.js";
import { h } from "../dom.js";
import { loggedIn } from "../main.js";

export function mount(root) {
  const reason = sessionStorage.getItem("mwrasp.loginReason");
  sessionStorage.removeItem("mwrasp.loginReason");
  const msg = h("p", { id: "login-msg", class: reason ? "error-box" : "sr-only", role: "alert" }, reason || "");
  const input = h("input", {
    id: "apikey",
    name: "apikey",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "apikey-help login-msg",
  });
  const button = h("button", { type: "submit", class: "btn" }, "Log in");
  const form = h(
    "form",
    { class: "panel login", "aria-labelledby": "login-title", novalidate: true },
    h("h1", { id: "login-title" }, "Log in to MWRASP"),
    h(
      "div",
      { class: "field" },
      h("label", { for: "apikey" }, "API key"),
      input,
      h(
        "p",
        { id: "apikey-help", class: "muted" },
        "Paste an API key made with ",
        h("code", {}, "mwrasp apikey create --role viewer"),
        ". It is kept in this tab only."
      )
    ),
    msg,
    button
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    if (!key) {
      showError("Enter an API key.");
      input.focus();
      return;
    }
    button.disabled = true;
    try {
      await api("/api/v1/metrics", { key });
      session.key = key;
      loggedIn();
    } catch (e) {
      showError(
        e.status === 401 ? "This API key was refused." : e.status === 403 ? "This key may not read the dashboard." : `Cannot log in: ${e.message}`
      );
      input.focus();
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  function showError(text) {
    msg.className = "error-box";
    msg.textContent = text;
  }
  root.appendChild(form);
  input.focus();
}
