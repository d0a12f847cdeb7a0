// Confidence: the histogram of a label's confidences, with a movable threshold, and the images
// in scope without the label as their own bar: an all-or-nothing detector shows as both ends.
// The counts said at a threshold are the api's, read off the confidences: a bucket cannot say
// them (89.6 is below 90), so moving the threshold asks again; buckets are for drawing only.
import { api, chart, el, LatestLoad } from "./common.js";
import { filters, scopeFields, windowRange } from "./forms.js";

const content = document.getElementById("content");
const counts = el("p", { class: "summary", "data-testid": "threshold-counts" });
const slider = el("input", { type: "range", min: 0, max: 100, step: 1, value: 90,
                             "aria-label": "Threshold", "data-testid": "threshold" });
const sliderLabel = el("label", { class: "threshold" }, "Threshold ", slider, el("output", {}, "90"));
const histogram = chart(content);
content.prepend(sliderLabel, counts);
const NOTHING = { buckets: [], without_label: 0, bucket_width: null };
let answer = NOTHING;
const loads = new LatestLoad();

const scope = await scopeFields(["camera", "detector", "window"]);
const read = filters([
  { name: "label", label: "Label", value: "Person" }, scope.camera, scope.detector, scope.window,
], load);

slider.addEventListener("input", draw);  // the line follows the slider at once
slider.addEventListener("change", () => load(read()));  // the counts come from the api

function load({ label, camera, detector, window }) {
  const query = { label, camera, detector, threshold: slider.value, ...windowRange(window) };
  return loads.run((signal) => api("/confidence-histogram", query, { signal }),
    (result) => { answer = result; say(); draw(); },
    () => { answer = NOTHING; counts.textContent = ""; histogram.clear(); });
}

// The images without the label stand in a narrow chart of their own, left of the confidences,
// on the same scale of images.
const WITHOUT = "without the label";

/** The answer's counts at the threshold it was asked for. */
function say() {
  const { images, at_or_above: above, threshold, without_label: without } = answer;
  counts.textContent =
    `${above} images at or above ${threshold}, ${images - above} below, ${without} ${WITHOUT}`;
}

function draw() {
  const threshold = Number(slider.value);
  sliderLabel.querySelector("output").textContent = String(threshold);
  const { buckets, without_label: without } = answer;
  // A bucket is [bound, bound + width): its bar stands at its middle, so no bar straddles
  // a threshold on a bound.
  const width = answer.bucket_width ?? 1;
  const highest = Math.max(1, without, ...buckets.map((b) => b.images));
  const images = (gridIndex, shown) => ({ type: "value", gridIndex, min: 0, max: highest,
                                          minInterval: 1, name: shown ? "images" : "",
                                          axisLabel: { show: shown } });
  histogram.setOption({
    title: { text: `Images per confidence, buckets of ${width}` },
    tooltip: {},
    grid: [{ left: 50, width: 70, bottom: 40 }, { left: 170, right: 60, bottom: 40 }],
    xAxis: [{ type: "category", gridIndex: 0, data: [WITHOUT] },
            { type: "value", gridIndex: 1, min: 0, max: 100, name: "confidence" }],
    yAxis: [images(0, true), images(1, false)],
    series: [
      { name: WITHOUT, type: "bar", xAxisIndex: 0, yAxisIndex: 0, data: [without],
        itemStyle: { color: "#9aa3ad" } },
      { name: "with the label", type: "bar", xAxisIndex: 1, yAxisIndex: 1, barWidth: 4,
        dimensions: ["middle", "images", "from"],
        encode: { x: "middle", y: "images", tooltip: ["from", "images"] },
        data: buckets.map((b) => [b.confidence + width / 2, b.images, b.confidence]),
        markLine: { symbol: "none", data: [{ xAxis: threshold }],
                    label: { formatter: "threshold {c}" } } },
    ],
  }, true);
}

load(read());
