// The stand-in's phone page: polls one JSON state and acts through the control API.
"use strict";

const POLL_MS = 700;
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const $ = (id) => document.getElementById(id);
let state = null;

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function liveCall(phone, inbound) {
  if (!phone || !phone.calls) return null;
  return phone.calls.find((c) => (inbound ? c.direction === "inbound" : c.direction !== "inbound")) || null;
}

function ended(call) {
  return ["completed", "busy", "failed", "no-answer", "canceled"].includes(call.status);
}

function fillSelect(select, options, keep) {
  const wanted = options.map((o) => o.value + "|" + o.label).join(",");
  if (select.dataset.options === wanted) return;
  select.dataset.options = wanted;
  select.replaceChildren(...options.map((o) => {
    const option = document.createElement("option");
    option.value = o.value;
    option.textContent = o.label;
    return option;
  }));
  if (keep && options.some((o) => o.value === keep)) select.value = keep;
}

function showTranscript(list, call) {
  const items = (call ? call.transcript : []).map((h) => {
    const li = document.createElement("li");
    const what = document.createElement("span");
    what.className = "what";
    what.textContent = h.what;
    li.append(what, " ", h.what === "play" ? "(hold music)" : h.text);
    return li;
  });
  if (list.childElementCount !== items.length) {
    list.replaceChildren(...items);
    list.scrollTop = list.scrollHeight;
  }
}

// The three phones, in the order their names are listed.
const SIDES = ["caller", "peer", "third"];

function numberOf(side) {
  const phone = state && state[side];
  return phone && phone.number ? phone.number : "";
}

// Who a number is, seen from the page: the three phones by their part in the call (neither the
// caller's nor the peer's number is shown to the other), anyone else by their label.
function nameOf(number) {
  if (number === numberOf("caller")) return "the caller";
  if (number === numberOf("peer")) return "the peer";
  const labelled = state.peers.find((p) => p.number === number);
  if (labelled) return labelled.label;
  return number === numberOf("third") ? "the third phone" : number;
}

function rank(number) {
  const side = SIDES.findIndex((s) => numberOf(s) === number);
  return side < 0 ? SIDES.length : side;
}

function names(numbers) {
  const sorted = [...new Set(numbers)].sort((a, b) => rank(a) - rank(b));
  const said = sorted.map(nameOf);
  if (said.length < 2) return said.join("");
  return `${said.slice(0, -1).join(", ")} and ${said[said.length - 1]}`;
}

function describe(call, side) {
  if (!call) return side === "caller" ? "No call yet." : "Not ringing.";
  if (call.status === "ringing") return side === "caller" ? "Ringing..." : `Ringing: a call from ${call.from}.`;
  if (ended(call)) return `Call ended (${call.status}).`;
  // What the stand-in's conference mixes for this phone (hold, mute, coaching), as it is.
  if (call.on_hold) return "On hold: hearing hold music, heard by nobody.";
  if (call.muted) return "Muted: listening only, heard by nobody.";
  if (call.coaching) return `Coaching (heard by ${nameOf(call.coaching)} only).`;
  const both = call.hears.filter((n) => call.heard_by.includes(n));
  if (both.length) {
    const listening = call.heard_by.filter((n) => !both.includes(n));
    return `Talking with ${names(both)}.` + (listening.length ? ` Also heard by ${names(listening)}.` : "");
  }
  return call.listening_for_keys ? "On the call: the line is listening for keys." : "On the call.";
}

function showStatus(side, call) {
  const element = $(`${side}-status`);
  element.textContent = describe(call, side);
  const live = !!call && !ended(call) && call.status !== "ringing";
  element.classList.toggle("ringing", !!call && call.status === "ringing");
  element.classList.toggle("bridged", live && call.hears.length > 0);
  element.classList.toggle("held", live && call.on_hold);
  $(`${side}-mix`).hidden = !live;
  if (live) {
    $(`${side}-hears`).textContent = call.on_hold ? "hold music" : names(call.hears) || "nobody";
    $(`${side}-heard-by`).textContent = names(call.heard_by) || "nobody";
  }
}

