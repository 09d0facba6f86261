// The lab's controls (shown only when the view was started for a lab or a cluster): each button posts one action
// to api/control with the token from the event stream's hello, and shows what the command would have printed.
import { enableScenarios } from "./scenarios.js";

const $ = id => document.getElementById(id);

let token = "";
let known = "";   // the node list the selects were filled from

export function enableControls(controls) {
  token = controls.token;
  $("controls").hidden = false;
  for (const button of $("controls").querySelectorAll("button[data-action]")) {
    button.hidden = !controls.actions.includes(button.dataset.action);
  }
  // A row whose every button is hidden (cluster up offers no network faults) goes too.
  for (const row of $("controls").querySelectorAll(".buttons")) {
    const buttons = [...row.querySelectorAll("button[data-action]")];
    if (buttons.length && buttons.every(b => b.hidden)) row.hidden = true;
  }
  $("controls-title").textContent = controls.title || "Lab";
  enableScenarios(controls.scenarios, act);
}

// Keeps the member selects and the list of faults in step with the lab's latest picture.
export function showLab(lab) {
  if (!lab) return;
  const names = lab.nodes.map(n => `${n.number}:${n.name}`).join(",");
  if (names !== known) {
    known = names;
    for (const id of ["control-node", "control-from", "control-to"]) {
      const select = $(id);
      const chosen = select.value;
      select.replaceChildren(...lab.nodes.map(n => new Option(n.name, String(n.number))));
      if (chosen) select.value = chosen;
    }
    if (lab.nodes.length > 1) $("control-to").value = String(lab.nodes[1].number);
    const via = $("client-via");
    via.replaceChildren(new Option("any member", ""), ...lab.nodes.map(n => new Option(n.name, n.endpoint)));
  }
  $("faults").textContent = lab.faults.length ? `in force: ${lab.faults.join("; ")}` : "";
}

function groups(text) {
  return text.split("/").map(g => g.split(/[ ,]+/).filter(s => s).map(Number));
}

async function act(action, extra = {}) {
  const body = {
    ...extra,
    action,
    node: Number($("control-node").value),
    groups: groups($("control-groups").value),
    from: Number($("control-from").value),
    to: Number($("control-to").value),
    oneWay: $("control-one-way").checked,
  };
  const out = $("control-result");
  out.classList.remove("error");
  out.textContent = `${action}…`;
  try {
    const response = await fetch("api/control", {
      method: "POST",
      headers: { "content-type": "application/json", "x-kvorum-token": token },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok || answer.error) {
      out.classList.add("error");
      out.textContent = answer.error || `HTTP ${response.status}`;
    } else {
      out.textContent = answer.done;
    }
  } catch (e) {
    out.classList.add("error");
    out.textContent = String(e);
  }
}

export function setUpControls() {
  for (const button of $("controls").querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
}
