// Experiential loops: each loop's status and state, its current iteration, pause/resume, its
// deployment's reward-model accuracy over time (prequential: each update's events predicted before
// it trained on them), and its lineage (per iteration: feedback window → reward-model version →
// candidate run and policy checkpoint → deployment version, with the gate's and the canary's
// numbers and the decision: promoted, rolled_back, rejected, …).
import { ApiError, get, q, request } from "../api.js";
import { lineChart } from "../chart.js";
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
    const rewardModels = await Promise.all(loops.map(l => rewardModel(l.deployment)));
    const json = JSON.stringify([loops, lineages, rewardModels]);
    if (!force && json === shown) return;
    shown = json;
    body.replaceChildren(...(loops.length === 0 ? [h("p", { class: "muted" }, "No loops yet (POST /api/v1/loops on a deployment).")]
      : loops.map((l, i) => loop(l, lineages[i], rewardModels[i], () => load(true)))));
  };
  await poll(signal, 3000, () => load(), problems);
}

/** The deployment's reward model, null when it has none (404). */
async function rewardModel(deployment) {
  try {
    return await get(`/api/v1/deployments/${q(deployment)}/reward_model`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

const metric = (it, name, digits = 3) => (it.metrics?.[name] === undefined ? null : number(it.metrics[name], digits));

/** The gate's evidence: held-out reward of candidate vs deployed, regression-suite passes, changed answers. */
function gateCell(it) {
  const parts = [];
  if (metric(it, "gate_candidate_reward") !== null) parts.push(`reward ${metric(it, "gate_candidate_reward")} vs ${metric(it, "gate_deployed_reward")}`);
  if (metric(it, "suite_candidate_passes") !== null) parts.push(`suite ${metric(it, "suite_candidate_passes")} vs ${metric(it, "suite_deployed_passes")}`);
  if (metric(it, "gate_changed_answers") !== null) parts.push(`${metric(it, "gate_changed_answers")} answers changed`);
  return h("span", { class: "gate" }, parts.join(" · ") || "—");
}

/** The canary's evidence: satisfaction and events on each arm, and (compared within users) the
 *  users' mean own difference and how many users it is over. */
function canaryCell(it) {
  if (metric(it, "canary_candidate_events") === null) return h("span", { class: "canary" }, it.stage === "canary" ? "running" : "—");
  const rate = name => metric(it, name) ?? "n/a";
  const within = metric(it, "canary_users") === null ? ""
    : `; within ${metric(it, "canary_users")} users ${metric(it, "canary_difference") ?? "n/a"}`;
  return h("span", { class: "canary" }, `candidate ${rate("canary_candidate_rate")} over ${metric(it, "canary_candidate_events")}`
    + ` vs stable ${rate("canary_stable_rate")} over ${metric(it, "canary_stable_events")}` + within);
}

function accuracy(rm) {
  if (rm === null) return h("p", { class: "muted rm-none" }, "No reward model on this deployment.");
  const points = rm.prequential.map(p => ({ step: p.version, value: p.accuracy }));
  return h("div", { class: "rm" },
    h("p", {}, "Reward model v", h("span", { class: "rm-version" }, String(rm.version)), " · events seen ", number(rm.events_seen),
      " · cumulative accuracy ", h("strong", { class: "rm-accuracy" }, points.length ? number(rm.prequential.at(-1).cumulative_accuracy, 3) : "n/a")),
    points.length ? h("div", { class: "charts" }, lineChart("reward-model accuracy by version", points)) : h("p", { class: "muted" }, "No predictions yet."));
}

function loop(l, lineage, rm, reload) {
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
    h("h3", {}, "Reward-model accuracy"),
    accuracy(rm),
    h("h3", {}, "Lineage"),
    lineage.iterations.length === 0 ? h("p", { class: "muted lineage-empty" }, "No iterations yet.") : table([
      ["#", it => String(it.iteration)],
      ["Stage", it => it.stage],
      ["Started", it => time(it.started_at)],
      ["Feedback", it => number(it.feedback_ids.length)],
      ["Reward model", it => h("span", { class: "rm-cell" }, (it.rm_version ?? "not used") + (metric(it, "train_rm_accuracy") !== null ? ` (accuracy ${metric(it, "train_rm_accuracy")})` : ""))],
      ["Candidate run", it => it.candidate_run ? h("a", { href: `#/runs/${q(it.candidate_run)}`, class: "mono" }, it.candidate_run) : "—"],
      ["Policy checkpoint", it => it.policy_checkpoint ? h("span", { class: "mono" }, it.policy_checkpoint) : "—"],
      ["Deployed", it => `v${it.deployed_version}` + (it.deployment_version ? ` → v${it.deployment_version}` : "")],
      ["Gate", gateCell],
      ["Canary", canaryCell],
      ["Decision", it => h("span", { class: `outcome ${it.outcome ?? "pending"}` }, it.outcome ?? "in progress")],
      ["Reason", it => it.reason ?? ""],
    ], lineage.iterations, { class: "lineage" }));
}
