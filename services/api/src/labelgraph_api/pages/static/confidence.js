// Confidence: the histogram of a label's confidences, with a movable threshold.
import { api, chart, el, LatestLoad } from "./common.js";
import { filters, scopeFields, windowRange } from "./forms.js";

const content = document.getElementById("content");
const counts = el("p", { class: "summary", "data-testid": "threshold-counts" });
const slider = el("input", { type: "range", min: 0, max: 100, step: 1, value: 90,
                             "aria-label": "Threshold", "data-testid": "threshold" });
const sliderLabel = el("label", { class: "threshold" }, "Threshold ", slider, el("output", {}, "90"));
const histogram = chart(content);
content.prepend(sliderLabel, counts);
let buckets = [];
const loads = new LatestLoad();

const scope = await scopeFields("camera", "detector", "window");
const read = filters([
  { name: "label", label: "Label", value: "Person" }, scope.camera, scope.detector, scope.window,
], load);

slider.addEventListener("input", draw);

function load({ label, camera, detector, window }) {
  const query = { label, camera, detector, ...windowRange(window) };
  return loads.run((signal) => api("/confidence-histogram", query, { signal }),
    (result) => { buckets = result.buckets; draw(); },
    () => { buckets = []; counts.textContent = ""; histogram.clear(); });
}

function draw() {
  const threshold = Number(slider.value);
  sliderLabel.querySelector("output").textContent = String(threshold);
  const above = buckets.filter((b) => b.confidence >= threshold).reduce((n, b) => n + b.images, 0);
  const below = buckets.filter((b) => b.confidence < threshold).reduce((n, b) => n + b.images, 0);
  counts.textContent = `${above} images at or above ${threshold}, ${below} below`;
  histogram.setOption({
    title: { text: "Images per rounded confidence" },
    tooltip: {},
    xAxis: { type: "value", min: 0, max: 100, name: "confidence" },
    yAxis: { type: "value", minInterval: 1, name: "images" },
    series: [{
      type: "bar", barWidth: 4, data: buckets.map((b) => [b.confidence, b.images]),
      markLine: { symbol: "none", data: [{ xAxis: threshold }], label: { formatter: "threshold {c}" } },
    }],
  }, true);
}

load(read());
