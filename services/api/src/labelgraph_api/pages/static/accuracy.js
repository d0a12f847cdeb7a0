// Accuracy: the detector against reviewers' verdicts, per camera and across thresholds.
import { api, chart, el, filters, guarded, percent, table, WINDOWS, windowRange } from "./common.js";

const content = document.getElementById("content");
const summary = el("p", { class: "summary", "data-testid": "accuracy-summary" });
const perCamera = el("div");
const curveChart = chart(content);
content.prepend(summary, perCamera);

const read = filters([
  { name: "label", label: "Label", value: "Person" },
  { name: "threshold", label: "Threshold", type: "number", value: "90", min: 0, max: 100, step: 1 },
  { name: "window", label: "Window", value: "all", options: Object.entries(WINDOWS).map(([k, [t]]) => [k, t]) },
], (values) => guarded(() => load(values)));

async function load({ label, threshold, window }) {
  const query = { label, threshold, step: 5, ...windowRange(window) };
  const cameras = (await api("/cameras")).map((c) => c.camera);
  const [overall, ...each] = await Promise.all([
    api("/accuracy", query), ...cameras.map((camera) => api("/accuracy", { ...query, camera }))]);
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
    [row("all cameras", overall), ...cameras.map((c, i) => row(c, each[i]))]));
  drawCurve(overall.curve);
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

guarded(() => load(read()));
