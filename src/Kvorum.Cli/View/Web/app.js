// The page: follows /events (Server-Sent Events relayed by `kvorum view`), keeps the last minutes of them so that
// time can be paused, replayed slower and scrubbed, draws each frame, and runs the client box.
import { ClusterModel, eventTime, shortId } from "./model.js";
import { drawLogs, drawRing, drawTimeline } from "./draw.js";
import { enableControls, setUpControls, showLab } from "./controls.js";
import { showScenario } from "./scenarios.js";

const $ = id => document.getElementById(id);

let endpoints = [];
let replaySeconds = 300;
let history = [];         // { t, line }, oldest first
let model = new ClusterModel([]);
let applied = 0;          // how many of history the model has taken in
let live = true;
let playing = true;
let cursor = 0;           // the replayed time (ms since the epoch) when not live
let speed = 1;
let lastFrame = performance.now();

function connect() {
  const source = new EventSource("events");
  source.onmessage = message => {
    const line = JSON.parse(message.data);
    if (line.hello) {
      endpoints = line.endpoints;
      replaySeconds = line.replaySeconds;
      if (line.controls) enableControls(line.controls);
      $("client-via").replaceChildren(new Option("any member", ""), ...endpoints.map(e => new Option(e, e)));
      history = [];
      reset();
      return;
    }
    history.push({ t: eventTime(line), line });
    trimHistory();
  };
  source.onerror = () => { $("status").textContent = "view unreachable: retrying…"; };
}

function trimHistory() {
  const keepFrom = Date.now() - replaySeconds * 1000;
  let drop = 0;
  while (drop < history.length && history[drop].t < keepFrom && drop < applied) drop++;
  if (drop > 1000 || history.length > 60000) {
    history = history.slice(drop);
    applied -= drop;
  }
}

function reset() {
  model = new ClusterModel(endpoints);
  applied = 0;
}

// Brings the model to time `now`, replaying from the start when time went back.
function advanceTo(now) {
  if (applied > 0 && applied <= history.length && history[applied - 1].t > now) reset();
  while (applied < history.length && history[applied].t <= now) model.apply(history[applied++].line);
  model.prune(now);
}

function frame(at) {
  const elapsed = at - lastFrame;
  lastFrame = at;
  let now;
  if (live) {
    now = Date.now();
    // Events from members whose clocks run a little ahead are taken in as they come.
    while (applied < history.length) model.apply(history[applied++].line);
    model.prune(now);
  } else {
    if (playing) cursor += elapsed * speed;
    const end = history.length ? history[history.length - 1].t : Date.now();
    if (cursor >= end && playing) goLive();
    now = live ? Date.now() : cursor;
    advanceTo(now);
  }
  drawRing($("ring"), model, now);
  drawLogs($("logs"), model);
  drawTimeline($("timeline"), model);
  showLab(model.lab);
  showScenario(model.scenario);
  showStatus(now);
  requestAnimationFrame(frame);
}

function showStatus(now) {
  const members = model.ordered();
  const leaders = members.filter(m => !m.down && m.state && m.state.role === "leader");
  const up = members.filter(m => !m.down).length;
  const leader = leaders.length === 1 ? `leader ${shortId(leaders[0].id)}, term ${leaders[0].state.term}` : leaders.length === 0 ? "no leader" : `${leaders.length} leaders`;
  $("status").textContent = `${up} of ${members.length} members up · ${leader}` + (model.dropped ? ` · ${model.dropped} message events not shown` : "");
  const start = history.length ? history[0].t : now;
  const end = history.length ? Math.max(history[history.length - 1].t, start + 1) : now + 1;
  const slider = $("replay-time");
  if (live) slider.value = slider.max;
  else slider.value = String(Math.round(((now - start) / (end - start)) * Number(slider.max)));
  // The replayed time and the span kept, for a reader (or a test) that measures the replay's pace.
  $("replay-label").dataset.cursor = String(Math.round(now));
  $("replay-label").dataset.span = String(Math.round(end - start));
  $("replay-label").textContent = live ? "live" : `${playing ? "replaying" : "paused"} at ${new Date(now).toLocaleTimeString()} (${((end - now) / 1000).toFixed(1)} s ago)`;
}

function goLive() {
  live = true;
  playing = true;
  $("replay-pause").textContent = "Pause";
}

function pause() {
  if (live) {
    live = false;
    cursor = Date.now();
  }
  playing = !playing;
  $("replay-pause").textContent = playing ? "Pause" : "Play";
}

// One event further in time, paused: the next state change, message or fault, one at a time.
function step() {
  if (live) {
    live = false;
    cursor = history.length ? history[history.length - 1].t : Date.now();
  }
  playing = false;
  $("replay-pause").textContent = "Play";
  if (applied < history.length) cursor = Math.max(cursor, history[applied].t);
}

function seek() {
  if (!history.length) return;
  const start = history[0].t;
  const end = history[history.length - 1].t;
  live = false;
  cursor = start + ((end - start) * Number($("replay-time").value)) / Number($("replay-time").max);
}

async function client(path, init) {
  const out = $("client-result");
  out.classList.remove("error");
  out.textContent = "…";
  try {
    const response = await fetch(path, init);
    const answer = await response.json();
    if (!response.ok || answer.error) {
      out.classList.add("error");
      out.textContent = answer.error || `HTTP ${response.status}`;
      return;
    }
    out.textContent = "value" in answer
      ? `${answer.value === null ? "(no such key)" : answer.value} · revision ${answer.revision} · from ${answer.member}`
      : `OK · revision ${answer.revision} · from ${answer.member}`;
  } catch (e) {
    out.classList.add("error");
    out.textContent = String(e);
  }
}

function setUp() {
  $("client-put").addEventListener("click", () => client("api/put", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: $("client-key").value, value: $("client-value").value, via: $("client-via").value }),
  }));
  $("client-get").addEventListener("click", () => {
    const query = new URLSearchParams({ key: $("client-key").value, serializable: $("client-serializable").checked, via: $("client-via").value });
    client(`api/get?${query}`, {});
  });
  $("replay-pause").addEventListener("click", pause);
  $("replay-live").addEventListener("click", goLive);
  $("replay-step").addEventListener("click", step);
  setUpControls();
  $("replay-speed").addEventListener("change", () => { speed = Number($("replay-speed").value); });
  $("replay-time").addEventListener("input", seek);
  connect();
  requestAnimationFrame(frame);
}

setUp();
