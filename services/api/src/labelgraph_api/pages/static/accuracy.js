// Accuracy: the detectors against reviewers' verdicts, per camera, side by side on the same
// images, and across thresholds; where and when each misses (camera x hour, version) and
// what a threshold costs in alarms a day. Every rate says how many verdicts it rests on.
import { api, chart, el, LatestLoad, percent, table } from "./common.js";
import { filters, scopeFields, windowRange } from "./forms.js";

const content = document.getElementById("content");
const summary = el("p", { class: "summary", "data-testid": "accuracy-summary" });
const estimates = el("p", { class: "summary", "data-testid": "recall-estimates" });
const perCamera = el("div");
const curveChart = chart(content);
const compared = el("p", { class: "summary", "data-testid": "detectors-summary" });
const recallChart = chart(content);
const perDetector = el("div", { class: "detector-tables" });
const silent = el("p", { class: "summary", "data-testid": "silent-detectors" });
const slices = el("div", { class: "detector-tables" });
const costs = el("div", { class: "detector-tables" });
const costChart = chart(content);
content.prepend(summary, estimates, perCamera);
content.append(compared, perDetector);
recallChart.getDom().before(silent, compared);
costChart.getDom().before(costs);
content.append(slices);
const loads = new LatestLoad();

const scope = await scopeFields(["camera", "detector", "window"]);
const read = filters([
  { name: "label", label: "Label", value: "Person" },
  scope.camera,
  scope.detector,
  { name: "threshold", label: "Threshold", type: "number", value: "90", min: 0, max: 100, step: 1 },
  { name: "thresholds", label: "Per-detector thresholds", value: "", placeholder: "name:50,…" },
  { name: "target_recall", label: "Target recall %", type: "number", value: "95", min: 1, max: 100, step: 1 },
  { name: "calibrated", label: "Compare at calibrated p", type: "number", value: "", min: 0.01,
    max: 0.99, step: 0.01, placeholder: "0.9" },
  { name: "night", label: "Night hours", value: "19-7", placeholder: "19-7, camera:20-6" },
  scope.window,
], load);

function load({ label, camera, detector, threshold, thresholds, target_recall, calibrated, night,
                window }) {
  const query = { label, camera, detector, threshold, step: 5, ...windowRange(window) };
  const perDetectorQuery = { ...query, thresholds };
  // Four requests whatever the number of cameras: each answers per camera as well.
  return loads.run((signal) => Promise.all([
    api("/accuracy", query, { signal }),
    api("/accuracy/detectors", { ...perDetectorQuery, target_recall, calibrated }, { signal }),
    api("/accuracy/breakdown", { ...perDetectorQuery, night }, { signal }),
    api("/accuracy/costs", { ...perDetectorQuery, target_recall }, { signal }),
  ]), ([overall, side, sliced, cost]) => {
    paint(threshold, overall, side);
    showSlices(sliced);
    showCosts(cost);
  }, clear);
}

/** A rate with the verdicts it rests on and its 95% interval; below five verdicts it says
 * so rather than show a bare 100%. */
function rate(p) {
  if (!p.count) return "–";
  if (!p.enough) return `too few: ${p.successes} of ${p.count}`;
  return `${percent(p.value)} (${p.successes}/${p.count}; 95%: ${percent(p.low)}–${percent(p.high)})`;
}

function clear() {
  for (const text of [summary, estimates, compared, silent]) text.textContent = "";
  for (const box of [perCamera, perDetector, slices, costs]) box.replaceChildren();
  for (const drawn of [curveChart, recallChart, costChart]) drawn.clear();
}

