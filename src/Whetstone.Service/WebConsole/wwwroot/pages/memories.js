// Memory Diffusion memories (made by /v1/chat/completions' memory field): the list, and one
// memory's spans (text, retention score, form, edits), its last turn's work and its operation log.
import { get, q } from "../api.js";
import { h, number, poll, table, time } from "../dom.js";

export const title = "Memories";
export const order = 4.7;

export function render(main, [memoryId], signal) {
  return memoryId ? renderMemory(main, memoryId, signal) : renderList(main, signal);
}

async function renderList(main, signal) {
  const body = h("div"), problems = h("div");
  main.append(h("h1", {}, "Memories"), problems, body);
  await poll(signal, 3000, async () => {
    const { memories, cursor } = await get("/api/v1/memories?limit=200");
    body.replaceChildren(memories.length === 0
      ? h("p", { class: "muted" }, "No memories yet: send a chat completion with a memory field.")
      : table([
        ["Memory", m => h("a", { href: `#/memories/${q(m.id)}`, class: "mono" }, m.id)],
        ["Base model", m => m.base_model],
        ["Turns", m => number(m.turn)],
        ["Tokens / budget", m => `${m.memory_tokens} / ${m.budget_tokens}`],
        ["Spans", m => number(m.span_count)],
        ["Updated", m => time(m.updated_at)],
      ], memories, { id: "memories" }),
      cursor.total_count > memories.length ? h("p", { class: "muted" }, `Newest ${memories.length} of ${cursor.total_count}.`) : null);
  }, problems);
}

async function renderMemory(main, memoryId, signal) {
  const info = h("div", { class: "cards" }), spans = h("div"), operations = h("div"), problems = h("div");
  main.append(h("p", {}, h("a", { href: "#/memories" }, "← all memories")), h("h1", { class: "mono" }, memoryId), problems, info,
    h("h2", {}, "Spans"), spans, h("h2", {}, "Operations (newest first)"), operations);
  let shown = "";
  await poll(signal, 3000, async () => {
    const m = await get(`/api/v1/memories/${q(memoryId)}`);
    const json = JSON.stringify(m);
    if (json === shown) return;
    shown = json;
    const card = (label, value, id) => h("div", { class: "card" }, h("div", { class: "muted" }, label), h("div", { class: "value", id }, value));
    const work = m.last_turn_work;
    info.replaceChildren(card("Base model", m.base_model), card("Turns", m.turn, "memory-turn"),
      card("Tokens / budget", `${m.memory_tokens} / ${m.budget_tokens}`, "memory-tokens"),
      card("Last turn's work", work ? `${number(work.total_tokens)} tokens` : "—"), card("Updated", time(m.updated_at)));
    spans.replaceChildren(m.spans.length === 0 ? h("p", { class: "muted" }, "No spans.") : table([
      ["Span", s => h("span", { class: "mono" }, s.id)],
      ["Turn", s => String(s.origin_turn)],
      ["Text", s => h("div", { class: "text span-text" }, s.text)],
      ["Tokens", s => String(s.tokens.length)],
      ["Retention", s => h("span", { class: "retention" }, number(s.retention))],
      ["Form", s => s.form],
      ["Fact keys", s => s.fact_keys.join(", ")],
      ["Edits", s => s.edits.join("; ")],
    ], m.spans, { id: "spans" }));
    operations.replaceChildren(m.operations.length === 0 ? h("p", { class: "muted" }, "No operations yet.") : table([
      ["#", o => String(o.sequence)],
      ["Turn", o => String(o.turn)],
      ["Operation", o => h("span", { class: "operation" }, o.operation)],
      ["Span", o => (o.span_id ? h("span", { class: "mono" }, o.span_id) : "—")],
      ["Detail", o => o.detail],
      ["At", o => time(o.at)],
    ], [...m.operations].reverse(), { id: "operations" }));
  }, problems);
}
