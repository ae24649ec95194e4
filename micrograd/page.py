"""One self-contained HTML page that steps through backpropagation on a drawing of the graph.

Why a page: the seeds' textbook draws the graph once and then walks it, forward from left to
right, backward from right to left, one local step at a time.  A static picture cannot show
that order; this page does, offline, from one file (no CDN, no network request): the Graphviz
drawing inline, and a step control (→ / ← keys, buttons, a slider, play/pause).  The steps go
through the forward pass node by node, then the backward pass edge by edge, highlighting the
node and the edge and showing upstream × local = contribution; the last step shows every
gradient.

`page_html` only assembles the page: the drawing comes from `micrograd.draw` (which calls
this module for ``render(root, "page.html")``) and the numbers from `micrograd.explain`, so
the page says exactly what the table says.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .engine import Value
from .walkthrough import Explanation
from .words import number

__all__ = ["page_html"]


def page_html(explanation: Explanation, svg: str, value_ids: Mapping[Value, str], op_ids: Mapping[Value, str],
              box_number: Callable[[float], str], *, digits: int = 6) -> str:
    """The page for `explanation`, with `svg` (Graphviz's drawing of the same lecture graph) inline.

    `value_ids` / `op_ids` give the Graphviz node name of each drawn value's box and of its
    operation (the ``<title>`` of its SVG group); values left out of the drawing are simply
    not highlighted.  `box_number` formats numbers as the drawing's boxes do, so the boxes
    keep their look as the page fills them in.  `digits`: significant digits in the panel.
    """
    states = _states(explanation, value_ids, op_ids, box_number, digits)
    root_name = explanation.names(explanation.out)
    data = json.dumps({"states": states, "boxes": _boxes(explanation, value_ids, box_number),
                       "zero": box_number(0.0)}, ensure_ascii=False)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # safe inside <script>
    title = f"Backpropagation, step by step: {root_name}"
    return (_TEMPLATE
            .replace("%TITLE%", html.escape(title))
            .replace("%HEADING%", html.escape(root_name))
            .replace("%SVG%", _inline(svg))
            .replace("%DATA%", data))


def _inline(svg: str) -> str:
    """Graphviz's SVG document as an element for an HTML page: no XML prolog, scaled by CSS."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("not an SVG document")
    element = svg[start:]
    element = re.sub(r'^<svg width="[^"]*" height="[^"]*"', '<svg role="img" aria-label="computation graph"',
                     element, count=1)
    return element


def _boxes(explanation: Explanation, value_ids: Mapping[Value, str], box_number: Callable[[float], str]) -> \
        dict[str, Any]:
    """Each drawn value's box: its data as the drawing shows it, and whether it is an input (shown from the start)."""
    boxes = {}
    for v, vid in value_ids.items():
        boxes[vid] = {"data": box_number(v.data), "input": not explanation.lecture.parents(v)}
    return boxes


def _states(explanation: Explanation, value_ids: Mapping[Value, str], op_ids: Mapping[Value, str],
            box_number: Callable[[float], str], digits: int) -> list[dict[str, Any]]:
    """Every state of the page, in order: the start, one per forward node, the seed, one per backward edge, the end."""
    names = explanation.names
    ex, out = explanation, explanation.out
    r = names.atom(out)
    forward = ex.forward()
    inputs = sorted({names(v) for v in value_ids if not ex.lecture.parents(v)})
    states: list[dict[str, Any]] = [{
        "phase": "start",
        "title": "The graph",
        "lines": [f"Inputs: {', '.join(inputs)}." if inputs else "",
                  f"The forward pass computes each value from its inputs ({len(forward)} steps); "
                  f"the backward pass then sends ∂{r}/∂value back along every edge ({len(ex.steps)} steps).",
                  "Keys: → next, ← back, space play/pause, Home/End first/last, z zoom."],
    }]
    for v, words in forward:
        states.append({"phase": "forward", "title": "Forward pass", "lines": [words],
                       "node": value_ids.get(v), "op": op_ids.get(v), "edges": _edges_into(v, ex, value_ids, op_ids),
                       "show": value_ids.get(v)})
    states.append({"phase": "seed", "title": "Backward pass: the seed",
                   "lines": [f"∂{r}/∂{r} = 1: the output's gradient with respect to itself.",
                             "Every other gradient starts at 0 and is the total of what the steps pass back to it."],
                   "node": value_ids.get(out), "grad": [value_ids.get(out), box_number(1.0)]})
    totals: dict[Value, float] = {}
    for s in ex.steps:
        node, parent = names(s.node), names(s.parent)
        before = totals.get(s.parent)
        totals[s.parent] = s.total
        total_line = f"{parent}.grad = {number(before or 0.0, digits)} + {number(s.contribution, digits)} = " \
                     f"{number(s.total, digits)}"
        if before is not None:
            total_line += "  (used more than once: what each use passes back adds up)"
        states.append({
            "phase": "backward", "title": f"Backward pass: {node} → {parent}",
            "lines": [f"upstream   ∂{r}/∂{names.atom(s.node)} = {number(s.upstream, digits)}",
                      f"local      {s.rule}",
                      f"contribution = {number(s.upstream, digits)} × {number(s.local, digits)} = "
                      f"{number(s.contribution, digits)}",
                      total_line],
            "node": value_ids.get(s.node), "op": op_ids.get(s.node), "parent": value_ids.get(s.parent),
            "edges": _edge_pair(s.node, s.parent, value_ids, op_ids),
            "grad": [value_ids.get(s.parent), box_number(s.total)],
            "numbers": {"upstream": number(s.upstream, digits), "local": number(s.local, digits),
                        "contribution": number(s.contribution, digits), "total": number(s.total, digits)},
        })
    leaves = ex.leaves
    states.append({
        "phase": "done", "title": "Every gradient",
        "lines": [f"Each box now shows its value's gradient ∂{r}/∂value. The inputs:" if leaves
                  else "No value behind the output gets a gradient."],
        "table": [[names(v), number(v.data, digits), number(ex.gradient(v), digits)] for v in leaves],
    })
    legend = dict(names.legend())
    for state in states:  # say what a #k name stands for wherever one appears
        used = dict.fromkeys(re.findall(r"#\d+", " ".join([state["title"], *state["lines"]])))
        state["lines"] += [f"where {k} = {legend[k]}" for k in used if k in legend]
    return states


def _edge_pair(node: Value, parent: Value, value_ids: Mapping[Value, str], op_ids: Mapping[Value, str]) -> list[str]:
    """The two drawn edges a backward step travels: from the node's box to its op, and from the op to the parent."""
    vid, oid, pid = value_ids.get(node), op_ids.get(node), value_ids.get(parent)
    edges = []
    if oid and vid:
        edges.append(f"{oid}->{vid}")
    if oid and pid:
        edges.append(f"{pid}->{oid}")
    return edges


def _edges_into(v: Value, ex: Explanation, value_ids: Mapping[Value, str], op_ids: Mapping[Value, str]) -> list[str]:
    """The drawn edges of a forward step: from each input's box to the op, and from the op to the value."""
    oid, vid = op_ids.get(v), value_ids.get(v)
    if not oid:
        return []
    edges = [f"{pid}->{oid}" for p in ex.lecture.parents(v) if (pid := value_ids.get(p))]
    return [*edges, f"{oid}->{vid}"] if vid else edges


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE%</title>
<style>
  :root { --fwd: #1c7ed6; --bwd: #e8590c; --recv: #2b8a3e; --ink: #212529; --muted: #868e96; --line: #dee2e6; }
  * { box-sizing: border-box; }
  html, body { margin: 0; height: 100%; font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica,
               Arial, sans-serif; color: var(--ink); background: #f8f9fa; }
  body { display: grid; grid-template-rows: auto 1fr; }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.6rem 1.2rem; padding: 0.55rem 1rem;
           background: #fff; border-bottom: 1px solid var(--line); }
  h1 { font-size: 1.15rem; margin: 0; font-weight: 600; }
  h1 span { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; color: var(--bwd); }
  nav { display: flex; align-items: center; gap: 0.4rem; flex-wrap: wrap; }
  button { font: inherit; font-size: 0.95rem; padding: 0.3rem 0.7rem; border: 1px solid #ced4da; border-radius: 6px;
           background: #fff; cursor: pointer; }
  button:hover { background: #f1f3f5; }
  button:focus-visible { outline: 2px solid var(--fwd); outline-offset: 1px; }
  #play.playing { background: #fff4e6; border-color: var(--bwd); }
  #counter { font-variant-numeric: tabular-nums; min-width: 8.5em; font-size: 0.95rem; }
  #slider { width: 14rem; }
  main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(20rem, 28rem); min-height: 0; }
  body.wide main { grid-template-columns: minmax(0, 1fr); grid-template-rows: minmax(0, 1fr) minmax(12rem, auto); }
  #graph { min-height: 0; min-width: 0; overflow: hidden; background: #fff; padding: 0.75rem; display: flex; }
  #graph.actual { overflow: auto; display: block; }
  #graph svg { display: block; width: 100%; height: 100%; margin: auto; }
  #graph.actual svg { max-width: none !important; max-height: none !important; }
  aside { border-left: 1px solid var(--line); padding: 1rem 1.1rem; overflow: auto; background: #fff; }
  body.wide aside { border-left: 0; border-top: 1px solid var(--line); display: grid;
                    grid-template-columns: minmax(0, 1fr) auto; column-gap: 2rem; align-content: start; }
  body.wide aside > * { grid-column: 1; }
  body.wide aside > #extra { grid-column: 2; grid-row: 1 / span 4; }
  #phase { text-transform: uppercase; letter-spacing: 0.06em; font-size: 0.8rem; font-weight: 700;
           color: var(--muted); }
  #phase.forward { color: var(--fwd); } #phase.backward, #phase.seed { color: var(--bwd); }
  #phase.done { color: var(--recv); }
  #title { font-size: 1.25rem; font-weight: 600; margin: 0.25rem 0 0.8rem; overflow-wrap: anywhere; }
  #lines div { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 1rem;
               line-height: 1.45; margin: 0.35rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  #lines div.prose { font-family: inherit; }
  table { border-collapse: collapse; margin-top: 0.8rem; font-size: 0.95rem; }
  th, td { border-bottom: 1px solid var(--line); padding: 0.25rem 0.6rem; text-align: right;
           font-variant-numeric: tabular-nums; }
  th:first-child, td:first-child { text-align: left; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
  .legend { margin-top: 1.2rem; font-size: 0.85rem; color: var(--muted); line-height: 1.5; }
  .swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; vertical-align: -0.05em; }
  svg .node.current polygon, svg .node.current ellipse { stroke: var(--bwd); stroke-width: 2.5; fill: #fff4e6; }
  svg .node.forward polygon, svg .node.forward ellipse { stroke: var(--fwd); stroke-width: 2.5; fill: #e7f5ff; }
  svg .node.receiving polygon { stroke: var(--recv); stroke-width: 2.5; fill: #ebfbee; }
  svg .edge.current path { stroke: var(--bwd); stroke-width: 3; }
  svg .edge.current polygon { stroke: var(--bwd); fill: var(--bwd); }
  svg .edge.forward path { stroke: var(--fwd); stroke-width: 3; }
  svg .edge.forward polygon { stroke: var(--fwd); fill: var(--fwd); }
  svg text.unknown { fill: #adb5bd; }
  svg text.changed { fill: var(--recv); font-weight: bold; }
</style>
</head>
<body>
<header>
  <h1>Backpropagation, step by step: <span>%HEADING%</span></h1>
  <nav aria-label="steps">
    <button id="first" title="first step (Home)">&#x21E4;</button>
    <button id="prev" title="previous step (&#x2190;)">&#x2190; Back</button>
    <button id="play" title="play / pause (space)">&#x25B6; Play</button>
    <button id="next" title="next step (&#x2192;)">Next &#x2192;</button>
    <button id="last" title="last step (End)">&#x21E5;</button>
    <input id="slider" type="range" min="0" value="0" aria-label="step">
    <span id="counter" aria-live="polite"></span>
    <button id="zoom" title="fit the graph to the window, or show it at its actual size (z)">Actual size</button>
  </nav>
</header>
<main>
  <div id="graph">%SVG%</div>
  <aside>
    <div id="phase"></div>
    <div id="title"></div>
    <div id="lines"></div>
    <div id="extra"></div>
    <div class="legend">
      <span class="swatch" style="background:var(--fwd)"></span> forward: the value being computed &nbsp;
      <span class="swatch" style="background:var(--bwd)"></span> backward: the node passing its gradient &nbsp;
      <span class="swatch" style="background:var(--recv)"></span> the value receiving it
    </div>
  </aside>
</main>
<script id="data" type="application/json">%DATA%</script>
<script>
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("data").textContent);
  const states = DATA.states, last = states.length - 1;
  const svg = document.querySelector("#graph svg");
  // fit the window, but never blow a small graph up more than 1.6 times its natural size (points -> px: 4/3)
  const box = svg.viewBox.baseVal;
  svg.style.maxWidth = (box.width * 4 / 3 * 1.6) + "px";
  svg.style.maxHeight = (box.height * 4 / 3 * 1.6) + "px";
  svg.dataset.width = String(box.width * 4 / 3);
  if (box.width > 2.2 * box.height) document.body.classList.add("wide");  // a long strip: the panel goes below
  const groups = {};  // Graphviz name (the <title>) -> its <g>
  for (const g of svg.querySelectorAll("g.node, g.edge")) {
    const t = g.querySelector("title");
    if (t) groups[t.textContent] = g;
  }
  const texts = {};  // value box name -> {data: <text>, grad: <text>}
  for (const [name, box] of Object.entries(DATA.boxes)) {
    const g = groups[name];
    if (!g) continue;
    const entry = {};
    for (const t of g.querySelectorAll("text")) {
      if (t.textContent.startsWith("data ")) entry.data = t;
      else if (t.textContent.startsWith("grad ")) entry.grad = t;
    }
    texts[name] = entry;
  }
  const $ = (id) => document.getElementById(id);
  let current = 0, timer = null;

  function setText(el, text, cls) {
    if (!el) return;
    el.textContent = text;
    el.classList.remove("unknown", "changed");
    if (cls) el.classList.add(cls);
  }

  function render(k) {
    current = Math.max(0, Math.min(last, k));
    // replay the states up to k: which data are known, each gradient so far
    const shown = {}, grads = {};
    let backward = false, changed = null;
    for (let i = 0; i <= current; i++) {
      const s = states[i];
      if (s.show) shown[s.show] = true;
      if (s.phase === "seed") backward = true;
      if (s.grad && s.grad[0]) { grads[s.grad[0]] = s.grad[1]; changed = i === current ? s.grad[0] : null; }
    }
    for (const [name, box] of Object.entries(DATA.boxes)) {
      const t = texts[name];
      if (!t) continue;
      const known = box.input || shown[name];
      setText(t.data, "data " + (known ? box.data : "?"), known ? null : "unknown");
      if (t.grad) {
        const g = grads[name] !== undefined ? grads[name] : (backward ? DATA.zero : "?");
        setText(t.grad, "grad " + g, name === changed ? "changed" : (backward ? null : "unknown"));
      }
    }
    for (const g of svg.querySelectorAll(".current, .forward, .receiving")) {
      g.classList.remove("current", "forward", "receiving");
    }
    const s = states[current];
    const mark = (name, cls) => { if (name && groups[name]) groups[name].classList.add(cls); };
    const style = s.phase === "forward" ? "forward" : "current";
    mark(s.node, style); mark(s.op, style); mark(s.parent, "receiving");
    for (const e of s.edges || []) mark(e, style);
    $("phase").textContent = s.phase === "start" ? "overview" : s.phase === "done" ? "done" : s.phase;
    $("phase").className = s.phase;
    $("title").textContent = s.title;
    const lines = $("lines");
    lines.replaceChildren();
    for (const line of s.lines) {
      if (!line) continue;
      const div = document.createElement("div");
      div.textContent = line;
      if (s.phase === "start" || s.phase === "seed") div.className = "prose";
      lines.appendChild(div);
    }
    const extra = $("extra");
    extra.replaceChildren();
    if (s.table && s.table.length) {
      const table = document.createElement("table");
      const head = table.insertRow();
      for (const h of ["value", "data", "gradient"]) {
        const th = document.createElement("th"); th.textContent = h; head.appendChild(th);
      }
      for (const row of s.table) {
        const tr = table.insertRow();
        for (const cell of row) tr.insertCell().textContent = cell;
      }
      extra.appendChild(table);
    }
    $("counter").textContent = "step " + current + " of " + last;
    $("slider").value = String(current);
    $("prev").disabled = $("first").disabled = current === 0;
    $("next").disabled = $("last").disabled = current === last;
    if ($("graph").classList.contains("actual") && s.node && groups[s.node]) {
      groups[s.node].scrollIntoView({block: "nearest", inline: "nearest"});
    }
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("play").textContent = "\\u25B6 Play";
    $("play").classList.remove("playing");
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (current === last) render(0);
    timer = setInterval(() => { if (current >= last) stop(); else render(current + 1); }, 1100);
    $("play").textContent = "\\u275A\\u275A Pause";
    $("play").classList.add("playing");
  }
  function zoom() {
    const g = $("graph");
    g.classList.toggle("actual");
    svg.style.width = g.classList.contains("actual") ? svg.dataset.width + "px" : "";
    svg.style.height = g.classList.contains("actual") ? "auto" : "";
    $("zoom").textContent = g.classList.contains("actual") ? "Fit to window" : "Actual size";
    render(current);
  }

  $("slider").max = String(last);
  $("first").addEventListener("click", () => { stop(); render(0); });
  $("prev").addEventListener("click", () => { stop(); render(current - 1); });
  $("next").addEventListener("click", () => { stop(); render(current + 1); });
  $("last").addEventListener("click", () => { stop(); render(last); });
  $("play").addEventListener("click", play);
  $("zoom").addEventListener("click", zoom);
  $("slider").addEventListener("input", (e) => { stop(); render(Number(e.target.value)); });
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const keys = {ArrowRight: () => render(current + 1), ArrowLeft: () => render(current - 1),
                  Home: () => render(0), End: () => render(last)};
    if (keys[e.key]) { e.preventDefault(); stop(); keys[e.key](); }
    else if (e.key === " " && e.target.tagName !== "BUTTON") { e.preventDefault(); play(); }
    else if (e.key === "z") zoom();
  });
  render(0);
})();
</script>
</body>
</html>
"""
