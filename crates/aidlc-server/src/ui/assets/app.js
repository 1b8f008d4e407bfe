// aidlc dashboard script: draws the charts described by `data-chart` attributes as inline SVG,
// sends the decisions (approve, reject, promote, roll back: the reason typed in their form and
// the form's other fields) to the JSON API, and records every console error and uncaught exception in the `data-errors` attribute of
// <body>, so a headless browser test can see that a page ran clean. No dependencies.
"use strict";
(function () {
  var errors = [];
  function flush() {
    if (document.body) document.body.setAttribute("data-errors", JSON.stringify(errors));
  }
  function record(text) {
    errors.push(String(text));
    flush();
  }
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      record("failed to load " + (t.src || t.href));
    } else {
      record((e.message || "error") + " at " + (e.filename || "?") + ":" + (e.lineno || 0));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    var r = e.reason;
    record("unhandled rejection: " + (r && r.message ? r.message : r));
  });
  var consoleError = console.error;
  console.error = function () {
    record(Array.prototype.map.call(arguments, String).join(" "));
    return consoleError.apply(console, arguments);
  };

  var SVG = "http://www.w3.org/2000/svg";
  var W = 340, H = 210, L = 48, R = 10, T = 24, B = 34;
  var COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#57606a"];

  function el(name, attrs, parent, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(x) {
    if (!isFinite(x)) return String(x);
    var a = Math.abs(x);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(1);
    return String(Number(x.toPrecision(3)));
  }
  function range(values) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) {
      if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    });
    if (lo === Infinity) return null;
    if (lo === hi) { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
    return [lo, hi];
  }
  function frame(svg, title, xr, yr, xLabel) {
    el("text", { x: W / 2, y: 15, "class": "title" }, svg, title);
    for (var i = 0; i <= 4; i++) {
      var y = T + (H - T - B) * (1 - i / 4);
      el("line", { x1: L, x2: W - R, y1: y, y2: y, "class": "grid" }, svg);
      el("text", { x: L - 4, y: y + 3, "class": "axis", "text-anchor": "end" }, svg,
        fmt(yr[0] + (yr[1] - yr[0]) * i / 4));
    }
    if (xr) {
      for (var j = 0; j <= 3; j++) {
        var x = L + (W - L - R) * j / 3;
        el("text", { x: x, y: H - B + 13, "class": "axis", "text-anchor": "middle" }, svg,
          fmt(xr[0] + (xr[1] - xr[0]) * j / 3));
      }
    }
    if (xLabel) el("text", { x: W / 2, y: H - 4, "class": "axis", "text-anchor": "middle" }, svg, xLabel);
  }
  function sx(xr, x) { return L + (W - L - R) * (x - xr[0]) / (xr[1] - xr[0]); }
  function sy(yr, y) { return T + (H - T - B) * (1 - (y - yr[0]) / (yr[1] - yr[0])); }
  function noData(svg, title) {
    el("text", { x: W / 2, y: 15, "class": "title" }, svg, title);
    el("text", { x: W / 2, y: H / 2, "class": "axis", "text-anchor": "middle" }, svg, "no data");
  }

  function histogram(svg, c) {
    var counts = c.counts || [], edges = c.edges || [];
    if (!counts.length || edges.length !== counts.length + 1) return noData(svg, c.title);
    var yr = [0, Math.max.apply(null, counts) || 1];
    var xr = [edges[0], edges[edges.length - 1]];
    if (xr[0] === xr[1]) xr = [xr[0] - 1, xr[1] + 1];
    frame(svg, c.title, xr, yr, "");
    counts.forEach(function (n, i) {
      var x0 = sx(xr, edges[i]), x1 = sx(xr, edges[i + 1]);
      var rect = el("rect", { x: x0 + 0.5, y: sy(yr, n), width: Math.max(x1 - x0 - 1, 1),
        height: sy(yr, 0) - sy(yr, n), "class": "bar" }, svg);
      el("title", {}, rect, fmt(edges[i]) + " – " + fmt(edges[i + 1]) + ": " + n);
    });
  }

  function bars(svg, c) {
    var labels = c.labels || [], values = c.values || [];
    if (!values.length) return noData(svg, c.title);
    el("text", { x: W / 2, y: 15, "class": "title" }, svg, c.title);
    var max = Math.max.apply(null, values) || 1;
    var rowH = Math.min(22, (H - T - 6) / values.length);
    values.forEach(function (v, i) {
      var y = T + i * rowH;
      el("text", { x: 96, y: y + rowH * 0.7, "class": "axis", "text-anchor": "end" }, svg,
        String(labels[i]).slice(0, 16));
      var w = (W - 100 - 50) * v / max;
      var rect = el("rect", { x: 100, y: y + 2, width: Math.max(w, 1), height: rowH - 4, "class": "bar" }, svg);
      el("title", {}, rect, labels[i] + ": " + v);
      el("text", { x: 104 + w, y: y + rowH * 0.7, "class": "axis" }, svg, fmt(v));
    });
  }

  function lines(svg, c) {
    var series = (c.series || []).map(function (s) {
      return { name: s.name, points: (s.points || []).filter(function (p) {
        return p && p[0] !== null && p[1] !== null; }) };
    }).filter(function (s) { return s.points.length; });
    if (!series.length) return noData(svg, c.title);
    var xs = [], ys = [];
    series.forEach(function (s) { s.points.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
    var xr = range(xs), yr = range(ys);
    frame(svg, c.title, xr, yr, c.x_label);
    series.forEach(function (s, i) {
      var color = COLORS[i % COLORS.length];
      var d = s.points.map(function (p, j) {
        return (j ? "L" : "M") + sx(xr, p[0]).toFixed(1) + " " + sy(yr, p[1]).toFixed(1);
      }).join(" ");
      el("path", { d: d, "class": "line", stroke: color }, svg);
      if (s.points.length < 40) {
        s.points.forEach(function (p) {
          var dot = el("circle", { cx: sx(xr, p[0]), cy: sy(yr, p[1]), r: 2.5, fill: color }, svg);
          el("title", {}, dot, s.name + " @ " + fmt(p[0]) + ": " + fmt(p[1]));
        });
      }
      if (series.length > 1) {
        el("text", { x: L + 4 + i * 100, y: T + 10, "class": "legend", fill: color }, svg,
          String(s.name).slice(0, 16));
      }
    });
  }

  var KINDS = { histogram: histogram, bars: bars, lines: lines };

  function drawCharts() {
    var nodes = document.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(nodes, function (node) {
      var c = JSON.parse(node.getAttribute("data-chart"));
      var draw = KINDS[c.kind];
      if (!draw) throw new Error("unknown chart kind " + c.kind);
      var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": c.title || "" });
      draw(svg, c);
      node.appendChild(svg);
      node.setAttribute("data-rendered", "1");
    });
  }

  // The form's fields besides the reason, as the API reads them: a checkbox is a boolean, a
  // field marked data-number a number, anything else text.
  function fields(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (f) {
      if (!f.name || f.name === "reason") return;
      if (f.type === "checkbox") body[f.name] = f.checked;
      else if (f.hasAttribute("data-number")) body[f.name] = Number(f.value);
      else body[f.name] = f.value;
    });
    return body;
  }

  // A decision: post the reason and the form's fields to its API URL; on success reload to
  // show the new state, otherwise show the server's message in the form.
  function wireActions() {
    var forms = document.querySelectorAll("form.action");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var out = form.querySelector("output");
        var reason = form.querySelector("input[name=reason]").value.trim();
        if (!reason) { out.textContent = "Give a reason: it goes to the audit log."; return; }
        var button = form.querySelector("button");
        var body = fields(form);
        body.reason = reason;
        button.disabled = true;
        out.textContent = "sending…";
        fetch(form.getAttribute("data-url"), {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body)
        }).then(function (res) {
          return res.json().then(function (body) { return { ok: res.ok, body: body }; });
        }).then(function (r) {
          if (r.ok) {
            form.setAttribute("data-result", "ok");
            out.textContent = "done";
            window.location.reload();
          } else {
            form.setAttribute("data-result", "refused");
            out.textContent = (r.body && r.body.message) || "refused";
            button.disabled = false;
          }
        }, function (e) {
          form.setAttribute("data-result", "failed");
          out.textContent = "could not reach the server: " + e;
          button.disabled = false;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    flush();
    try {
      drawCharts();
      wireActions();
    } catch (e) {
      record("dashboard script: " + (e && e.message ? e.message : e));
    }
    document.body.setAttribute("data-ready", "1");
  });
})();
