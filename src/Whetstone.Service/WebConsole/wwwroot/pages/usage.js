// Usage of the signed-in key, and of each of the tenant's runs.
import { get, q, runs } from "../api.js";
import { h, number, poll, table } from "../dom.js";

export const title = "Usage";
export const order = 5;

const Fields = [["Prefill tokens", "prefill_tokens"], ["Sampled tokens", "sampled_tokens"], ["Trained tokens", "trained_tokens"]];

export async function render(main, args, signal) {
  const totals = h("div", { class: "cards" }), perRun = h("div"), problems = h("div");
  main.append(h("h1", {}, "Usage"), h("p", { class: "muted" }, "Of this API key:"), problems, totals,
    h("h2", {}, "By run"), perRun);
  await poll(signal, 5000, async () => {
    const [mine, list] = await Promise.all([get("/api/v1/usage"), runs()]);
    const usages = await Promise.all(list.map(r => get(`/api/v1/training_runs/${q(r.run_id)}/usage`)));
    totals.replaceChildren(...Fields.map(([label, field]) =>
      h("div", { class: "card" }, h("div", { class: "muted" }, label), h("div", { class: "value", "data-field": field }, number(mine[field])))),
      h("div", { class: "card" }, h("div", { class: "muted" }, "Compute"), h("div", { class: "value" }, `${number(mine.compute_seconds, 3)} s`)));
    const rows = list.map((r, i) => ({ run: r, usage: usages[i] }));
    perRun.replaceChildren(rows.length === 0 ? h("p", { class: "muted" }, "No runs.") : table([
      ["Run", x => h("a", { href: `#/runs/${q(x.run.run_id)}`, class: "mono" }, x.run.run_id)],
      ...Fields.map(([label, field]) => [label, x => number(x.usage[field])]),
      ["Compute", x => `${number(x.usage.compute_seconds, 3)} s`],
    ], rows));
  }, problems);
}
