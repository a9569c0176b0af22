// Deployments: each alias's versions, promote a sampler checkpoint, roll back (or forward), and
// the traffic split (a canary share of name@latest's requests to another version).
// name@latest answers /v1 with the current version's checkpoint.
import { checkpoints, get, post, q } from "../api.js";
import { action, h, poll, table, time } from "../dom.js";

export const title = "Deployments";
export const order = 3;

export async function render(main, args, signal) {
  const body = h("div"), problems = h("div");
  const name = h("input", { id: "new-deployment", placeholder: "name", size: 16 });
  main.append(h("h1", {}, "Deployments"), problems,
    h("div", { class: "row" }, name, action("Create deployment", async () => {
      await post("/api/v1/deployments", { name: name.value.trim() });
      name.value = "";
      await load(true);
    })), body);
  let shown = "";
  const load = async (force = false) => {
    const [{ deployments }, saved] = await Promise.all([get("/api/v1/deployments"), checkpoints()]);
    const samplers = saved.filter(c => c.kind === "sampler_weights");
    const json = JSON.stringify([deployments, samplers]);
    if (!force && json === shown) return;   // keep a half-made choice of checkpoint
    shown = json;
    body.replaceChildren(...(deployments.length === 0 ? [h("p", { class: "muted" }, "No deployments yet.")]
      : deployments.map(d => deployment(d, samplers, () => load(true)))));
  };
  await poll(signal, 3000, () => load(), problems);
}

function deployment(d, samplers, reload) {
  const choice = h("select", { "aria-label": `checkpoint to promote to ${d.name}`, class: "promote-choice" },
    samplers.map(c => h("option", { value: c.path }, c.path)));
  const versions = [...d.versions].sort((a, b) => b.version - a.version);
  return h("section", { class: "deployment", "data-name": d.name },
    h("h2", {}, h("code", {}, `${d.name}@latest`), " → ",
      h("span", { class: "current-version" }, d.current_version ? `v${d.current_version}` : "no version yet")),
    h("div", { class: "row" }, "Promote ", choice, " ",
      action("Promote", async () => {
        await post(`/api/v1/deployments/${q(d.name)}/promote`, { checkpoint: choice.value });
        await reload();
      }, { class: "promote", disabled: samplers.length === 0 }),
      d.current_version > 1 && action("Roll back", async () => {
        await post(`/api/v1/deployments/${q(d.name)}/rollback`, {});
        await reload();
      }, { class: "rollback" })),
    versions.length > 0 && table([
      ["Version", v => `v${v.version}${v.version === d.current_version ? " (current)" : ""}`],
      ["Checkpoint", v => h("code", {}, v.checkpoint)],
      ["Promoted", v => time(v.created_at)],
      ["", v => v.version !== d.current_version && action(`Make v${v.version} current`, async () => {
        await post(`/api/v1/deployments/${q(d.name)}/rollback`, { version: v.version });
        await reload();
      }, { class: "make-current" })],
    ], versions),
    versions.length > 1 && traffic(d, versions, reload));
}

/** The canary split of name@latest: Percent of its requests (by a hash of the request's user) go to a candidate version. */
function traffic(d, versions, reload) {
  const candidate = h("select", { "aria-label": `candidate version of ${d.name}`, class: "split-version" },
    versions.filter(v => v.version !== d.current_version).map(v => h("option", { value: v.version }, `v${v.version}`)));
  const percent = h("input", { type: "number", min: 0, max: 100, step: 1, value: d.candidate_percent || 10, class: "split-percent", "aria-label": "percent" });
  return h("div", { class: "row traffic" }, "Traffic: ",
    h("span", { class: "traffic-split" }, d.candidate_version
      ? `v${d.current_version} ${100 - d.candidate_percent}% · v${d.candidate_version} ${d.candidate_percent}%` : `v${d.current_version} 100%`),
    " · send ", percent, "% to ", candidate, " ",
    action("Set split", async () => {
      await post(`/api/v1/deployments/${q(d.name)}/traffic`, { candidate_version: Number(candidate.value), percent: Number(percent.value) });
      await reload();
    }, { class: "set-split" }),
    d.candidate_version && action("Clear split", async () => {
      await post(`/api/v1/deployments/${q(d.name)}/traffic`, { candidate_version: null, percent: 0 });
      await reload();
    }, { class: "clear-split" }));
}
