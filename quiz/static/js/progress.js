// Progress dashboard: draws the charts from each canvas's data-chart (the same numbers are in
// the tables under "查看数据"), in the colours of the current light or dark theme.
(function () {
  "use strict";

  const charts = [];

  function cssVar(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function palette() {
    return {
      text: cssVar("--pico-color", "#373c44"),
      muted: cssVar("--pico-muted-color", "#646b79"),
      grid: cssVar("--pico-muted-border-color", "#e7eaf0"),
      good: cssVar("--good", "#2e7d32"),
      again: cssVar("--again", "#c62828"),
      hard: cssVar("--hard", "#5f6368"),
      easy: cssVar("--easy", "#1565c0"),
      warn: cssVar("--pg-warn", "#b26a00"),
      font: cssVar("--pico-font-family-sans-serif", "sans-serif"),
    };
  }

  function formatter(unit) {
    return function (value) {
      return value === null || value === undefined ? "—" : value + (unit || "");
    };
  }

  function buildConfig(spec, colors) {
    const fmt = formatter(spec.unit);
    const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    const base = {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion ? false : { duration: 400 },
      plugins: {
        legend: { labels: { color: colors.text } },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              const value = spec.type === "doughnut" ? ctx.parsed : ctx.parsed[spec.horizontal ? "x" : "y"];
              return tr("{label}：{value}", { label: ctx.dataset.label, value: fmt(value) });
            },
          },
        },
      },
    };
    if (spec.type === "doughnut") {
      return {
        type: "doughnut",
        data: {
          labels: spec.labels,
          datasets: spec.datasets.map(function (ds) {
            return {
              label: ds.label,
              data: ds.data,
              backgroundColor: spec.colors.map(function (c) { return colors[c]; }),
              borderColor: cssVar("--pico-background-color", "#fff"),
              borderWidth: 2,
            };
          }),
        },
        options: Object.assign(base, {
          plugins: Object.assign(base.plugins, { legend: { position: "right", labels: { color: colors.text } } }),
        }),
      };
    }
    const valueAxis = {
      beginAtZero: true,
      grid: { color: colors.grid },
      ticks: { color: colors.muted, callback: fmt, precision: 0 },
    };
    if (spec.max) valueAxis.max = spec.max;
    const categoryAxis = { grid: { display: false }, ticks: { color: colors.muted, autoSkip: true } };
    if (spec.horizontal) {
      // Long topic titles would be cut at the canvas edge on a phone: shorten them on the axis
      // (the tooltip and the table keep the whole title).
      categoryAxis.ticks.callback = function (value) {
        const label = spec.labels[value] || "";
        const room = window.innerWidth < 640 ? 9 : 18;
        return label.length > room ? label.slice(0, room - 1) + "…" : label;
      };
    }
    return {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (ds) {
          const color = colors[ds.color] || colors.easy;
          if (ds.line) {
            return {
              type: "line", label: ds.label, data: ds.data, borderColor: color, backgroundColor: color,
              borderDash: [6, 4], pointRadius: 0, pointStyle: "line", borderWidth: 2, fill: false, order: 0,
            };
          }
          return { label: ds.label, data: ds.data, backgroundColor: color, borderRadius: 3, pointStyle: "rect", order: 1 };
        }),
      },
      options: Object.assign(base, {
        indexAxis: spec.horizontal ? "y" : "x",
        scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        plugins: Object.assign(base.plugins, {
          // Point styles: the target shows as a line in the legend, not as a dashed box.
          legend: { display: spec.datasets.length > 1, labels: { color: colors.text, usePointStyle: true, pointStyleWidth: 28 } },
        }),
      }),
    };
  }

  function drawAll() {
    if (!window.Chart) return;
    while (charts.length) charts.pop().destroy();
    const colors = palette();
    window.Chart.defaults.font.family = colors.font;
    window.Chart.defaults.color = colors.text;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      let spec;
      try {
        spec = JSON.parse(canvas.dataset.chart);
      } catch (error) {
        return; // the table below still has the numbers
      }
      if (spec.horizontal) {
        // One bar per topic: the box grows with the number of topics instead of squashing them.
        canvas.parentElement.style.height = Math.max(8, spec.labels.length * 2.4 + 3) + "rem";
      }
      charts.push(new window.Chart(canvas, buildConfig(spec, colors)));
    });
  }

  // Show the most recent weeks first on narrow screens: the calendar scrolls to its right end.
  function scrollHeatmaps() {
    document.querySelectorAll(".heatmap-scroll").forEach(function (el) {
      el.scrollLeft = el.scrollWidth;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll();
    scrollHeatmaps();
    // Colours come from the theme: redraw when the system switches between light and dark.
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", drawAll);
  });
})();
