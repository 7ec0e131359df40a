// The text conversations pane: offers to accept or decline, conversations to read and answer.
// Built with DOM calls and textContent only (a texter's words are never parsed as HTML), and
// re-rendered without touching a reply being typed.
(function () {
  "use strict";
  var pane = null;
  var timer = null;
  // Every word shown comes from the page (the pane's data-words), in the reader's language.
  var W = null;

  function words() {
    return JSON.parse(pane.getAttribute("data-words") || '{"status": {}}');
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function post(url, body) {
    var headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
    var init = { method: "POST", credentials: "same-origin", headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function say(message) {
    var status = document.getElementById("texts-status");
    if (!status) {
      status = el("p", { id: "texts-status", role: "status", "class": "notice" });
      pane.insertBefore(status, pane.querySelector("#text-offers"));
    }
    status.textContent = message;
  }

  function renderOffers(offers) {
    var box = pane.querySelector("#text-offers");
    var wanted = offers.map(function (o) { return o.offer_id; }).join(",");
    if (box.getAttribute("data-ids") === wanted) { return; }
    box.setAttribute("data-ids", wanted);
    box.textContent = "";
    offers.forEach(function (offer) {
      var card = el("div", { "class": "text-offer" + (offer.risk ? " risk" : ""),
                              "data-offer": offer.offer_id });
      var chat = offer.channel === "chat";
      var key = (chat ? "waiting_chat" : "waiting_text") + (offer.experience ? "_experience" : "");
      var what = fill(W[key], { experience: offer.experience || "", line: offer.line_name }) +
        (offer.language ? " " + fill(W.writing_in, { language: offer.language.name }) : "");
      var said = el("p", {}, what);
      if (chat) { said.insertBefore(el("span", { "class": "channel-chat" }, W.chat), said.firstChild); }
      card.appendChild(said);
      if (offer.risk) { card.appendChild(el("p", { "class": "risk-flag" }, W.flagged)); }
      var accept = el("button", { type: "button", "class": "accept-text" },
                      chat ? W.accept_chat : W.accept_text);
      var decline = el("button", { type: "button", "class": "secondary decline-text" }, W.decline);
      accept.addEventListener("click", function () {
        post("/api/texts/offers/" + offer.offer_id + "/accept").then(function (r) {
          if (!r.ok) { say(r.data.error); }
          refresh();
        });
      });
      decline.addEventListener("click", function () {
        post("/api/texts/offers/" + offer.offer_id + "/decline").then(refresh);
      });
      card.appendChild(accept);
      card.appendChild(decline);
      box.appendChild(card);
    });
  }

  function renderMessages(list, messages, chat) {
    list.textContent = "";
    messages.forEach(function (m) {
      var who = m.direction === "in" ? (chat ? W.chatter : W.texter) : (m.direction === "note" ? W.note :
        (m.by === "peer" ? W.you : W.warmline));
      var item = el("li", { "class": "msg " + m.direction });
      item.appendChild(el("span", { "class": "who" }, who + ": "));
      item.appendChild(el("span", { "class": "body" }, m.body));
      if (m.status) {
        item.appendChild(el("span", { "class": "delivery", "data-status": m.status },
          " (" + (W.status[m.status] || m.status) + ")"));
      }
      list.appendChild(item);
    });
  }

  function thread(conversation) {
    var box = el("article", { "class": "thread", "data-contact": conversation.contact_id,
                              "aria-label": conversation.label });
    var heading = el("h3", {}, conversation.label + " · " + conversation.line_name +
      (conversation.experience ? " · " + conversation.experience : "") +
      (conversation.language ? " · " + conversation.language.name : ""));
    if (conversation.channel === "chat") {
      box.setAttribute("data-channel", "chat");
      heading.insertBefore(el("span", { "class": "channel-chat" }, W.chat), heading.firstChild);
    }
    box.appendChild(heading);
    box.appendChild(el("p", { "class": "risk-flag", hidden: "" }, W.flagged_decide));
    box.appendChild(el("ol", { "class": "messages" }));
    var form = el("form", { "class": "reply" });
    var id = "reply-" + conversation.contact_id;
    form.appendChild(el("label", { "for": id }, W.your_reply));
    var area = el("textarea", { id: id, rows: "3", maxlength: "1700" });
    form.appendChild(area);
    var count = el("p", { "class": "muted count", "aria-live": "polite" });
    form.appendChild(count);
    area.addEventListener("input", function () {
      count.textContent = fill(W.characters, { count: area.value.length });
    });
    form.appendChild(el("button", { type: "submit", "class": "send-text" }, W.send));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      post("/api/texts/" + conversation.contact_id + "/messages", { body: area.value })
        .then(function (r) {
          if (!r.ok) { say(r.data.error); return; }
          area.value = "";
          count.textContent = "";
          refresh();
        });
    });
    box.appendChild(form);
    var close = el("button", { type: "button", "class": "secondary close-text" }, W.close);
    close.addEventListener("click", function () {
      post("/api/texts/" + conversation.contact_id + "/close").then(refresh);
    });
    box.appendChild(close);
    return box;
  }

  function renderThreads(conversations) {
    var box = pane.querySelector("#text-threads");
    var seen = {};
    conversations.forEach(function (c) {
      seen[c.contact_id] = true;
      var node = box.querySelector('[data-contact="' + c.contact_id + '"]');
      if (!node) { node = thread(c); box.appendChild(node); }
      node.querySelector(".risk-flag").hidden = !c.risk;
      renderMessages(node.querySelector(".messages"), c.messages, c.channel === "chat");
    });
    Array.prototype.slice.call(box.querySelectorAll(".thread")).forEach(function (node) {
      if (!seen[node.getAttribute("data-contact")]) { box.removeChild(node); }
    });
  }

  function refresh() {
    if (!pane) { return; }
    fetch(pane.getAttribute("data-conversations-url"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      renderOffers(data.offers);
      renderThreads(data.conversations);
      pane.querySelector("#conversations-empty").hidden =
        data.offers.length + data.conversations.length > 0;
    }).catch(function () { /* the next poll tries again */ });
  }

  function start() {
    var found = document.getElementById("conversations");
    if (!found || found === pane) { return; }
    pane = found;
    W = words();
    if (timer) { window.clearInterval(timer); }
    var seconds = parseInt(pane.getAttribute("data-poll-seconds") || "3", 10);
    refresh();
    timer = window.setInterval(refresh, seconds * 1000);
  }

  // Boosted navigation swaps the page body: pick up the new pane when it appears.
  document.addEventListener("htmx:afterSettle", start);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
