// Checkpoints of the caller's runs: publish / unpublish, time to live, download.
import { checkpoints, download, post, q } from "../api.js";
import { action, bytes, h, poll, table, time } from "../dom.js";

export const title = "Checkpoints";
export const order = 2;

// Download formats of a sampler checkpoint (GET /api/v1/checkpoints/download?format=).
const Formats = [["peft", "PEFT"], ["merged", "merged"], ["gguf", "GGUF"]];

export async function render(main, [runId], signal) {
  const body = h("div"), problems = h("div");
  main.append(h("h1", {}, runId ? `Checkpoints of ${runId}` : "Checkpoints"), problems, body);
  let shown = "";
  const load = async (force = false) => {
    const list = (await checkpoints()).filter(c => !runId || c.run_id === runId);
    // Redrawn only when something changed, so a TTL being typed is not wiped by the next poll.
    const json = JSON.stringify(list);
    if (!force && json === shown) return;
    shown = json;
    body.replaceChildren(list.length === 0 ? h("p", { class: "muted" }, "No checkpoints yet.") : table([
      ["Path", c => h("code", {}, c.path)],
      ["Kind", c => c.kind],
      ["Size", c => bytes(c.size_bytes)],
      ["Saved", c => time(c.created_at)],
      ["Published", c => publishing(c, load)],
      ["Expires", c => ttl(c, load)],
      ["Download", c => (c.kind === "sampler_weights" ? downloads(c) : h("span", { class: "muted" }, "training state"))],
    ], list, { id: "checkpoints" }));
  };
  await poll(signal, 5000, () => load(), problems);
}

const path = c => `?path=${q(c.path)}`;

function publishing(c, reload) {
  return h("div", { class: "row" },
    h("span", { class: `badge ${c.published ? "on" : ""}` }, c.published ? "published" : "private"),
    action(c.published ? "Unpublish" : "Publish", async () => {
      await post(`/api/v1/checkpoints/${c.published ? "unpublish" : "publish"}${path(c)}`);
      await reload(true);
    }));
}

function ttl(c, reload) {
  const hours = h("input", { type: "number", min: "0", step: "any", size: 5, placeholder: "hours", "aria-label": "time to live in hours" });
  return h("div", { class: "row" },
    h("span", {}, c.expires_at ? time(c.expires_at) : "never"),
    hours,
    action("Set TTL", async () => {
      await post(`/api/v1/checkpoints/ttl${path(c)}`, { ttl_seconds: Number(hours.value) * 3600 });
      await reload(true);
    }),
    c.expires_at && action("Keep forever", async () => {
      await post(`/api/v1/checkpoints/ttl${path(c)}`, { ttl_seconds: null });
      await reload(true);
    }));
}

function downloads(c) {
  const name = c.path.replace(/^whet:\/\//, "").replaceAll("/", "-");
  return h("div", { class: "row" }, Formats.map(([format, label]) =>
    action(label, () => download(`/api/v1/checkpoints/download${path(c)}&format=${format}`, `${name}-${format}.zip`))));
}
