// The REST API as the signed-in key's tenant: every call sends the key as the bearer header the
// API authenticates, so the console sees exactly what that key may see. The key lives in
// sessionStorage (gone when the tab closes).
const KeyName = "whetstone.apiKey";

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

export const apiKey = () => sessionStorage.getItem(KeyName);
export const setApiKey = key => sessionStorage.setItem(KeyName, key);
export const clearApiKey = () => sessionStorage.removeItem(KeyName);

async function send(method, path, body) {
  const headers = { Authorization: `Bearer ${apiKey() ?? ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`, field;
  try {
    // Both error shapes carry {"error": {"message", ...}}: the training API names "field", /v1 "param".
    const error = (await response.json()).error;
    message = error?.message ?? message;
    field = error?.field ?? error?.param;
  } catch { /* not JSON: keep the status line */ }
  throw new ApiError(response.status, message, field);
}

export async function request(method, path, body) {
  const response = await send(method, path, body);
  return response.status === 204 ? null : response.json();
}

export const get = path => request("GET", path);
export const post = (path, body) => request("POST", path, body ?? {});
export const del = path => request("DELETE", path);

/** Saves a response as a file: a plain link cannot send the bearer header. */
export async function download(path, fileName) {
  const blob = await (await send("GET", path)).blob();
  const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: fileName });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export const q = encodeURIComponent;

/** The caller's runs, newest first. */
export const runs = async () => (await get("/api/v1/training_runs")).runs;

/** Every checkpoint of the caller's runs, newest first. */
export async function checkpoints() {
  const lists = await Promise.all((await runs()).map(r => get(`/api/v1/training_runs/${q(r.run_id)}/checkpoints`)));
  return lists.flatMap(l => l.checkpoints).sort((a, b) => b.created_at.localeCompare(a.created_at));
}
