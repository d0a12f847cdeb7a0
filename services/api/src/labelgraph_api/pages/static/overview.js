// Overview: where a label was seen in a window, per camera and per camera x hour of day.
import {
  api, chart, el, escapeHtml, galleryHref, LatestLoad, stampedTime, table,
} from "./common.js";
import { filters, scopeFields, windowRange, windowText } from "./forms.js";

const HOURS = [...Array(24).keys()];
const content = document.getElementById("content");
const summary = el("p", { class: "summary", "data-testid": "summary" });
const cameraChart = chart(content);
const heatChart = chart(content);
const tables = el("div");
content.prepend(summary);
content.append(tables);
const loads = new LatestLoad();

const scope = await scopeFields(["window", "camera", "detector"],
  // The landing page answers the first question: where was the label seen lately.
  { window: "2h" });
const read = filters([
  { name: "label", label: "Label", value: "Person" },
  scope.window,
  scope.camera,
  { name: "min_confidence", label: "Min confidence", type: "number", value: "90", min: 0, max: 100, step: 1 },
  scope.detector,
], load);

// /sightings reads a missing window as the last 2 hours (its heat map's default), so all
// time is asked for as from the first day the calendar has.
const ALL_TIME = { since: "0001-01-01T00:00:00Z" };

function load({ label, window, camera, min_confidence, detector }) {
  const range = windowRange(window);
  const query = { label, camera, min_confidence, detector,
                  ...(range.since ? range : ALL_TIME) };
  return loads.run((signal) => Promise.all([
    api("/sightings", query, { signal }),
    api("/rollups", { by: ["camera", "hour_of_day"], ...query }, { signal }),
  ]), ([sightings, rollup]) => paint(sightings, rollup, { label, window, camera, min_confidence,
                                                          detector }), clear);
}

function paint(sightings, rollup, { label, window, camera, min_confidence, detector }) {
  const link = (extra) => galleryHref({ label, min_confidence, window, camera, detector, ...extra });
  summary.textContent =
    `${sightings.images} images with ${label} at ${min_confidence}+ ${windowText(window)}`;
  drawCameras(sightings.cameras, link);
  drawHeatMap(rollup.rows, link);
  tables.replaceChildren(table("per-camera", ["Camera", "Images", "Latest"],
    sightings.cameras.map((c) => [el("a", { href: link({ camera: c.camera }) }, c.camera),
                                  String(c.images), stampedTime(c.last_captured_at)])));
}

// An error replaces the previous answer: no summary, chart or table of other filters stays.
function clear() {
  summary.textContent = "";
  cameraChart.clear();
  heatChart.clear();
  tables.replaceChildren();
}

function drawCameras(cameras, link) {
  cameraChart.setOption({
    title: { text: "Images per camera" },
    tooltip: {},
    xAxis: { type: "category", data: cameras.map((c) => c.camera) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: cameras.map((c) => c.images) }],
  }, true);
  cameraChart.off("click");
  cameraChart.on("click", (p) => { location.href = link({ camera: p.name }); });
}

function drawHeatMap(rows, link) {
  const cameras = [...new Set(rows.map((r) => r.camera))].sort();
  const cells = rows.map((r) => [r.hour_of_day, cameras.indexOf(r.camera), r.images]);
  heatChart.setOption({
    title: { text: "Camera by hour of day (camera's clock)" },
    // ECharts renders a formatter's answer as HTML; the camera name is data, so escape it.
    tooltip: {
      formatter: (p) => escapeHtml(`${cameras[p.value[1]]} ${p.value[0]}:00 — ${p.value[2]} images`),
    },
    grid: { left: 90, bottom: 70 },
    xAxis: { type: "category", data: HOURS.map(String), name: "hour" },
    yAxis: { type: "category", data: cameras },
    visualMap: { min: 0, max: Math.max(1, ...cells.map((c) => c[2])), calculable: true,
                 orient: "horizontal", left: "center", bottom: 0 },
    series: [{ type: "heatmap", data: cells, label: { show: true } }],
  }, true);
  heatChart.off("click");
  heatChart.on("click", (p) => {
    location.href = link({ camera: cameras[p.value[1]], hour: p.value[0] });
  });
}

load(read());
