// The console's shell: sign-in, navigation, and a hash router (#/page/arg...). Pages are the
// modules in pages/ (listed by the server at /console/pages.json); each exports
//   title   the navigation label, order its place;
//   render(main, args, signal)   draws the page into main; polls until signal aborts (page left).
import { ApiError, apiKey, clearApiKey, get, setApiKey } from "./api.js";
import { errorBox, h } from "./dom.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const signOut = document.getElementById("sign-out");
let pages = [];
let leave = new AbortController();

async function loadPages() {
  const names = await (await fetch("/console/pages.json")).json();
  const modules = await Promise.all(names.map(async name => ({ name, ...(await import(`./pages/${name}.js`)) })));
  pages = modules.sort((a, b) => (a.order ?? 99) - (b.order ?? 99));
}

function signInForm(problem) {
  const key = h("input", { id: "api-key", type: "password", autocomplete: "off", placeholder: "API key", size: 44, required: true });
  const form = h("form", { class: "sign-in" },
    h("h1", {}, "Sign in"),
    h("p", {}, "With an API key of your tenant (", h("code", {}, "whet keys create"), "). It stays in this tab only."),
    key, " ", h("button", { type: "submit" }, "Sign in"),
    problem && errorBox(problem));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    setApiKey(key.value.trim());
    try {
      await get("/api/v1/usage");   // any authenticated call: it answers 401 for a wrong key
    } catch (error) {
      clearApiKey();
      const reason = error instanceof ApiError && error.status === 401 ? `Sign-in failed: ${error.message}` : error.message;
      main.replaceChildren(signInForm(new Error(reason)));
      return;
    }
    show();
  });
  return form;
}

function show() {
  leave.abort();
  leave = new AbortController();
  const signedIn = apiKey() !== null;
  signOut.hidden = !signedIn;
  const [name, ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const page = pages.find(p => p.name === name) ?? pages[0];
  nav.replaceChildren(...(signedIn ? pages.map(p => h("a", { href: `#/${p.name}`, class: p === page ? "current" : null }, p.title)) : []));
  if (!signedIn) {
    main.replaceChildren(signInForm());
    return;
  }
  main.replaceChildren();
  page.render(main, args.filter(a => a !== ""), leave.signal).catch(error => {
    if (error instanceof ApiError && error.status === 401) {   // the key was revoked meanwhile
      clearApiKey();
      main.replaceChildren(signInForm(error));
    } else main.append(errorBox(error));
  });
}

signOut.addEventListener("click", () => { clearApiKey(); location.hash = ""; show(); });
window.addEventListener("hashchange", show);
await loadPages();
show();