function paint(threshold, overall, side) {
  const at = overall.at_threshold;
  summary.textContent = `${overall.reviewed} reviewed images; at ${threshold}: precision ` +
    `${rate(at.precision_interval)}, recall ${rate(at.recall_interval)}, false-negative rate ` +
    `${percent(at.false_negative_rate)}; ${calibratedText(at)} at ${threshold}`;
  estimates.textContent = overall.recall_estimates.map((e) =>
    `Recall ${e.note}: ${rate(e.recall)}`).join(". ");
  const row = (name, result) => {
    const p = result.at_threshold;
    return [name, String(result.reviewed), String(p.true_positives), String(p.false_positives),
            String(p.false_negatives), String(p.true_negatives), rate(p.precision_interval),
            rate(p.recall_interval), percent(p.false_negative_rate)];
  };
  perCamera.replaceChildren(table("accuracy-table",
    ["Camera", "Reviewed", "TP", "FP", "FN", "TN", "Precision", "Recall", "Miss rate"],
    [row("all cameras", overall), ...overall.per_camera.map((c) => row(c.camera, c))]));
  drawCurve(overall.curve);
  showDetectors(side);
}

function showDetectors(side) {
  compared.textContent = `${side.detectors.length} detectors compared on the ${side.compared} ` +
    `of ${side.reviewed} reviewed images that every one of them labelled`;
  perDetector.replaceChildren(...side.detectors.map((d) => {
    const p = d.at_threshold;
    return el("div", { "data-testid": "detector-accuracy", "data-detector": d.detector },
      el("h2", {}, d.detector),
      table("detector-table", ["Threshold", "Labelled", "TP", "FP", "FN", "TN", "Precision",
                               "Recall", "Miss rate", "Calibrated"],
        [[String(+d.threshold.toFixed(2)), String(d.labelled), String(p.true_positives),
          String(p.false_positives), String(p.false_negatives), String(p.true_negatives),
          rate(p.precision_interval), rate(p.recall_interval), percent(p.false_negative_rate),
          calibratedText(p)]]),
      el("p", { "data-testid": "calibration" }, calibrationText(d.calibration)),
      el("p", { "data-testid": "target-recall" }, targetText(d.target_recall)));
  }));
  drawRecalls(side.detectors);
  silent.textContent = silentText(side.silent_detectors);
}

/** The probability of a person at a raw threshold, by the calibration, or why there is none. */
function calibratedText(point) {
  return point.calibrated === null || point.calibrated === undefined
    ? "uncalibrated: raw score" : `calibrated p ${percent(point.calibrated)}`;
}

function calibrationText(c) {
  const counts = `${c.verdicts} verdicts, ${c.present} with the label, ${c.absent} without`;
  if (!c.enough) {
    return `Too few verdicts to calibrate (${counts}; a fit needs 20, 5 of each): the raw ` +
      "score stands in for the probability.";
  }
  return `Calibrated on ${counts}: probability 50% at score ${c.score_at_half.toFixed(1)}.`;
}

// A stand-in answers nothing for photographs outside its rules: comparing it there would
// count every person as its miss, so the api leaves it out and the page says why.
function silentText(detectors) {
  if (!detectors.length) return "";
  return detectors.map((d) => `${d.detector} labelled nothing at all on the ${d.images} ` +
    "reviewed images in scope (a stand-in without rules for them, or a detector that saw " +
    "nothing): left out of the comparison.").join(" ");
}

const HOURS = [...Array(24).keys()];

/** Per detector: the camera x hour grid of recall and the rows per model version. */
function showSlices(sliced) {
  slices.replaceChildren(...sliced.detectors.map((d) => {
    const cameras = [...new Set(d.by_camera_hour.map((s) => s.camera))];
    const cell = new Map(d.by_camera_hour.map((s) => [`${s.camera} ${s.hour}`, s]));
    const gridCell = (camera, hour) => {
      const found = cell.get(`${camera} ${hour}`)?.at_threshold.recall_interval;
      if (!found?.count) return "";
      return found.enough ? percent(found.value) : `${found.successes}/${found.count}`;
    };
    return el("div", { "data-testid": "detector-slices", "data-detector": d.detector },
      el("h2", {}, `${d.detector}: recall by camera and camera-local hour at ${d.threshold}`),
      el("p", {}, "A cell shows recall; n/m where fewer than 5 people were reviewed there."),
      table("recall-grid", ["Camera", ...HOURS.map(String)],
            cameras.map((camera) => [camera, ...HOURS.map((hour) => gridCell(camera, hour))])),
      table("period-table", ["Camera", "Day or night", "Reviewed", "Precision", "Recall"],
            d.by_period.map((s) => [s.camera, s.period, ...sliceRates(s)])),
      table("version-table", ["Model version", "Reviewed", "Precision", "Recall"],
            d.by_version.map((s) => [s.model_version, ...sliceRates(s)])));
  }));
}

