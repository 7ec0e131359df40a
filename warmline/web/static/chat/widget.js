/* Warmline web chat: embedded with one tag on an organisation's page,
 *   <script src="https://warmline.example.org/chat/widget.js" data-line="+12125550100" defer></script>
 * No cookies, no third-party requests, no inline script or style (a strict CSP only needs the
 * app's origin in script-src, style-src and connect-src). The conversation's token lives in this
 * tab's sessionStorage; "End and delete" erases the chat on the server and here.
 * Every word it shows or announces comes from the line's description, in one of the line's
 * languages: the one chosen in its switch, else the page's (<html lang>), else the browser's. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) { return; }
  var base = new URL(script.src, document.baseURI).origin;
  var line = (script.getAttribute("data-line") || "").replace(/\D/g, "");
  var api = base + "/chat/lines/" + line;
  var storeKey = "warmline-chat-" + line;
  var WAIT_SECONDS = 25;
  var RETRY_MS = [1000, 2000, 4000, 8000];

  var saved = load();
  var state = saved || { token: "", after: 0, state: "", pending: [] };
  // Until the line's own words arrive: none of our own (a status with nothing to say is empty).
  var W = {};
  var language = state.language || document.documentElement.lang || "";
  var retries = 0;
  var polling = false;
  var stopped = false;
  var sending = false;
  var reconnecting = false;

  function load() {
    try { return JSON.parse(window.sessionStorage.getItem(storeKey) || "null"); }
    catch (e) { return null; }
  }

  function save() {
    try { window.sessionStorage.setItem(storeKey, JSON.stringify(state)); }
    catch (e) { /* private mode: the chat still works in this page */ }
  }

  function forget() {
    try { window.sessionStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function call(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (state.token) { headers.Authorization = "Bearer " + state.token; }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(api + path, {
      method: method, headers: headers, credentials: "omit", cache: "no-store",
      referrerPolicy: "no-referrer", body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { ok: r.ok, status: r.status, data: data };
      });
    });
  }

  // ------------------------------------------------------------------ the page's parts

  var link = el("link", { rel: "stylesheet", href: base + "/chat/widget.css" });
  document.head.appendChild(link);

  var root = el("section", { "class": "wl-chat", "aria-labelledby": "wl-chat-title" });
  var title = el("h2", { id: "wl-chat-title", "class": "wl-title" });
  var switcher = el("p", { "class": "wl-language", hidden: "" });
  var switchLabel = el("label", { "for": "wl-chat-language" });
  var switchSelect = el("select", { id: "wl-chat-language" });
  switcher.appendChild(switchLabel);
  switcher.appendChild(switchSelect);
  var first = el("p", { "class": "wl-first-words" });
  var choices = el("div", { "class": "wl-choices", role: "group",
                            "aria-labelledby": "wl-choices-label", hidden: "" });
  var choicesLabel = el("p", { id: "wl-choices-label" });
  choices.appendChild(choicesLabel);
  // "Text me instead": with consent, the line texts the chatter from its own number.
  var textMe = el("details", { "class": "wl-text-me", hidden: "" });
  var textMeSummary = el("summary");
  var textMeForm = el("form", { "class": "wl-text-me-form" });
  var numberLabel = el("label", { "for": "wl-text-me-number" });
  var numberInput = el("input", { id: "wl-text-me-number", type: "tel", autocomplete: "tel" });
  var consentBox = el("input", { id: "wl-text-me-consent", type: "checkbox" });
  var consentLabel = el("label", { "for": "wl-text-me-consent" });
  var textMeButton = el("button", { type: "submit", "class": "wl-text-me-send" });
  [numberLabel, numberInput, consentBox, consentLabel, textMeButton].forEach(function (n) {
    textMeForm.appendChild(n);
  });
  textMe.appendChild(textMeSummary);
  textMe.appendChild(textMeForm);
  var status = el("p", { "class": "wl-status", role: "status", "aria-live": "polite" });
  var talk = el("div", { "class": "wl-talk", hidden: "" });
  var log = el("div", { "class": "wl-messages", role: "log", "aria-live": "polite", tabindex: "0" });
  var form = el("form", { "class": "wl-form" });
  var label = el("label", { "for": "wl-chat-input" });
  var input = el("textarea", { id: "wl-chat-input", rows: "3", maxlength: "2000" });
  var send = el("button", { type: "submit", "class": "wl-send" });
  var end = el("button", { type: "button", "class": "wl-end" });
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  talk.appendChild(log);
  talk.appendChild(form);
  talk.appendChild(end);
  [title, switcher, first, choices, textMe, talk, status].forEach(function (n) {
    root.appendChild(n);
  });
  var target = document.getElementById(script.getAttribute("data-target") || "");
  if (target) { target.appendChild(root); }
  else { script.parentNode.insertBefore(root, script.nextSibling); }

  function say(text) { status.textContent = text || ""; }

  // With the crisis numbers, wherever a chat is over or out of reach.
  function sayWithNumbers(text) { say((text || "") + " " + (W.crisis || "")); }

  // ------------------------------------------------------------------ the line's words

  function describe(info) {
    W = info.words || {};
    language = info.language || language;
    root.setAttribute("lang", language);
    title.textContent = W.title || info.name;
    first.textContent = info.first_words;
    choicesLabel.textContent = W.choose || "";
    log.setAttribute("aria-label", W.messages || "");
    label.textContent = W.your_message || "";
    send.textContent = W.send || "";
    end.textContent = W.end || "";
    switchLabel.textContent = W.language || "";
    textMeSummary.textContent = W.text_me || "";
    numberLabel.textContent = W.text_me_number || "";
    consentLabel.textContent = W.text_me_consent || "";
    textMeButton.textContent = W.text_me_send || "";
    textMe.hidden = !!state.token;
    switchSelect.textContent = "";
    (info.languages || []).forEach(function (choice) {
      var option = el("option", { value: choice.code, lang: choice.code }, choice.name);
      if (choice.code === language) { option.selected = true; }
      switchSelect.appendChild(option);
    });
    // A switch only where the line offers more than one language, and only before a chat starts.
    switcher.hidden = (info.languages || []).length < 2 || !!state.token;
  }

  switchSelect.addEventListener("change", function () {
    language = switchSelect.value;
    state.language = language;
    save();
    call("GET", "?lang=" + encodeURIComponent(language)).then(function (r) {
      if (r.ok) { describe(r.data); showChoices(r.data); }
    });
  });

  textMeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    textMeButton.disabled = true;
    call("POST", "/text-me", { number: numberInput.value, consent: consentBox.checked,
                               language: language }).then(function (r) {
      textMeButton.disabled = false;
      say(r.ok ? r.data.said : r.data.error);
      if (r.ok) { numberInput.value = ""; consentBox.checked = false; }
    }, function () {
      textMeButton.disabled = false;
      say(W.unreachable);
    });
  });

  // ------------------------------------------------------------------ choosing

  function showChoices(info) {
    Array.prototype.slice.call(choices.querySelectorAll("button")).forEach(function (b) {
      choices.removeChild(b);
    });
    say("");
    if (!info.open) { sayWithNumbers(W.closed_now); }
    var buttons = info.experiences.map(function (e) {
      return { key: e.key, label: e.label };
    });
    buttons.push({ key: "", label: info.anyone });
    buttons.forEach(function (b) {
      var button = el("button", { type: "button", "class": "wl-choice",
                                  "data-experience": b.key }, b.label);
      button.addEventListener("click", function () { start(b.key); });
      choices.appendChild(button);
    });
    choices.hidden = false;
  }

  function start(experience) {
    Array.prototype.forEach.call(choices.querySelectorAll("button"), function (b) {
      b.disabled = true;
    });
    say(W.starting);
    call("POST", "/conversations", { experience: experience || null, language: language })
      .then(function (r) {
      if (!r.ok) {
        say(r.data.error || W.not_started);
        Array.prototype.forEach.call(choices.querySelectorAll("button"), function (b) {
          b.disabled = false;
        });
        return;
      }
      state = { token: r.data.token, after: 0, state: r.data.state, pending: [], language: language };
      save();
      switcher.hidden = true;
      textMe.hidden = true;
      openTalk();
    }, function () {
      say(W.unreachable);
      Array.prototype.forEach.call(choices.querySelectorAll("button"), function (b) {
        b.disabled = false;
      });
    });
  }

  // ------------------------------------------------------------------ the conversation

  function who(from) {
    return from === "you" ? W.you : (from === "peer" ? W.peer : "Warmline");
  }

  function add(message) {
    if (message.id <= state.after) { return; }
    var item = el("p", { "class": "wl-msg wl-from-" + message.from, "data-id": String(message.id) });
    item.appendChild(el("span", { "class": "wl-who" }, who(message.from) + ": "));
    item.appendChild(el("span", { "class": "wl-body" }, message.body));
    log.appendChild(item);
    state.after = message.id;
    log.scrollTop = log.scrollHeight;
  }

  function showState(next, force) {
    if (next === state.state && !force) { return; }
    state.state = next;
    if (next === "waiting") { say(W.waiting); }
    if (next === "connected") { say(W.connected); }
    if (next === "closed") {
      say(W.closed);
      input.disabled = true;
      send.disabled = true;
    }
  }

  function openTalk() {
    choices.hidden = true;
    talk.hidden = false;
    showState(state.state, true);
    input.focus();
    flush();
    poll();
  }

  function poll() {
    if (polling || stopped || !state.token) { return; }
    polling = true;
    var query = "?after=" + state.after + "&wait=" + WAIT_SECONDS + "&state=" +
      encodeURIComponent(state.state || "");
    call("GET", "/messages" + query).then(function (r) {
      polling = false;
      if (r.status === 404 || (r.ok && r.data.state === "ended")) { ended(); return; }
      if (!r.ok) { retry(); return; }
      retries = 0;
      var later = (r.data.retry_after || 0) * 1000;
      var back = reconnecting;
      reconnecting = false;
      r.data.messages.forEach(add);
      showState(r.data.state, back);
      save();
      if (state.state === "closed") { later = Math.max(later, 5000); }
      if (later) { window.setTimeout(poll, later); return; }
      poll();
    }, function () {
      polling = false;
      retry();
    });
  }

  function retry() {
    reconnecting = true;
    say(W.reconnecting);
    var delay = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
    retries += 1;
    window.setTimeout(function () {
      poll();
      flush();
    }, delay);
  }

  // Messages go out in order, each with its own id: one resent after a dropped connection is
  // kept once by the server.
  function flush() {
    if (sending || !state.pending.length || !state.token) { return; }
    sending = true;
    var next = state.pending[0];
    call("POST", "/messages", { id: next.id, body: next.body, language: language }).then(function (r) {
      sending = false;
      if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 429)) {
        state.pending.shift();
        save();
        if (!r.ok) { say(r.data.error || W.not_sent); }
        flush();
        return;
      }
      window.setTimeout(flush, 2000);
    }, function () {
      sending = false;
      window.setTimeout(flush, 2000);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) { say(W.write_first); return; }
    state.pending.push({ id: newId(), body: body });
    save();
    input.value = "";
    flush();
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter starts a new line (as in most chats).
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : send.click();
    }
  });

  end.addEventListener("click", function () {
    end.disabled = true;
    call("POST", "/end").then(finish, finish);
  });

  function finish() {
    stopped = true;
    forget();
    state = { token: "", after: 0, state: "", pending: [] };
    log.textContent = "";
    talk.hidden = true;
    sayWithNumbers(W.deleted);
  }

  function ended() {
    stopped = true;
    forget();
    input.disabled = true;
    send.disabled = true;
    sayWithNumbers(W.ended);
  }

  // ------------------------------------------------------------------ start

  call("GET", language ? "?lang=" + encodeURIComponent(language) : "").then(function (r) {
    if (!r.ok) { say(r.data.error); return; }
    describe(r.data);
    // A reload starts with an empty log: fetch the conversation from its first message.
    if (state.token) { state.after = 0; openTalk(); } else { showChoices(r.data); }
  }, function () {
    // Nothing came from the line, so there are no words of its own to say this in; the numbers
    // are the same in every language the widget can be in.
    say("988 · 911");
  });
}());
