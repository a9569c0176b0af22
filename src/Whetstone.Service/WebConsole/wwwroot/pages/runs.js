// Training runs: the list (status, step), and one run's live curves from its metrics.
import { get, q, runs } from "../api.js";
import { lineChart } from "../chart.js";
import { bytes, h, number, poll, table, time } from "../dom.js";

export const title = "Runs";
export const order = 1;

// A run that took a call within this long is shown as training; others as idle.
const ActiveMs = 60_000;
const status = run => (run.last_request_at && Date.now() - Date.parse(run.last_request_at) < ActiveMs ? "training" : "idle");
const kind = run => (run.full_fine_tuning ? "full" : `LoRA r${run.rank}`) + (run.value_head ? " + value head" : "");

export function render(main, [runId], signal) {
  return runId ? renderRun(main, runId, signal) : renderList(main, signal);
}

async function renderList(main, signal) {
  const body = h("div"), problems = h("div");
  main.append(h("h1", {}, "Training runs"), problems, body);
  await poll(signal, 2000, async () => {
    const list = await runs();
    body.replaceChildren(list.length === 0 ? h("p", { class: "muted" }, "No runs yet: create one with the SDK or the CLI.") : table([
      ["Run", r => h("a", { href: `#/runs/${q(r.run_id)}`, class: "mono" }, r.run_id)],
      ["Base model", r => r.base_model],
      ["Kind", kind],
      ["Status", r => h("span", { class: `badge ${status(r) === "training" ? "on" : ""}` }, status(r))],
      ["Step", r => h("span", { class: "step" }, r.step)],
      ["Last call", r => time(r.last_request_at)],
      ["Created", r => time(r.created_at)],
    ], list, { id: "runs" }));
  }, problems);
}

// The order curves are shown in: the loss first, then rewards and evals, then the rest.
const rank = name => (name.startsWith("loss") ? 0 : name.includes("reward") ? 1 : name.includes("eval") ? 2 : 3);

async function renderRun(main, runId, signal) {
  const info = h("div", { class: "cards" }), charts = h("div", { class: "charts", id: "charts" });
  const checkpoints = h("div"), problems = h("div");
  main.append(h("p", {}, h("a", { href: "#/runs" }, "← all runs")), h("h1", { class: "mono" }, runId), problems, info,
    h("h2", {}, "Curves"), charts, h("h2", {}, "Checkpoints"), checkpoints);
  const series = new Map();   // metric name -> [{step, value}]
  let next = 0;
  await poll(signal, 1000, async () => {
    const [run, metrics, saved, usage] = await Promise.all([
      get(`/api/v1/training_runs/${q(runId)}`),
      get(`/api/v1/training_runs/${q(runId)}/metrics?after=${next}`),
      get(`/api/v1/training_runs/${q(runId)}/checkpoints`),
      get(`/api/v1/training_runs/${q(runId)}/usage`),
    ]);
    const card = (label, value, id) => h("div", { class: "card" }, h("div", { class: "muted" }, label), h("div", { class: "value", id }, value));
    info.replaceChildren(
      card("Status", status(run), "run-status"), card("Step", run.step, "run-step"), card("Base model", run.base_model),
      card("Kind", kind(run)), card("Trained tokens", number(usage.trained_tokens)), card("Compute", `${number(usage.compute_seconds, 3)} s`));
    for (const p of metrics.points) {
      if (!series.has(p.name)) series.set(p.name, []);
      series.get(p.name).push({ step: p.step, value: p.value });
    }
    next = metrics.next;
    const names = [...series.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    charts.replaceChildren(...(names.length ? names.map(n => lineChart(n, series.get(n)))
      : [h("p", { class: "muted" }, "No metrics yet: they appear as the run trains.")]));
    checkpoints.replaceChildren(saved.checkpoints.length === 0 ? h("p", { class: "muted" }, "None saved yet.") : table([
      ["Path", c => h("code", {}, c.path)], ["Kind", c => c.kind], ["Size", c => bytes(c.size_bytes)], ["Saved", c => time(c.created_at)],
    ], saved.checkpoints));
  }, problems);
}
