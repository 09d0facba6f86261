// The narrated scenarios (lab only): a button starts the chosen one through api/control, Stop ends it, and the
// panel beside the picture shows its narration, theory and predictions as it prints them, held ones green and
// failed ones red.
const $ = id => document.getElementById(id);

let shown = null;   // the scenario object last drawn, and how many of its lines
let shownLines = -1;

export function enableScenarios(scenarios, act) {
  if (!scenarios || !scenarios.length) return;
  $("scenarios").hidden = false;
  $("scenario-name").replaceChildren(...scenarios.map(s => {
    const option = new Option(s.name, s.name);
    option.title = s.summary;
    return option;
  }));
  $("scenario-run").onclick = () => act("scenario", { scenario: $("scenario-name").value });
  $("scenario-stop").onclick = () => act("stop-scenario", {});
}

// The kind of a scenario line, for its colour: a checked prediction, theory, the verdict, or narration.
export function lineKind(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("HELD")) return "held";
  if (trimmed.startsWith("FAILED") || trimmed.startsWith("did not hold")) return "failed";
  if (trimmed.startsWith("theory:")) return "theory";
  if (trimmed.startsWith("===")) return "verdict";
  return "narration";
}

export function showScenario(scenario) {
  if (!scenario) {
    if (shown !== null) $("narration").hidden = true;
    shown = null;
    return;
  }
  const state = scenario.running ? "running" : scenario.exit === 0 ? "passed" : "failed";
  if (scenario === shown && scenario.lines.length === shownLines && $("narration").dataset.state === state) return;
  if (scenario !== shown) $("narration-lines").replaceChildren();
  const list = $("narration-lines");
  for (let i = list.children.length; i < scenario.lines.length; i++) {
    const item = document.createElement("li");
    item.dataset.kind = lineKind(scenario.lines[i]);
    item.textContent = scenario.lines[i];
    list.append(item);
  }
  shown = scenario;
  shownLines = scenario.lines.length;
  $("narration").hidden = false;
  $("narration").dataset.state = state;
  $("narration-title").textContent = `${scenario.name}: ${scenario.running ? "running" : scenario.exit === 0 ? "every prediction held" : `ended (exit ${scenario.exit})`}`;
  if (scenario.running) list.scrollTop = list.scrollHeight;
}
