// Small DOM helpers. Text from the API always goes in as text nodes, never as markup.

/** h("td", {class: "num"}, "3") — attributes starting with "on" are listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** A table: columns are [header, row => cell]; a cell is text or a node. */
export function table(columns, rows, attributes = {}) {
  return h("table", attributes,
    h("thead", {}, h("tr", {}, columns.map(([name]) => h("th", {}, name)))),
    h("tbody", {}, rows.map(row => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row)))))));
}

export const time = iso => (iso ? new Date(iso).toLocaleString() : "—");

export function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export const number = (x, digits = 4) => (Number.isInteger(x) ? x.toLocaleString() : Number(x).toPrecision(digits));

/** An error message box (role alert), for failed loads and refused actions. */
export const errorBox = error => h("p", { class: "error", role: "alert" }, error?.message ?? String(error));

/** Runs load() now and every intervalMs until signal aborts; a failed load's message shows in
 * the status element (and clears on the next success), so a page keeps its last good data. */
export function poll(signal, intervalMs, load, status) {
  let timer;
  const tick = async () => {
    if (signal.aborted) return;
    try {
      await load();
      status?.replaceChildren();
    } catch (error) {
      if (!signal.aborted) status?.replaceChildren(errorBox(error));
    }
    if (!signal.aborted) timer = setTimeout(tick, intervalMs);
  };
  signal.addEventListener("abort", () => clearTimeout(timer));
  return tick();
}

/** Runs an action from a button: disables it meanwhile, reports a refusal next to it. */
export function action(label, run, attributes = {}) {
  const button = h("button", { ...attributes, type: "button" }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.parentElement?.querySelector(":scope > .error")?.remove();
    try { await run(); } catch (error) { button.after(errorBox(error)); } finally { button.disabled = false; }
  });
  return button;
}
