// Billing dashboards: draws the charts of /my-usage, the platform and earnings pages.
// Data comes from json_script blocks (no inline scripts); each <canvas data-chart> names
// its series and its data block. Without JavaScript the tables below the charts remain.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

const dollars = (value) => `$${Number(value).toFixed(value >= 1 ? 2 : 4)}`;

// The theme's accents (static/css/spark.css), read at draw time so tenant brands apply.
function accents() {
  const style = getComputedStyle(document.documentElement);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return { main: read("--accent", "#e0368a"), second: read("--accent-2", "#ff8a3d") };
}

function readData(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

function daily(data) {
  const { main, second } = accents();
  return {
    type: "bar",
    data: {
      labels: data.days,
      datasets: [
        {
          type: "bar",
          label: "USD",
          data: data.cost_usd,
          yAxisID: "cost",
          backgroundColor: `${main}b3`,
          borderRadius: 3,
        },
        {
          type: "line",
          label: "tokens",
          data: data.tokens,
          yAxisID: "tokens",
          cubicInterpolationMode: "monotone",
          borderColor: second,
          backgroundColor: second,
          pointRadius: 2,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        cost: { position: "left", beginAtZero: true, ticks: { callback: dollars } },
        tokens: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
      },
      plugins: { tooltip: { mode: "index", intersect: false } },
    },
  };
}

function ranking(rows) {
  const { main } = accents();
  return {
    type: "bar",
    data: {
      labels: rows.map((row) => row.label),
      datasets: [
        {
          label: "USD",
          data: rows.map((row) => row.cost_usd),
          backgroundColor: `${main}b3`,
          borderRadius: 3,
        },
      ],
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { beginAtZero: true, ticks: { callback: dollars } } },
      plugins: { legend: { display: false } },
    },
  };
}

function draw(canvas) {
  const data = readData(canvas.dataset.source);
  if (!data) return;
  const kind = canvas.dataset.chart;
  const rows = data[kind];
  if (kind !== "daily" && (!rows || rows.length === 0)) return;
  const config = kind === "daily" ? daily(data) : ranking(rows);
  const block = canvas.closest(".billing-chart-block");
  block?.classList.add("has-chart");
  if (kind !== "daily") {
    const box = canvas.closest(".billing-chart-box");
    if (box) box.style.height = `${Math.max(120, 36 * rows.length + 40)}px`;
  }
  new Chart(canvas, config);
  foldTable(block);
}

// With a chart drawn, its table folds into a <details> (still there for screen readers
// and for anyone who wants the numbers); without JavaScript it stays open on the page.
function foldTable(block) {
  const table = block?.querySelector("table.billing-fallback");
  if (!table) return;
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = block.dataset.tableLabel || "Table";
  details.append(summary);
  table.replaceWith(details);
  details.append(table);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const canvas of document.querySelectorAll("canvas.billing-chart")) {
    draw(canvas);
  }
});