function texterNumber() {
  return $("texter-select").value || $("texter-number").value.trim();
}

function render() {
  if (!state) return;
  $("speed").textContent = state.speed === 1 ? "" : `Time runs ${state.speed}x faster here.`;
  fillSelect($("line-select"), state.lines.map((l) => ({ value: l.number, label: l.number })), $("line-select").value);
  fillSelect($("peer-select"), state.peers.map((p) => ({ value: p.number, label: `${p.label} ${p.number}` })),
    $("peer-select").value);
  fillSelect($("texter-select"), [{ value: "", label: "the number below (a texter)" },
    ...state.peers.map((p) => ({ value: p.number, label: `${p.label} ${p.number}` }))], $("texter-select").value);
  fillSelect($("third-select"), [{ value: "", label: "the number below (the crisis line...)" },
    ...state.peers.map((p) => ({ value: p.number, label: `${p.label} ${p.number}` }))], $("third-select").value);
  for (const side of SIDES) {
    const call = callOf(side);
    showStatus(side, call);
    showTranscript($(`${side}-transcript`), call);
  }
  const texts = (state.texter ? state.texter.texts : []).map((t) => {
    const li = document.createElement("li");
    li.className = t.direction;
    li.textContent = (t.direction === "out" ? "You: " : `${t.other}: `) + t.body;
    return li;
  });
  if ($("text-log").childElementCount !== texts.length) $("text-log").replaceChildren(...texts);
}

function thirdNumber() {
  return $("third-select").value || $("third-number").value.trim();
}

async function poll() {
  const query = new URLSearchParams({
    caller: $("caller-number").value.trim(), peer: $("peer-select").value, third: thirdNumber(),
    texter: texterNumber(),
  });
  try {
    state = await api(`/_standin/page/state?${query}`);
    render();
  } catch (error) {
    console.warn(error);
  }
}

async function act(action) {
  try {
    await action();
  } catch (error) {
    console.warn(error);
  }
  await poll();
}

function callOf(side) {
  // The caller dials in; the peer and the third phone are rung by the line.
  return liveCall(state && state[side], side === "caller");
}

function setUp() {
  for (const pad of document.querySelectorAll(".keypad")) {
    for (const key of KEYS) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = key;
      button.setAttribute("aria-label", `${pad.dataset.side} presses ${key}`);
      button.addEventListener("click", () => act(async () => {
        const call = callOf(pad.dataset.side);
        if (call && !ended(call)) await api(`/_standin/calls/${call.sid}/press`, { digits: key });
      }));
      pad.append(button);
    }
  }
  $("caller-dial").addEventListener("click", () => act(async () => {
    const number = encodeURIComponent($("caller-number").value.trim());
    await api(`/_standin/phones/${number}/dial`, { to: $("line-select").value });
  }));
  $("caller-hangup").addEventListener("click", () => act(async () => {
    const call = callOf("caller");
    if (call && !ended(call)) await api(`/_standin/calls/${call.sid}/hangup`, {});
  }));
  for (const side of ["peer", "third"]) {
    for (const action of ["answer", "decline", "hangup"]) {
      $(`${side}-${action}`).addEventListener("click", () => act(async () => {
        const call = callOf(side);
        if (call && !ended(call)) await api(`/_standin/calls/${call.sid}/${action}`, {});
      }));
    }
  }
  $("text-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      const body = $("text-body").value;
      if (!body.trim() || !state || !state.lines.length) return;
      await api(`/_standin/phones/${encodeURIComponent(texterNumber())}/texts`, { to: $("line-select").value, body });
      $("text-body").value = "";
    });
  });
  for (const id of ["peer-select", "third-select", "texter-select"]) $(id).addEventListener("change", poll);
  poll();
  setInterval(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", setUp);
