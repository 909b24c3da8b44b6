(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var CUR = D.currency || "USD";
  function money(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    try {
      return new Intl.NumberFormat("en-US", { style: "currency", currency: CUR,
        maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 }).format(v);
    } catch (err) { return v.toFixed(digits || 0) + " " + CUR; }
  }
  function compact(v) {
    if (v === null || !isFinite(v)) return "–";
    var a = Math.abs(v), s = "";
    if (a >= 1e6) { v = v / 1e6; s = "M"; } else if (a >= 1e3) { v = v / 1e3; s = "k"; }
    return (Math.abs(v) < 100 && s ? v.toFixed(1) : Math.round(v).toLocaleString("en-US")) + s;
  }
  function pct(v, d) { return (v === null || !isFinite(v)) ? "–" : (v * 100).toFixed(d === undefined ? 1 : d) + "%"; }
  function fmtKpi(kpi, v, short) {
    var kind = D.kpiKinds[kpi];
    if (kind === "money") return short ? (CUR === "USD" ? "$" : "") + compact(v) : money(v, 0);
    if (kind === "money2") return money(v, 2);
    if (kind === "pct") return pct(v, 2);
    if (kind === "ratio") return (v === null || !isFinite(v)) ? "–" : v.toFixed(2) + "×";
    return short ? compact(v) : (v === null || !isFinite(v) ? "–" : Math.round(v).toLocaleString("en-US"));
  }
  function div(a, b) { return (b === 0 || b === null || b === undefined) ? null : a / b; }
  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    for (var k in attrs || {}) n.setAttribute(k, attrs[k]);
    if (text !== undefined) n.textContent = text;
    return n;
  }
  var SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs, text) {
    var n = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) n.setAttribute(k, attrs[k]);
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function uniq(arr) { var seen = {}, out = []; arr.forEach(function (x) { if (!seen[x]) { seen[x] = 1; out.push(x); } }); return out; }
  function fillSelect(sel, values, labels, chosen) {
    sel.innerHTML = "";
    values.forEach(function (v, i) { var o = el("option", { value: v }, labels[i]); if (v === chosen) o.selected = true; sel.appendChild(o); });
  }

  // Deep links: index.html?channel=Email&funnel=b2b&month=2026-02&mode=open preselects the filters.
  var Q = {};
  (location.search || "").replace(/^\?/, "").split("&").forEach(function (kv) {
    if (!kv) return;
    var i = kv.indexOf("="), k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? "" : kv.slice(i + 1);
    try { Q[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, " ")); } catch (err) { /* ignore bad escapes */ }
  });
  function pickOr(value, allowed, fallback) { return allowed.indexOf(value) >= 0 ? value : fallback; }

  // ---------------------------------------------------------------- funnel
  function initFunnel() {
    var F = D.funnel;
    if (!F || !F.rows || !F.rows.length) return;
    var rows = F.rows.map(function (r) { return { month: r[0], funnel: r[1], order: r[2], stage: r[3], channel: r[4], closed: r[5] || 0, open: r[6] || 0 }; });
    // The funnel with the most sessions at its last stage first (the one that makes the money).
    var lastStage = {};
    rows.forEach(function (r) {
      var cur = lastStage[r.funnel];
      if (!cur || r.order > cur.order) lastStage[r.funnel] = cur = { order: r.order, n: 0 };
      if (r.order === cur.order) cur.n += r.closed;
    });
    var funnels = uniq(rows.map(function (r) { return r.funnel; }));
    funnels.sort(function (a, b) { return lastStage[b].n - lastStage[a].n || (a < b ? -1 : 1); });
    var months = uniq(rows.map(function (r) { return r.month; })).sort();
    var channels = uniq(rows.map(function (r) { return r.channel; })).sort();
    var state = {
      funnel: pickOr(Q.funnel, funnels, funnels[0]),
      channel: pickOr(Q.channel, channels, ""),
      month: pickOr(Q.month, months.concat([""]), months.indexOf(D.month) >= 0 ? D.month : ""),
      mode: pickOr(Q.mode, ["closed", "open"], "closed")
    };
    var pick = document.getElementById("funnel-pick");
    funnels.forEach(function (f, i) {
      var b = el("button", { type: "button", "data-funnel": f }, f);
      if (f === state.funnel) b.className = "on";
      b.addEventListener("click", function () { state.funnel = f; setOn(pick, b); draw(); });
      pick.appendChild(b);
    });
    var chSel = document.getElementById("funnel-channel");
    fillSelect(chSel, [""].concat(channels), ["All channels"].concat(channels), state.channel);
    chSel.addEventListener("change", function () { state.channel = chSel.value; draw(); });
    var moSel = document.getElementById("funnel-month");
    fillSelect(moSel, [""].concat(months), ["All months"].concat(months), state.month);
    moSel.addEventListener("change", function () { state.month = moSel.value; draw(); });
    var mode = document.getElementById("funnel-mode");
    setOn(mode, mode.querySelector('[data-mode="' + state.mode + '"]'));
    Array.prototype.forEach.call(mode.querySelectorAll("button"), function (b) {
      b.addEventListener("click", function () { state.mode = b.getAttribute("data-mode"); setOn(mode, b); draw(); });
    });
    function setOn(group, btn) { Array.prototype.forEach.call(group.querySelectorAll("button"), function (x) { x.className = x === btn ? "on" : ""; }); }
    function draw() {
      var stages = {}, order = [];
      rows.forEach(function (r) {
        if (r.funnel !== state.funnel) return;
        if (state.channel && r.channel !== state.channel) return;
        if (state.month && r.month !== state.month) return;
        if (!(r.order in stages)) { stages[r.order] = { stage: r.stage, n: 0 }; order.push(r.order); }
        stages[r.order].n += r[state.mode];
      });
      order.sort(function (a, b) { return a - b; });
      var box = document.getElementById("funnel-chart");
      box.innerHTML = "";
      if (!order.length) { box.appendChild(el("p", { "class": "muted" }, "No sessions for this selection.")); return; }
      var first = stages[order[0]].n || 0, prev = null;
      order.forEach(function (o, i) {
        var st = stages[o], share = first ? st.n / first : 0;
        var row = el("div", { "class": "f-row", "data-stage": st.stage, "data-sessions": String(st.n) });
        row.appendChild(el("div", { "class": "f-name" }, st.stage.replace(/_/g, " ")));
        var track = el("div", { "class": "f-track" });
        var bar = el("div", { "class": "f-bar" }); bar.style.width = (share * 100).toFixed(2) + "%";
        track.appendChild(bar);
        track.appendChild(el("span", { "class": "f-count" + (share < 0.12 ? " outside" : "") }, Math.round(st.n).toLocaleString("en-US")));
        if (share < 0.12) track.lastChild.style.left = "calc(" + (share * 100).toFixed(2) + "% + 8px)";
        row.appendChild(track);
        var stats = el("div", { "class": "f-stats" });
        if (i === 0) { stats.textContent = "100% of sessions entering"; }
        else {
          var step = div(st.n, prev);
          stats.appendChild(el("span", {}, pct(step) + " of previous stage · "));
          stats.appendChild(el("span", { "class": "f-drop" }, "drop-off " + pct(step === null ? null : 1 - step)));
          stats.appendChild(el("div", { "class": "muted" }, pct(share, 2) + " of sessions entering"));
        }
        row.appendChild(stats);
        box.appendChild(row);
        prev = st.n;
      });
      var last = stages[order[order.length - 1]].n;
      document.getElementById("funnel-note").textContent = "End-to-end conversion " + pct(div(last, first), 2) +
        " (" + state.mode + " funnel, " + (state.channel || "all channels") + ", " + (state.month || "all months") + ").";
    }
    draw();
  }

  // ---------------------------------------------------------------- trends
  function initTrends() {
    var T = D.daily;
    if (!T || !T.rows || !T.rows.length) return;
    var idx = {}; T.columns.forEach(function (c, i) { idx[c] = i; });
    var channels = uniq(T.rows.map(function (r) { return r[1]; })).sort();
    var sel = document.getElementById("trend-channel");
    var start = pickOr(Q.channel, channels, "");
    fillSelect(sel, [""].concat(channels), ["All channels"].concat(channels), start);
    sel.addEventListener("change", function () { draw(sel.value); });
    function col(r, c) { return idx[c] === undefined ? 0 : (r[idx[c]] || 0); }
    function series(channel) {
      var byDay = {}, days = [];
      T.rows.forEach(function (r) {
        if (channel && r[1] !== channel) return;
        var d = r[0];
        if (!byDay[d]) { byDay[d] = {}; days.push(d); T.columns.slice(2).forEach(function (c) { byDay[d][c] = 0; }); }
        T.columns.slice(2).forEach(function (c) { byDay[d][c] += col(r, c); });
      });
      days.sort();
      return { days: days, sums: days.map(function (d) { return byDay[d]; }) };
    }
    // Each KPI from the day's sums (ratios of sums, as MARTS.md defines them).
    var KPI = {
      sessions: function (x) { return x.sessions; },
      orders: function (x) { return x.orders; },
      leads: function (x) { return x.leads; },
      revenue: function (x) { return x.revenue; },
      gross_margin: function (x) { return x.gross_margin; },
      aov: function (x) { return div(x.revenue, x.orders); },
      spend: function (x) { return x.spend; },
      conversion_rate: function (x) { return div(x.converting_sessions, x.sessions); },
      engagement_rate: function (x) { return div(x.engaged_sessions, x.sessions); },
      micro_conversion_rate: function (x) { return div(x.micro_converting_sessions, x.sessions); },
      cpa: function (x) { return div(x.spend, x.macro_conversions); },
      roas: function (x) { return div(x.revenue, x.spend); }
    };
    var ADDITIVE = { sessions: 1, orders: 1, leads: 1, revenue: 1, spend: 1, gross_margin: 1 };
    function windowSums(sums, i) {
      var acc = {};
      for (var j = i - 6; j <= i; j++) for (var k in sums[j]) acc[k] = (acc[k] || 0) + sums[j][k];
      return acc;
    }
    function rolling(sums, f, kpi) {
      // 7-day window: a rate is the rate of the window's sums (not the mean of daily rates);
      // a count or amount is the window's daily average.
      return sums.map(function (_, i) {
        if (i < 6) return null;
        var v = f(windowSums(sums, i));
        return (ADDITIVE[kpi] && v !== null) ? v / 7 : v;
      });
    }
    function niceScale(lo, hi) {
      var span = hi - lo, raw = span / 4, step = Math.pow(10, Math.floor(Math.log10(raw))), err = raw / step;
      step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
      var a = Math.floor(lo / step) * step, b = Math.ceil(hi / step) * step, ticks = [];
      for (var v = a; v <= b + step / 2; v += step) ticks.push(v);
      return { lo: a, hi: b, ticks: ticks, step: step };
    }
    function tick(kpi, v, step) {
      var kind = D.kpiKinds[kpi];
      if (kind === "pct") return (v * 100).toFixed(Math.max(0, Math.min(2, -Math.floor(Math.log10(step * 100) + 1e-9)))) + "%";
      if (kind === "ratio") return v.toFixed(step < 1 ? 1 : 0) + "×";
      if (kind === "money2") return money(v, step < 1 ? 2 : 0);
      if (kind === "count" && step < 1) return v.toFixed(1);
      return fmtKpi(kpi, v, true);
    }
    function draw(channel) {
      var S = series(channel);
      Array.prototype.forEach.call(document.querySelectorAll("#trend-charts figure.chart"), function (fig) {
        var kpi = fig.getAttribute("data-kpi"), f = KPI[kpi];
        var body = fig.querySelector(".chart-body");
        body.innerHTML = "";
        var vals = S.sums.map(f), avg = rolling(S.sums, f, kpi);
        var cap = fig.querySelector("figcaption");
        var last = cap.querySelector(".last"); if (!last) { last = el("span", { "class": "last" }); cap.appendChild(last); }
        var lastWindow = S.sums.length >= 7 ? f(windowSums(S.sums, S.sums.length - 1)) : null;
        last.textContent = "last 7 days: " + fmtKpi(kpi, lastWindow, false);
        var finite = vals.concat(avg).filter(function (v) { return v !== null && isFinite(v); });
        if (!finite.length) { body.appendChild(el("p", { "class": "muted" }, "no data")); return; }
        var W = 420, H = 170, L = 52, R = 10, Tp = 10, B = 24;
        var dmax = Math.max.apply(null, finite), dmin = Math.min.apply(null, finite.concat([0]));
        if (dmax === dmin) dmax = dmin + 1;
        var sc = niceScale(dmin, dmax), vmin = sc.lo, vmax = sc.hi;
        var n = S.days.length;
        function X(i) { return L + (n <= 1 ? 0 : i * (W - L - R) / (n - 1)); }
        function Y(v) { return Tp + (H - Tp - B) * (1 - (v - vmin) / (vmax - vmin)); }
        var svg = s("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": D.kpiLabels[kpi] + " per day" });
        sc.ticks.forEach(function (v) {
          var y = Y(v);
          svg.appendChild(s("line", { x1: L, x2: W - R, y1: y, y2: y, "class": "grid" }));
          svg.appendChild(s("text", { x: L - 6, y: y + 4, "text-anchor": "end", "class": "axis" }, tick(kpi, v, sc.step)));
        });
        var ticks = Math.min(6, n);
        for (var t = 0; t < ticks; t++) {
          var i = Math.round(t * (n - 1) / Math.max(ticks - 1, 1));
          var d = new Date(S.days[i] + "T00:00:00Z");
          var anchor = t === 0 ? "start" : (t === ticks - 1 ? "end" : "middle");
          svg.appendChild(s("text", { x: X(i), y: H - 6, "text-anchor": anchor, "class": "axis" },
            d.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" })));
        }
        function path(arr, cls) {
          var dstr = "", pen = false;
          arr.forEach(function (v, i) {
            if (v === null || !isFinite(v)) { pen = false; return; }
            dstr += (pen ? "L" : "M") + X(i).toFixed(1) + "," + Y(v).toFixed(1); pen = true;
          });
          if (dstr) svg.appendChild(s("path", { d: dstr, "class": cls }));
        }
        path(vals, "daily");
        path(avg, "avg");
        // hover targets: one transparent column per day with its value and 7-day average
        var colW = n > 1 ? (W - L - R) / (n - 1) : 10;
        S.days.forEach(function (day, i) {
          var hit = s("rect", { x: X(i) - colW / 2, y: Tp, width: colW, height: H - Tp - B, "class": "hit" });
          hit.appendChild(s("title", {}, day + ": " + fmtKpi(kpi, vals[i]) +
            (avg[i] === null ? "" : " · 7-day average " + fmtKpi(kpi, avg[i]))));
          svg.appendChild(hit);
        });
        var scope = channel ? "channel" : "all";
        (D.alerts || []).forEach(function (a) {
          if (a.kpi !== kpi || a.scope !== scope || (channel && a.scopeValue !== channel)) return;
          var i = S.days.indexOf(a.date);
          if (i < 0) return;
          var v = avg[i] !== null ? avg[i] : vals[i];
          if (v === null || !isFinite(v)) return;
          var c = s("circle", { cx: X(i), cy: Y(v), r: a.severity === "critical" ? 6 : 5,
            fill: a.severity === "critical" ? "#dc2626" : (a.severity === "info" ? "#10b981" : "#f59e0b"),
            "class": "alert-dot", "data-alert": a.date });
          c.appendChild(s("title", {}, a.message ? a.date + ": " + a.message : a.date + ": " + D.kpiLabels[kpi] + " " + (a.change > 0 ? "+" : "") + pct(a.change) +
            " vs baseline (" + fmtKpi(kpi, a.actual) + " vs " + fmtKpi(kpi, a.baseline) + ", p=" +
            (a.p === null ? "?" : a.p.toExponential(1)) + ")" + (a.step ? " · suspected step: " + a.step : "")));
          svg.appendChild(c);
        });
        body.appendChild(svg);
      });
    }
    draw(start);
  }

  initFunnel();
  initTrends();
  document.body.setAttribute("data-ready", "1");
})();
