// Accuracy: the detectors against reviewers' verdicts, per camera, side by side on the same
// images, and across thresholds.
import { api, chart, el, LatestLoad, percent, table } from "./common.js";
import { filters, scopeFields, windowRange } from "./forms.js";

const content = document.getElementById("content");
const summary = el("p", { class: "summary", "data-testid": "accuracy-summary" });
const perCamera = el("div");
const curveChart = chart(content);
const compared = el("p", { class: "summary", "data-testid": "detectors-summary" });
const recallChart = chart(content);
const perDetector = el("div", { class: "detector-tables" });
content.prepend(summary, perCamera);
content.append(compared, perDetector);
recallChart.getDom().before(compared);
const loads = new LatestLoad();

const scope = await scopeFields(["camera", "detector", "window"]);
const read = filters([
  { name: "label", label: "Label", value: "Person" },
  scope.camera,
  scope.detector,
  { name: "threshold", label: "Threshold", type: "number", value: "90", min: 0, max: 100, step: 1 },
  { name: "thresholds", label: "Per-detector thresholds", value: "", placeholder: "name:50,…" },
  { name: "target_recall", label: "Target recall %", type: "number", value: "95", min: 1, max: 100, step: 1 },
  scope.window,
], load);

function load({ label, camera, detector, threshold, thresholds, target_recall, window }) {
  const query = { label, camera, detector, threshold, step: 5, ...windowRange(window) };
  // Two requests whatever the number of cameras: /accuracy answers per camera as well.
  return loads.run((signal) => Promise.all([
    api("/accuracy", query, { signal }),
    api("/accuracy/detectors", { ...query, thresholds, target_recall }, { signal }),
  ]), ([overall, side]) => paint(threshold, overall, side), clear);
}

function clear() {
  for (const text of [summary, compared]) text.textContent = "";
  perCamera.replaceChildren();
  perDetector.replaceChildren();
  curveChart.clear();
  recallChart.clear();
}

function paint(threshold, overall, side) {
  const at = overall.at_threshold;
  summary.textContent = `${overall.reviewed} reviewed images; at ${threshold}: precision ` +
    `${percent(at.precision)}, recall ${percent(at.recall)}, false-negative rate ` +
    `${percent(at.false_negative_rate)}`;
  const row = (name, result) => {
    const p = result.at_threshold;
    return [name, String(result.reviewed), String(p.true_positives), String(p.false_positives),
            String(p.false_negatives), String(p.true_negatives), percent(p.precision),
            percent(p.recall), percent(p.false_negative_rate)];
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
                               "Recall", "Miss rate"],
        [[String(d.threshold), String(d.labelled), String(p.true_positives),
          String(p.false_positives), String(p.false_negatives), String(p.true_negatives),
          percent(p.precision), percent(p.recall), percent(p.false_negative_rate)]]),
      el("p", { "data-testid": "target-recall" }, targetText(d.target_recall)));
  }));
  drawRecalls(side.detectors);
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
