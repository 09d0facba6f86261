// Draws a ClusterModel as SVG: the ring of members with their terms and election timers, the messages travelling
// between them, and each member's log. Redrawn whole each frame: a cluster is a handful of members.
import { FLIGHT_MS, flightClass, kindName, labNode, shortId, termAt } from "./model.js";

const SVG = "http://www.w3.org/2000/svg";
const CENTER = 260;
const RADIUS = 175;
const BODY = 42;

function el(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function text(parent, attributes, content) {
  el("text", attributes, parent).textContent = content;
}

export function termColour(term) {
  if (!term) return "#d0d4da";
  return `hsl(${(term * 137) % 360}, 60%, 52%)`;
}

function positions(members) {
  const places = new Map();
  members.forEach((m, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, members.length);
    places.set(m.id, { x: CENTER + RADIUS * Math.cos(angle), y: CENTER + RADIUS * Math.sin(angle) });
  });
  return places;
}

// The election timer's share run out at `now`: it runs on between two states at one tick per tickMs.
function timerShare(member, now) {
  const s = member.state;
  if (!s || member.down || s.role === "leader") return 0;
  const timeout = Number(s.randomizedElectionTimeoutTicks) || 1;
  const elapsed = Number(s.electionElapsedTicks) + Math.max(0, now - member.stateAt) / (Number(s.tickMs) || 100);
  return Math.min(1, elapsed / timeout);
}

function arc(x, y, r, share) {
  if (share <= 0) return "";
  const end = -Math.PI / 2 + 2 * Math.PI * Math.min(share, 0.9999);
  const ex = x + r * Math.cos(end);
  const ey = y + r * Math.sin(end);
  return `M ${x} ${y - r} A ${r} ${r} 0 ${share > 0.5 ? 1 : 0} 1 ${ex.toFixed(1)} ${ey.toFixed(1)}`;
}

export function drawRing(svg, model, now) {
  svg.replaceChildren();
  const members = model.ordered();
  const places = positions(members);
  for (let i = 0; i < members.length; i++) {
    for (let j = i + 1; j < members.length; j++) {
      const a = places.get(members[i].id);
      const b = places.get(members[j].id);
      el("line", { class: "link", x1: a.x, y1: a.y, x2: b.x, y2: b.y }, svg);
    }
  }
  drawCuts(svg, model, members, places);
  for (const f of model.flights) {
    const a = places.get(f.from);
    const b = places.get(f.to);
    if (!a || !b || now < f.at) continue;
    const share = (now - f.at) / FLIGHT_MS;
    if (share > 1) continue;
    const x = a.x + (b.x - a.x) * share;
    const y = a.y + (b.y - a.y) * share;
    const lost = f.arrivedAt === null && share > 0.5 && model.members.get(f.to)?.down;
    const classes = `flight ${flightClass(f.message)}${lost ? " lost" : ""}`;
    const dot = el("circle", { class: classes, cx: x.toFixed(1), cy: y.toFixed(1), r: f.message.entries > 0 ? 7 : 5, "data-kind": kindName(f.message.kind) }, svg);
    el("title", {}, dot).textContent = `${kindName(f.message.kind)} ${shortId(f.from)}→${shortId(f.to)} term ${f.message.term} index ${f.message.index}` +
      (f.message.entries > 0 ? ` (${f.message.entries} entries)` : "") + (f.message.reject ? " rejected" : "");
  }
  for (const m of members) {
    const p = places.get(m.id);
    const s = m.state || {};
    const node = labNode(model, m);
    const process = node ? node.process : m.down ? "down" : "running";
    const g = el("g", {
      class: "member", "data-id": shortId(m.id), "data-role": s.role || "follower", "data-term": s.term || 0,
      "data-down": m.down || process === "down", "data-leader": shortId(s.leader), "data-commit": s.commit || 0,
      "data-process": process, "data-node": node ? node.number : "",
    }, svg);
    // Its faults as it reports them itself; a killed or paused member cannot, so then the lab's record of them.
    const own = process === "running" && !m.down && s.labFaults !== undefined;
    const faults = own ? s.labFaults : node?.faults || "";
    g.setAttribute("data-faults", faults);
    g.setAttribute("data-faults-from", own ? "member" : "lab");
    el("circle", { class: "body", cx: p.x, cy: p.y, r: BODY }, g);
    const share = timerShare(m, now);
    if (share > 0) el("path", { class: "timer", d: arc(p.x, p.y, BODY + 6, share) }, g);
    text(g, { class: "term", x: p.x, y: p.y }, s.term || "?");
    const label = node ? `${node.name} · ${shortId(m.id).slice(0, 6)}` : `${shortId(m.id).slice(0, 6)} · ${m.endpoint}`;
    text(g, { class: "name", x: p.x, y: p.y + BODY + 20 }, label + (process === "running" ? "" : ` (${process === "down" ? "killed" : process})`));
    if (faults) text(g, { class: "member-faults", x: p.x, y: p.y + BODY + 34 }, faults);
  }
}

