// The console's only script (served from /static: the Content-Security-Policy allows no inline script).
// On the live page it follows /live/events (server-sent events) and puts each new match at the top of the table.
"use strict";

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function safeHref(url) {
  try {
    const u = new URL(url, document.baseURI);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : "#";
  } catch (e) {
    return "#";
  }
}

function matchRow(m) {
  const tr = document.createElement("tr");
  tr.className = "fresh";
  tr.appendChild(cell(new Date(m.at * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC"));
  tr.appendChild(cell(Object.keys(m.topics).join(", ")));
  tr.appendChild(cell(m.language));
  tr.appendChild(cell(m.feed));
  const story = document.createElement("td");
  const a = document.createElement("a");
  a.href = safeHref(m.link);
  a.rel = "noreferrer";
  a.textContent = m.title;
  const snippet = document.createElement("div");
  snippet.className = "snippet";
  snippet.textContent = m.snippet;
  story.appendChild(a);
  story.appendChild(snippet);
  tr.appendChild(story);
  return tr;
}

function followLive(table) {
  const status = document.getElementById("live-status");
  const body = table.querySelector("tbody");
  const source = new EventSource("/live/events?after=" + encodeURIComponent(table.dataset.after || "0"));
  source.addEventListener("open", () => { status.textContent = "live"; });
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; });
  source.addEventListener("match", (ev) => {
    body.insertBefore(matchRow(JSON.parse(ev.data)), body.firstChild);
    while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live) followLive(live);
});
