// The pages' only script, served by the app (no CDN). Two jobs:
// 1. Times in the viewer's zone: with no zone chosen in /ui/settings the server writes UTC
//    and this rewrites every <time datetime> in the browser's own zone (the UTC instant
//    stays in the title, on hover).
// 2. The at-risk list refreshes by itself: its rows are fetched again every few seconds,
//    and the time left ("in 12 min", "breached 3 min ago") counts on between fetches,
//    measured on the server's clock (the page says what its "now" was), not the PC's.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function zoneName(date, zone) {
    const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" })
      .formatToParts(date).find(p => p.type === "timeZoneName");
    return part ? part.value : zone;
  }

  function localText(date, zone) {
    const parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(date).forEach(p => { parts[p.type] = p.value; });
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zoneName(date, zone)}`;
  }

  function browserZone() { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; }

  function formatTimes(root) {
    const chosen = document.body.dataset.tz;
    const zone = chosen || browserZone();
    document.body.dataset.effectiveTz = zone;
    const label = document.getElementById("viewer-tz");
    if (label) label.textContent = chosen ? zone : `${zone} (browser)`;
    if (chosen) return;  // the server already wrote them in the chosen zone
    (root || document).querySelectorAll("time[datetime]").forEach(el => {
      el.textContent = localText(new Date(el.getAttribute("datetime")), zone);
      el.dataset.zone = zone;
    });
  }

  // Same wording as api/at_risk.py `span`: two units at most, rounded down.
  function span(ms) {
    let minutes = Math.max(Math.floor(ms / 60000), 0);
    if (minutes < 60) return `${minutes} min`;
    let hours = Math.floor(minutes / 60); minutes %= 60;
    if (hours < 24) return `${hours} h ${pad(minutes)} min`;
    const days = Math.floor(hours / 24); hours %= 24;
    return `${days} d ${hours} h`;
  }

  function atRisk() {
    const table = document.getElementById("at-risk");
    if (!table) return;
    let offset = 0;  // server clock minus this PC's clock
    const seconds = Math.max(Number(table.dataset.refreshSeconds || 30), 2);

    function sync(body) { offset = Date.parse(body.dataset.now) - Date.now(); }

    function tick() {
      const now = Date.now() + offset;
      table.querySelectorAll("[data-breach-at]").forEach(el => {
        const breachedAt = el.dataset.breachedAt ? Date.parse(el.dataset.breachedAt) : null;
        const at = Date.parse(el.dataset.breachAt);
        if (breachedAt !== null) el.textContent = `breached ${span(now - breachedAt)} ago`;
        else if (at > now) el.textContent = `in ${span(at - now)}`;
        else el.textContent = `breached ${span(now - at)} ago`;
        el.closest("tr").classList.toggle("breached", breachedAt !== null || at <= now);
      });
    }

    async function refresh() {
      try {
        const response = await fetch(table.dataset.src, { credentials: "same-origin" });
        if (!response.ok) throw new Error(String(response.status));
        const doc = new DOMParser().parseFromString(`<table>${await response.text()}</table>`, "text/html");
        const body = doc.querySelector("tbody");
        if (!body) throw new Error("no rows");
        const old = table.querySelector("tbody");
        old.replaceWith(body);
        sync(body);
        formatTimes(body);
        tick();
        table.dataset.refreshes = String(Number(table.dataset.refreshes || 0) + 1);
        table.dataset.refreshedAt = new Date(Date.now() + offset).toISOString();
        document.getElementById("refresh-status").textContent = "";
      } catch (err) {
        document.getElementById("refresh-status").textContent = `Could not refresh (${err.message}); retrying.`;
      }
    }

    sync(table.querySelector("tbody"));
    tick();
    setInterval(tick, 5000);
    setInterval(refresh, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    formatTimes(document);
    const zoneField = document.getElementById("browser-zone");
    if (zoneField) zoneField.textContent = browserZone();
    atRisk();
  });
})();