// The lab's cut links: a red dashed line with a cross, in the middle when both ways are cut, near the sender
// whose packets are dropped when only one way is.
function drawCuts(svg, model, members, places) {
  if (!model.lab) return;
  const place = new Map();
  for (const m of members) {
    const node = labNode(model, m);
    if (node) place.set(node.number, places.get(m.id));
  }
  const blocked = new Set(model.lab.blocked.map(([from, to]) => `${from}>${to}`));
  for (const [from, to] of model.lab.blocked) {
    const both = blocked.has(`${to}>${from}`);
    if (both && from > to) continue;
    const a = place.get(from);
    const b = place.get(to);
    if (!a || !b) continue;
    const g = el("g", { class: `cut${both ? "" : " one-way"}`, "data-from": from, "data-to": to, "data-both": both }, svg);
    el("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y }, g);
    const share = both ? 0.5 : 0.3;
    const x = a.x + (b.x - a.x) * share;
    const y = a.y + (b.y - a.y) * share;
    el("path", { class: "cross", d: `M ${x - 7} ${y - 7} L ${x + 7} ${y + 7} M ${x - 7} ${y + 7} L ${x + 7} ${y - 7}` }, g);
    el("title", {}, g).textContent = both ? `cut: n${from} ⇹ n${to}` : `cut one way: n${from}'s packets to n${to} are dropped`;
  }
}

const CELLS = 24;
const CELL = 18;
const LEFT = 70;

export function drawLogs(svg, model) {
  svg.replaceChildren();
  const members = model.ordered().filter(m => m.state);
  const last = Math.max(0, ...members.map(m => Number(m.state.lastIndex)));
  const from = Math.max(1, last - CELLS + 1);
  for (let i = from; i <= last; i += 4) {
    text(svg, { class: "index-label", x: LEFT + (i - from) * (CELL + 2) + CELL / 2, y: 12 }, i);
  }
  members.forEach((m, row) => {
    const s = m.state;
    const y = 24 + row * 44;
    const g = el("g", { class: "log-row", "data-member": shortId(m.id), "data-down": m.down, "data-commit": s.commit, "data-applied": s.applied, "data-last": s.lastIndex }, svg);
    text(g, { x: 6, y: y + CELL / 2 }, shortId(m.id).slice(0, 6));
    const commit = Number(s.commit);
    const applied = Number(s.applied);
    for (let i = from; i <= Number(s.lastIndex); i++) {
      const term = termAt(s, i);
      const committed = i <= commit;
      const colour = termColour(term);
      const cell = el("rect", {
        class: "cell", x: LEFT + (i - from) * (CELL + 2), y, width: CELL, height: CELL, rx: 3,
        fill: committed ? colour : "#ffffff", stroke: colour,
        "data-index": i, "data-term": term, "data-committed": committed,
      }, g);
      el("title", {}, cell).textContent = `index ${i}, term ${term}${committed ? ", committed" : ""}`;
    }
    if (commit >= from) text(g, { class: "mark", x: LEFT + (commit - from) * (CELL + 2) + CELL / 2, y: y + CELL + 10 }, "▲");
    if (applied >= from) text(g, { class: "mark", x: LEFT + (applied - from) * (CELL + 2) + CELL / 2, y: y - 5 }, "▾");
  });
}

export function drawTimeline(list, model) {
  list.replaceChildren();
  for (const entry of model.leaders.slice(-30).reverse()) {
    const item = document.createElement("li");
    item.dataset.term = entry.term;
    item.dataset.leader = shortId(entry.leader);
    item.textContent = `term ${entry.term}: ${shortId(entry.leader)} at ${new Date(entry.at).toLocaleTimeString()}`;
    list.appendChild(item);
  }
}
