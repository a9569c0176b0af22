// One metric's curve as an SVG line chart (x: training step, y: value), drawn here rather than
// with a library so the console has no dependency to fetch. data-points on the <svg> says how
// many points it plots (the browser tests watch it grow).
const Svg = "http://www.w3.org/2000/svg";
const Width = 520, Height = 200, Left = 56, Right = 12, Top = 24, Bottom = 28;

function el(tag, attributes, text) {
  const element = document.createElementNS(Svg, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

const label = x => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : String(+x.toPrecision(4)));

/** points: [{step, value}] in the order recorded; several values at one step are all drawn. */
export function lineChart(name, points) {
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${Width} ${Height}`, "data-metric": name, "data-points": points.length, role: "img" });
  const last = points.at(-1);
  svg.append(el("text", { x: Left, y: 16, class: "chart-title" }, last ? `${name} — ${label(last.value)} at step ${last.step}` : `${name} — no points yet`));
  if (points.length === 0) return svg;
  const sorted = [...points].sort((a, b) => a.step - b.step);
  const steps = sorted.map(p => p.step), values = sorted.map(p => p.value);
  let [x0, x1] = [Math.min(...steps), Math.max(...steps)];
  let [y0, y1] = [Math.min(...values), Math.max(...values)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const x = s => Left + ((s - x0) / (x1 - x0)) * (Width - Left - Right);
  const y = v => Height - Bottom - ((v - y0) / (y1 - y0)) * (Height - Top - Bottom);
  svg.append(
    el("line", { x1: Left, y1: Height - Bottom, x2: Width - Right, y2: Height - Bottom, class: "axis" }),
    el("line", { x1: Left, y1: Top, x2: Left, y2: Height - Bottom, class: "axis" }),
    el("text", { x: Left - 4, y: y(y1) + 4, class: "tick", "text-anchor": "end" }, label(y1)),
    el("text", { x: Left - 4, y: y(y0) + 4, class: "tick", "text-anchor": "end" }, label(y0)),
    el("text", { x: x(x0), y: Height - 8, class: "tick" }, `step ${label(x0)}`),
    el("text", { x: x(x1), y: Height - 8, class: "tick", "text-anchor": "end" }, label(x1)),
    el("polyline", { class: "line", points: sorted.map(p => `${x(p.step).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ") }));
  if (sorted.length <= 60) for (const p of sorted) svg.append(el("circle", { class: "dot", cx: x(p.step).toFixed(1), cy: y(p.value).toFixed(1), r: 2.5 }));
  return svg;
}