function sliceRates(s) {
  return [String(s.reviewed), rate(s.at_threshold.precision_interval),
          rate(s.at_threshold.recall_interval)];
}

/** Per detector and camera: what its threshold costs, and the threshold for the target. */
function showCosts(cost) {
  const perDay = (value) => (value === null ? "–" : value.toFixed(1));
  const row = (camera, c) => [camera, rate(c.at_threshold.recall_interval),
    rate(c.at_threshold.precision_interval), perDay(c.alarms_per_day),
    c.target.reached ? String(c.target.threshold) : "never", perDay(c.target.alarms_per_day)];
  costs.replaceChildren(...cost.detectors.map((d) =>
    el("div", { "data-testid": "detector-costs", "data-detector": d.detector },
      el("h2", {}, `${d.detector}: alarms a day at ${d.threshold} and for ` +
                   `${cost.target_recall}% recall`),
      table("cost-table", ["Camera", "Recall", "Precision", "Alarms a day",
                           `Threshold for ${cost.target_recall}%`, "Alarms a day there"],
            [row("all cameras", d.all_cameras), ...d.per_camera.map((c) => row(c.camera, c))]))));
  drawCosts(cost.detectors);
}

// The trade-off: each threshold a point, how many people found against how many images a
// day someone has to look at.
function drawCosts(detectors) {
  costChart.setOption({
    title: { text: "Alarms a day against recall (each point a threshold)" },
    tooltip: { trigger: "item" },
    legend: { bottom: 0 },
    xAxis: { type: "value", min: 0, max: 100, name: "% found" },
    yAxis: { type: "value", name: "alarms a day" },
    series: detectors.map((d) => ({
      name: d.detector, type: "line",
      data: d.curve.filter((p) => p.recall !== null)
        .map((p) => [p.recall * 100, p.alarms_per_day, p.threshold]),
    })),
  }, true);
}

function targetText(target) {
  if (!target) return "";
  if (!target.reached) {
    return `Never finds ${target.target}%: at most ${percent(target.best_recall)} at any threshold`;
  }
  return `Finds ${target.target}% at threshold ${target.threshold}: precision ` +
    `${percent(target.at_threshold.precision)}`;
}

// One line per detector: the share of true presences it finds at each threshold, which is
// "how many does it miss" read upside down.
function drawRecalls(detectors) {
  recallChart.setOption({
    title: { text: "Found (recall) per detector across thresholds" },
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    xAxis: { type: "value", min: 0, max: 100, name: "threshold" },
    yAxis: { type: "value", min: 0, max: 100, name: "% found" },
    series: detectors.map((d) => ({
      name: d.detector, type: "line",
      data: d.curve.map((p) => [p.threshold, p.recall === null ? null : p.recall * 100]),
    })),
  }, true);
}

function drawCurve(curve) {
  const series = (name, field) => ({
    name, type: "line", data: curve.map((p) => [p.threshold, p[field] === null ? null : p[field] * 100]),
  });
  curveChart.setOption({
    title: { text: "Across confidence thresholds" },
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    xAxis: { type: "value", min: 0, max: 100, name: "threshold" },
    yAxis: { type: "value", min: 0, max: 100, name: "%" },
    series: [series("precision", "precision"), series("recall", "recall"),
             series("false-negative rate", "false_negative_rate")],
  }, true);
}

load(read());
