// Confidence: the histogram of a label's confidences, with a movable threshold, and the images
// in scope without the label as their own bar: an all-or-nothing detector shows as both ends.
import { api, chart, el, LatestLoad } from "./common.js";
import { filters, scopeFields, windowRange } from "./forms.js";

const content = document.getElementById("content");
const counts = el("p", { class: "summary", "data-testid": "threshold-counts" });
const slider = el("input", { type: "range", min: 0, max: 100, step: 1, value: 90,
                             "aria-label": "Threshold", "data-testid": "threshold" });
const sliderLabel = el("label", { class: "threshold" }, "Threshold ", slider, el("output", {}, "90"));
const histogram = chart(content);
content.prepend(sliderLabel, counts);
let answer = { buckets: [], without_label: 0 };
const loads = new LatestLoad();

const scope = await scopeFields(["camera", "detector", "window"]);
const read = filters([
  { name: "label", label: "Label", value: "Person" }, scope.camera, scope.detector, scope.window,
], load);

slider.addEventListener("input", draw);

function load({ label, camera, detector, window }) {
  const query = { label, camera, detector, ...windowRange(window) };
  return loads.run((signal) => api("/confidence-histogram", query, { signal }),
    (result) => { answer = result; draw(); },
    () => { answer = { buckets: [], without_label: 0 }; counts.textContent = "";
            histogram.clear(); });
}

// The images without the label stand in a narrow chart of their own, left of the confidences,
// on the same scale of images.
const WITHOUT = "without the label";

function draw() {
  const threshold = Number(slider.value);
  sliderLabel.querySelector("output").textContent = String(threshold);
  const { buckets, without_label: without } = answer;
  const above = buckets.filter((b) => b.confidence >= threshold).reduce((n, b) => n + b.images, 0);
  const below = buckets.filter((b) => b.confidence < threshold).reduce((n, b) => n + b.images, 0);
  counts.textContent =
    `${above} images at or above ${threshold}, ${below} below, ${without} ${WITHOUT}`;
  const highest = Math.max(1, without, ...buckets.map((b) => b.images));
  const images = (gridIndex, shown) => ({ type: "value", gridIndex, min: 0, max: highest,
                                          minInterval: 1, name: shown ? "images" : "",
                                          axisLabel: { show: shown } });
  histogram.setOption({
    title: { text: "Images per rounded confidence" },
    tooltip: {},
    grid: [{ left: 50, width: 70, bottom: 40 }, { left: 170, right: 60, bottom: 40 }],
    xAxis: [{ type: "category", gridIndex: 0, data: [WITHOUT] },
            { type: "value", gridIndex: 1, min: 0, max: 100, name: "confidence" }],
    yAxis: [images(0, true), images(1, false)],
    series: [
      { name: WITHOUT, type: "bar", xAxisIndex: 0, yAxisIndex: 0, data: [without],
        itemStyle: { color: "#9aa3ad" } },
      { name: "with the label", type: "bar", xAxisIndex: 1, yAxisIndex: 1, barWidth: 4,
        data: buckets.map((b) => [b.confidence, b.images]),
        markLine: { symbol: "none", data: [{ xAxis: threshold }],
                    label: { formatter: "threshold {c}" } } },
    ],
  }, true);
}

load(read());
