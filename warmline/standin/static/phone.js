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

function describe(call, who) {
  if (!call) return who === "peer" ? "Not ringing." : "No call yet.";
  // Neither side ever sees the other's number: the caller sees the line, the peer sees the line.
  if (call.bridged_with.length) return who === "peer" ? "Talking with the caller." : "Talking with a peer.";
  if (call.status === "ringing") return who === "peer" ? `Ringing: a call from ${call.from}.` : "Ringing...";
  if (ended(call)) return `Call ended (${call.status}).`;
  return call.listening_for_keys ? "On the call: the line is listening for keys." : "On the call.";
}

function showStatus(element, call, who) {
  element.textContent = describe(call, who);
  element.classList.toggle("ringing", !!call && call.status === "ringing");
  element.classList.toggle("bridged", !!call && call.bridged_with.length > 0);
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
  const callerCall = liveCall(state.caller, true);
  showStatus($("caller-status"), callerCall, "caller");
  showTranscript($("caller-transcript"), callerCall);
  const peerCall = liveCall(state.peer, false);
  showStatus($("peer-status"), peerCall, "peer");
  showTranscript($("peer-transcript"), peerCall);
  const texts = (state.texter ? state.texter.texts : []).map((t) => {
    const li = document.createElement("li");
    li.className = t.direction;
    li.textContent = (t.direction === "out" ? "You: " : `${t.other}: `) + t.body;
    return li;
  });
  if ($("text-log").childElementCount !== texts.length) $("text-log").replaceChildren(...texts);
}

async function poll() {
  const query = new URLSearchParams({
    caller: $("caller-number").value.trim(), peer: $("peer-select").value, texter: texterNumber(),
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
  return side === "caller" ? liveCall(state && state.caller, true) : liveCall(state && state.peer, false);
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
  for (const [id, action] of [["peer-answer", "answer"], ["peer-decline", "decline"], ["peer-hangup", "hangup"]]) {
    $(id).addEventListener("click", () => act(async () => {
      const call = callOf("peer");
      if (call && !ended(call)) await api(`/_standin/calls/${call.sid}/${action}`, {});
    }));
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
  for (const id of ["peer-select", "texter-select"]) $(id).addEventListener("change", poll);
  poll();
  setInterval(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", setUp);
