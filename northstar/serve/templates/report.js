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
  function isNum(v) { return v !== null && v !== undefined && isFinite(v); }
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

  // ---------------------------------------------------------------- the month filter (every section)
  // The page holds the month-bound sections once per month (.by-month blocks); the funnel and the trend charts
  // are drawn for the month shown. redraw: what to call when the month changes.
  var MONTH = pickOr(Q.month, D.months || [], D.month), MONTH_LABEL = MONTH;
  var redraw = [];
  function showMonth(month) {
    MONTH = month;
    Array.prototype.forEach.call(document.querySelectorAll(".by-month"), function (b) {
      b.hidden = b.getAttribute("data-month") !== month;
    });
    var pick = document.getElementById("month");
    var label = month;
    if (pick) {
      pick.value = month;
      if (pick.selectedIndex >= 0) label = pick.options[pick.selectedIndex].textContent;
    }
    MONTH_LABEL = label;
    ["funnel-month", "trend-month"].forEach(function (id) { var n = document.getElementById(id); if (n) n.textContent = label; });
    redraw.forEach(function (f) { f(); });
  }
  function initMonth() {
    var pick = document.getElementById("month");
    if (pick) pick.addEventListener("change", function () { showMonth(pick.value); });
  }

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
    var channels = uniq(rows.map(function (r) { return r.channel; })).sort();
    var state = {
      funnel: pickOr(Q.funnel, funnels, funnels[0]),
      channel: pickOr(Q.channel, channels, ""),
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
        if (r.month !== MONTH) return;
        if (!(r.order in stages)) { stages[r.order] = { stage: r.stage, n: 0 }; order.push(r.order); }
        stages[r.order].n += r[state.mode];
      });
      order.sort(function (a, b) { return a - b; });
      var box = document.getElementById("funnel-chart");
      box.innerHTML = "";
      if (!order.length) {
        box.appendChild(el("p", { "class": "muted" }, "No sessions for this selection."));
        document.getElementById("funnel-note").textContent = "";
        return;
      }
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
        " (" + state.mode + " funnel, " + (state.channel || "all channels") + ", " + MONTH_LABEL + ").";
    }
    redraw.push(draw);
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
    // The top of a chart's axis. When a day lies above CLIP x the 90th percentile of the days shown (and above
    // every 7-day average), the axis stops there and that day is marked on the top edge: one outlier day (an
    // outage, a checkout breakage) would otherwise flatten all the others. report_charts.axis_top is the same
    // rule for the charts drawn on the server.
    var CLIP = 1.5, CLIP_MIN_DAYS = 10;
    function quantile(sorted, p) {
      var pos = p * (sorted.length - 1), lo = Math.floor(pos);
      return lo + 1 < sorted.length ? sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - lo) : sorted[lo];
    }
    function axisTop(daily, avg) {
      var days = daily.filter(isNum).sort(function (a, b) { return a - b; }), smooth = avg.filter(isNum);
      var hi = Math.max.apply(null, days.concat(smooth));
      if (days.length < CLIP_MIN_DAYS) return hi;
      var cap = Math.max(CLIP * quantile(days, 0.9), Math.max.apply(null, smooth.concat([0])));
      return cap > 0 && hi > cap ? cap : hi;
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
      // the month shown; the 7-day averages of its first days reach into the month before
      var keep = [];
      S.days.forEach(function (d, i) { if (d.slice(0, 7) === MONTH) keep.push(i); });
      var days = keep.map(function (i) { return S.days[i]; });
      Array.prototype.forEach.call(document.querySelectorAll("#trend-charts figure.chart"), function (fig) {
        var kpi = fig.getAttribute("data-kpi"), f = KPI[kpi];
        var body = fig.querySelector(".chart-body");
        body.innerHTML = "";
        var all = rolling(S.sums, f, kpi);
        var vals = keep.map(function (i) { return f(S.sums[i]); }), avg = keep.map(function (i) { return all[i]; });
        var cap = fig.querySelector("figcaption");
        var last = cap.querySelector(".last"); if (!last) { last = el("span", { "class": "last" }); cap.appendChild(last); }
        var end = keep.length ? keep[keep.length - 1] : -1;
        var lastWindow = end >= 6 ? f(windowSums(S.sums, end)) : null;
        last.textContent = "last 7 days: " + fmtKpi(kpi, lastWindow, false);
        var finite = vals.concat(avg).filter(isNum);
        if (!finite.length) { body.appendChild(el("p", { "class": "muted" }, "no data")); return; }
        var W = 420, H = 170, L = 52, R = 10, Tp = 10, B = 24;
        var dmax = axisTop(vals, avg), dmin = Math.min.apply(null, finite.concat([0]));
        if (dmax === dmin) dmax = dmin + 1;
        var sc = niceScale(dmin, dmax), vmin = sc.lo, vmax = sc.hi;
        var n = days.length;
        function X(i) { return L + (n <= 1 ? 0 : i * (W - L - R) / (n - 1)); }
        function Y(v) { return Tp + (H - Tp - B) * (1 - (Math.min(v, vmax) - vmin) / (vmax - vmin)); }
        var svg = s("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": D.kpiLabels[kpi] + " per day",
          "data-axis-max": String(vmax) });
        sc.ticks.forEach(function (v) {
          var y = Y(v);
          svg.appendChild(s("line", { x1: L, x2: W - R, y1: y, y2: y, "class": "grid" }));
          svg.appendChild(s("text", { x: L - 6, y: y + 4, "text-anchor": "end", "class": "axis" }, tick(kpi, v, sc.step)));
        });
        var ticks = Math.min(5, n);
        for (var t = 0; t < ticks; t++) {
          var i = Math.round(t * (n - 1) / Math.max(ticks - 1, 1));
          var d = new Date(days[i] + "T00:00:00Z");
          var anchor = t === 0 ? "start" : (t === ticks - 1 ? "end" : "middle");
          svg.appendChild(s("text", { x: X(i), y: H - 6, "text-anchor": anchor, "class": "axis" },
            d.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" })));
        }
        function path(arr, cls) {
          var dstr = "", pen = false;
          arr.forEach(function (v, i) {
            if (!isNum(v)) { pen = false; return; }
            dstr += (pen ? "L" : "M") + X(i).toFixed(1) + "," + Y(v).toFixed(1); pen = true;
          });
          if (dstr) svg.appendChild(s("path", { d: dstr, "class": cls }));
        }
        path(vals, "daily");
        path(avg, "avg");
        // days above the axis: a mark on the top edge, the value on hover
        vals.forEach(function (v, i) {
          if (!isNum(v) || v <= vmax) return;
          var x = X(i);
          var mark = s("path", { d: "M" + (x - 5).toFixed(1) + "," + (Tp + 7) + "L" + x.toFixed(1) + "," + (Tp - 2) + "L" + (x + 5).toFixed(1) + "," + (Tp + 7) + "Z",
            "class": "clipped", "data-day": days[i], "data-value": String(v) });
          mark.appendChild(s("title", {}, days[i] + ": " + fmtKpi(kpi, v) + " (above the axis)"));
          svg.appendChild(mark);
        });
        // hover targets: one transparent column per day with its value and 7-day average
        var colW = n > 1 ? (W - L - R) / (n - 1) : 10;
        days.forEach(function (day, i) {
          var hit = s("rect", { x: X(i) - colW / 2, y: Tp, width: colW, height: H - Tp - B, "class": "hit" });
          hit.appendChild(s("title", {}, day + ": " + fmtKpi(kpi, vals[i]) +
            (avg[i] === null ? "" : " · 7-day average " + fmtKpi(kpi, avg[i]))));
          svg.appendChild(hit);
        });
        var scope = channel ? "channel" : "all";
        (D.alerts || []).forEach(function (a) {
          if (a.kpi !== kpi || a.scope !== scope || (channel && a.scopeValue !== channel)) return;
          var i = days.indexOf(a.date);
          if (i < 0) return;
          var v = avg[i] !== null ? avg[i] : vals[i];
          if (!isNum(v)) return;
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
    redraw.push(function () { draw(sel.value); });
  }

  initMonth();
  initFunnel();
  initTrends();
  showMonth(MONTH);
  document.body.setAttribute("data-ready", "1");
})();
