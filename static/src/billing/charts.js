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

function readData(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

function daily(data) {
  return {
    type: "bar",
    data: {
      labels: data.days,
      datasets: [
        { type: "bar", label: "USD", data: data.cost_usd, yAxisID: "cost" },
        { type: "line", label: "tokens", data: data.tokens, yAxisID: "tokens", tension: 0.25 },
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
  return {
    type: "bar",
    data: {
      labels: rows.map((row) => row.label),
      datasets: [{ label: "USD", data: rows.map((row) => row.cost_usd) }],
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
  canvas.closest(".billing-chart-block")?.classList.add("has-chart");
  new Chart(canvas, config);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const canvas of document.querySelectorAll("canvas.billing-chart")) {
    draw(canvas);
  }
});
