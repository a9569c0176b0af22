// Experiential loops: each loop's status and state, its current iteration, pause/resume, and its
// lineage (per iteration: feedback window → reward-model version → policy checkpoint →
// deployment version, with the gate/canary outcome: promoted, rolled_back, rejected, …).
import { get, q, request } from "../api.js";
import { action, h, number, poll, table, time } from "../dom.js";

export const title = "Loops";
export const order = 4.5;

export async function render(main, args, signal) {
  const body = h("div"), problems = h("div");
  main.append(h("h1", {}, "Loops"), problems, body);
  let shown = "";
  const load = async (force = false) => {
    const { loops } = await get("/api/v1/loops");
    const lineages = await Promise.all(loops.map(l => get(`/api/v1/loops/${q(l.id)}/lineage`)));
    const json = JSON.stringify([loops, lineages]);
    if (!force && json === shown) return;
    shown = json;
    body.replaceChildren(...(loops.length === 0 ? [h("p", { class: "muted" }, "No loops yet (POST /api/v1/loops on a deployment).")]
      : loops.map((l, i) => loop(l, lineages[i], () => load(true)))));
  };
  await poll(signal, 3000, () => load(), problems);
}

function loop(l, lineage, reload) {
  const next = l.status === "active" ? "paused" : "active";
  return h("section", { class: "loop", "data-id": l.id },
    h("h2", {}, h("span", { class: "mono" }, l.id), " on ", h("a", { href: "#/deployments" }, h("code", {}, `${l.deployment}@latest`))),
    h("p", {},
      "Status ", h("strong", { class: "loop-status" }, l.status), " · state ", h("strong", { class: "loop-state" }, l.state),
      " · iteration ", h("span", { class: "loop-iteration" }, String(l.iteration)),
      " · feedback consumed ", number(l.feedback_consumed), " · last iteration ", time(l.last_iteration_at), " ",
      action(next === "paused" ? "Pause" : "Resume", async () => {
        await request("PATCH", `/api/v1/loops/${q(l.id)}`, { status: next });
        await reload();
      }, { class: "loop-toggle" })),
    h("h3", {}, "Lineage"),
    lineage.iterations.length === 0 ? h("p", { class: "muted lineage-empty" }, "No iterations yet.") : table([
      ["#", it => String(it.iteration)],
      ["Stage", it => it.stage],
      ["Started", it => time(it.started_at)],
      ["Feedback", it => number(it.feedback_ids.length)],
      ["Reward model", it => it.rm_version ?? "—"],
      ["Candidate run", it => it.candidate_run ? h("a", { href: `#/runs/${q(it.candidate_run)}`, class: "mono" }, it.candidate_run) : "—"],
      ["Policy checkpoint", it => it.policy_checkpoint ? h("span", { class: "mono" }, it.policy_checkpoint) : "—"],
      ["Deployed", it => `v${it.deployed_version}` + (it.deployment_version ? ` → v${it.deployment_version}` : "")],
      ["Decision", it => h("span", { class: `outcome ${it.outcome ?? "pending"}` }, it.outcome ?? "in progress")],
      ["Reason", it => it.reason ?? ""],
    ], lineage.iterations, { class: "lineage" }));
}
