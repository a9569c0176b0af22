// The served-completion log (every /v1 answer) with the feedback given on each.
import { get, post } from "../api.js";
import { action, h, number, poll, table, time } from "../dom.js";

export const title = "Completions";
export const order = 4;

const Page = 1000, Shown = 200;

export async function render(main, args, signal) {
  const body = h("div"), problems = h("div");
  main.append(h("h1", {}, "Completion log"), problems, body);
  const completions = [], feedback = new Map();   // completion id -> [feedback]
  let afterCompletion = "", afterFeedback = "", shown = "";
  // Both lists are oldest first with an "after" cursor: read what is new since the last poll.
  const readNew = async (path, after, each) => {
    for (;;) {
      const page = await get(`${path}?limit=${Page}${after ? `&after=${encodeURIComponent(after)}` : ""}`);
      page.data.forEach(each);
      if (page.data.length > 0) after = page.data.at(-1).id;
      if (page.data.length < Page) return after;
    }
  };
  const load = async (force = false) => {
    afterCompletion = await readNew("/v1/completion_log", afterCompletion, c => completions.push(c));
    afterFeedback = await readNew("/v1/feedback", afterFeedback, f => {
      if (!feedback.has(f.completion_id)) feedback.set(f.completion_id, []);
      feedback.get(f.completion_id).push(f);
    });
    const key = `${completions.length}/${afterFeedback}`;
    if (!force && key === shown) return;
    shown = key;
    const newest = completions.slice(-Shown).reverse();
    body.replaceChildren(newest.length === 0 ? h("p", { class: "muted" }, "Nothing served yet.") : table([
      ["When", c => time(c.created_at)],
      ["Model", c => h("div", {}, h("code", {}, c.deployment ?? c.model), c.checkpoint_path && h("div", { class: "muted mono" }, c.checkpoint_path))],
      ["Prompt", c => h("div", { class: "text" }, promptText(c))],
      ["Answer", c => h("div", { class: "text" }, c.choices.map(x => x.text).join("\n—\n"))],
      ["Tokens", c => `${c.prompt_tokens.length} + ${c.choices.reduce((n, x) => n + x.tokens.length, 0)}`],
      ["Latency", c => `${number(c.latency_seconds, 3)} s`],
      ["Feedback", c => feedbackCell(c, feedback.get(c.id) ?? [], () => load(true))],
    ], newest, { id: "completions" }));
  };
  await poll(signal, 3000, () => load(), problems);
}

function promptText(c) {
  if (c.messages) return c.messages.map(m => `${m.role}: ${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`).join("\n");
  return typeof c.prompt === "string" ? c.prompt : JSON.stringify(c.prompt);
}

function describe(f) {
  switch (f.type) {
    case "rating": return `rating ${f.rating}`;
    case "correction": return `correction: ${f.correction}`;
    case "preference": return `preferred over ${f.rejected_completion_id}`;
    default: return f.type.replace("_", " ");
  }
}

function feedbackCell(c, given, reload) {
  const send = type => action(type === "thumbs_up" ? "Good" : "Bad", async () => {
    await post("/v1/feedback", { completion_id: c.id, type });
    await reload();
  }, { title: type.replace("_", " "), class: type });
  return h("div", {}, given.map(f => h("div", { class: "feedback" }, describe(f), f.comment && ` (${f.comment})`)),
    h("div", { class: "row" }, send("thumbs_up"), send("thumbs_down")));
}
