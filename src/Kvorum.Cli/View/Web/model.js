// The cluster as the members' events describe it: each member's latest state, the messages in flight, and the
// leaders seen, term by term. Pure: apply() takes one relayed line (see MemberFeed.cs) and the time it happened at.

export const FLIGHT_MS = 600;

const ROLES = {
  ROLE_FOLLOWER: "follower",
  ROLE_PRE_CANDIDATE: "precandidate",
  ROLE_CANDIDATE: "candidate",
  ROLE_LEADER: "leader",
};

// Short names of message kinds, and the class a flight is drawn with.
export function kindName(kind) {
  return String(kind).replace("MESSAGE_KIND_", "").toLowerCase();
}

export function flightClass(message) {
  const kind = kindName(message.kind);
  if (message.reject) return "reject";
  if (kind === "heartbeat") return "heartbeat";
  if (kind === "append") return message.entries > 0 ? "append" : "heartbeat";
  if (kind === "vote" || kind === "pre_vote") return "vote";
  if (kind.endsWith("_response")) return "reply";
  return "other";
}

export function eventTime(line) {
  const micros = line.event ? line.event.unixMicros : line.unixMicros;
  return Number(micros) / 1000;
}

export function shortId(id) {
  if (!id || id === "0") return "—";
  return BigInt(id).toString(16);
}

export class ClusterModel {
  constructor(endpoints) {
    this.endpoints = endpoints || [];
    this.members = new Map();   // id → { id, endpoint, state, stateAt, down }
    this.byEndpoint = new Map(); // endpoint → id
    this.flights = [];           // { from, to, message, at, arrivedAt }
    this.leaders = [];           // { term, leader, at }, by term
    this.dropped = 0;
    this.lab = null;             // the lab's fault state: { nodes: [{ number, name, endpoint, process }], faults, blocked }
    this.scenario = null;        // the scenario started from the page: { name, lines, running, exit }
  }

  apply(line) {
    const at = eventTime(line);
    if (line.lab) {
      this.lab = line.lab;
      return;
    }
    if (line.members) {
      this.follow(line.members);
      return;
    }
    if (line.scenario) {
      this.narrate(line.scenario);
      return;
    }
    if (line.down) {
      const id = this.byEndpoint.get(line.endpoint);
      const member = id && this.members.get(id);
      if (member) member.down = true;
      return;
    }
    const e = line.event;
    const id = e.member;
    let member = this.members.get(id);
    if (!member) {
      member = { id, endpoint: line.endpoint, state: null, stateAt: at, down: false };
      this.members.set(id, member);
    }
    this.byEndpoint.set(line.endpoint, id);
    member.down = false;
    if (e.state) {
      member.state = { ...e.state, role: ROLES[e.state.role] || "follower" };
      member.stateAt = at;
      this.noteLeader(e.state, at);
    } else if (e.sent) {
      this.flights.push({ from: e.sent.from, to: e.sent.to, message: e.sent, at, arrivedAt: null });
    } else if (e.received) {
      const r = e.received;
      const flight = this.flights.find(f => f.arrivedAt === null && f.from === r.from && f.to === r.to
        && f.message.kind === r.kind && f.message.term === r.term && f.message.index === r.index);
      if (flight) flight.arrivedAt = at;
    } else if (e.dropped) {
      this.dropped += Number(e.dropped.slow) + Number(e.dropped.sampled);
    }
  }

  // The view now follows other members (a scenario's own lab, or back to the lab's): a fresh picture of them.
  follow(endpoints) {
    this.endpoints = endpoints;
    this.members.clear();
    this.byEndpoint.clear();
    this.flights = [];
    this.leaders = [];
  }

  // A scenario's start (no text, running), one of its lines, or its end (not running, with its exit code).
  narrate(line) {
    if (line.running && line.text === null) {
      this.scenario = { name: line.name, lines: [], running: true, exit: null };
      return;
    }
    if (!this.scenario || this.scenario.name !== line.name) this.scenario = { name: line.name, lines: [], running: true, exit: null };
    if (line.text !== null) this.scenario.lines.push(line.text);
    if (!line.running) {
      this.scenario.running = false;
      this.scenario.exit = line.exit;
    }
  }

  noteLeader(state, at) {
    if (state.leader === "0") return;
    const term = Number(state.term);
    const last = this.leaders[this.leaders.length - 1];
    if (last && last.term >= term) return;
    this.leaders.push({ term, leader: state.leader, at });
  }

  // Forgets flights that have landed (or were lost) before `now`.
  prune(now) {
    this.flights = this.flights.filter(f => now - f.at < FLIGHT_MS * 2);
    if (this.flights.length > 400) this.flights = this.flights.slice(-400);
  }

  // Members in the order the page was given their endpoints, then any other.
  ordered() {
    const list = [...this.members.values()];
    const rank = m => {
      const i = this.endpoints.indexOf(m.endpoint);
      return i < 0 ? this.endpoints.length : i;
    };
    return list.sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : 1));
  }
}

// The term of log entry `index` in a member state's tail, or 0 when outside it.
export function termAt(state, index) {
  const runs = state.logTail || [];
  if (index > Number(state.lastIndex)) return 0;
  let term = 0;
  for (const run of runs) {
    if (Number(run.firstIndex) > index) break;
    term = Number(run.term);
  }
  return term;
}

// The lab's node for a member (matched by endpoint), or undefined outside a lab.
export function labNode(model, member) {
  return model.lab ? model.lab.nodes.find(n => n.endpoint === member.endpoint) : undefined;
}
