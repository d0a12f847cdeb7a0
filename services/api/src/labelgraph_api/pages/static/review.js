// Review: one image at a time; y / n say whether the label is there, s skips; next at once.
import {
  api, boxLegend, boxOutlines, el, labelsByDetector, LatestLoad, safeUrl, say, stampedTime,
} from "./common.js";
import { filters, scopeFields, windowRange } from "./forms.js";

const REVIEWER = "labelgraph-reviewer";
const content = document.getElementById("content");
const image = el("img", { class: "review-image", alt: "" });
// Every detector's boxes are drawn over the image, beside the legend of their colours.
const stage = el("div", { class: "boxed", "data-testid": "image-boxes" }, image);
const legend = el("div");
const labels = el("div", { class: "review-labels", "data-testid": "detector-labels" });
// Why the queue put this image here; disagreements between detectors come first.
const REASONS = {
  disagreement: "detectors disagree",
  unlabelled: "no detector gave the label",
  "least confident": "least confident",
  "random sample": "drawn at random: counts in the unbiased recall estimate",
};
const reason = el("p", { class: "reason", "data-testid": "queue-reason" });
const question = el("p", { class: "question" });
const progress = el("p", { class: "summary", "data-testid": "reviewed-count" }, "0 reviewed");
const buttons = el("div", { class: "verdict" },
  el("button", { type: "button", "data-verdict": "yes", onclick: () => decide(true) }, "Yes (y)"),
  el("button", { type: "button", "data-verdict": "no", onclick: () => decide(false) }, "No (n)"),
  el("button", { type: "button", "data-verdict": "skip", onclick: () => advance() }, "Skip (s)"),
  el("button", { type: "button", "data-verdict": "undo", onclick: () => undoLast() }, "Undo (u)"));
content.append(progress, question, reason, buttons,
               el("div", { class: "review" }, stage, el("div", {}, legend, labels)));

let queue = [];
let cursor = null;
let current = null;
let reviewed = 0;
// Judged or skipped here: never shown again, even if a verdict is still in flight.
const done = new Set();
// A refill of an old filter's queue is aborted by the new filter's, never appended to it.
const refills = new LatestLoad();

// The queue takes no detector: it weighs every detector's answer.
const scope = await scopeFields(["camera", "window"]);
const read = filters([
  { name: "label", label: "Label", value: "Person" },
  scope.camera,
  scope.window,
  { name: "threshold", label: "Threshold", type: "number", value: "90", min: 0, max: 100, step: 1 },
  { name: "thresholds", label: "Per-detector thresholds", value: "", placeholder: "name:50,…" },
  { name: "reviewer", label: "Reviewer", value: localStorage.getItem(REVIEWER) || "reviewer" },
  queueModeField(),
], (values) => {
  localStorage.setItem(REVIEWER, values.reviewer);
  queue = []; cursor = null;
  advance();
});

/** Which images come: disagreements first (teach the most), or a random sample of every
 * image in scope, flagged or not (the only unbiased estimate of recall). */
function queueModeField() {
  return { name: "mode", label: "Order", value: "priority",
           options: [["priority", "disagreements first"], ["sample", "random sample"]] };
}

/** True once the queue holds the next page; false if a newer refill took over or it failed. */
function refill() {
  const { label, camera, window, threshold, thresholds, mode } = read();
  const query = { label, camera, ...windowRange(window), threshold, thresholds, mode, cursor,
                  limit: 20 };
  return refills.run((signal) => api("/review-queue", query, { signal }), (page) => {
    cursor = page.next_cursor;
    queue.push(...page.items.filter((item) => !done.has(item.object_key)));
    queue.slice(0, 3).forEach((item) => { new Image().src = safeUrl(item.url); });  // preload
  });
}

async function advance() {
  if (current) done.add(current.object_key);
  await show();
}

async function show() {
  if (queue.length < 3 && (cursor || queue.length === 0) && !(await refill())) return;
  current = queue.shift() ?? null;
  image.hidden = !current;
  if (!current) {
    image.removeAttribute("src");
    image.alt = "";
    stage.replaceChildren(image);
    legend.replaceChildren();
    labels.replaceChildren();
    reason.textContent = "";
    question.textContent = `Nothing left to review for ${read().label}.`;
    return;
  }
  image.src = safeUrl(current.url);
  image.alt = current.object_key;
  image.dataset.key = current.object_key;
  stage.replaceChildren(image, ...boxOutlines(current));
  legend.replaceChildren(boxLegend(current));
  labels.replaceChildren(labelsByDetector(current));
  reason.textContent = `Why: ${REASONS[current.reason] ?? current.reason}`;
  question.textContent = `Is there a ${read().label} in this image? (${current.camera}, ` +
    `${stampedTime(current.captured_at)})`;
}

async function decide(present) {
  if (!current) return;
  const { label, reviewer } = read();
  const judged = current;
  done.add(judged.object_key);
  current = null;
  const sent = api("/verdicts", {}, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ object_key: judged.object_key, label, present, reviewer,
                           sampled: judged.reason === "random sample" }),
  });
  await show();  // the next image does not wait for the verdict's round trip
  try {
    lastVerdict = { object_key: judged.object_key, ...(await sent) };
    reviewed += 1;
    progress.textContent = `${reviewed} reviewed`;
  } catch (error) {
    say(`verdict on ${judged.object_key} not saved: ${error.message}`, true);
  }
}

// Undo: the last verdict recorded here is taken back (the previous one, if any, is in force
// again) and its image comes back to be judged anew.
let lastVerdict = null;

async function undoLast() {
  if (!lastVerdict) return;
  const { object_key, label, reviewed_at } = lastVerdict;
  lastVerdict = null;
  try {
    await api("/verdicts/undo", {}, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ object_key, label, reviewed_at, reviewer: read().reviewer }),
    });
    reviewed -= 1;
    progress.textContent = `${reviewed} reviewed`;
    done.delete(object_key);
    queue = []; cursor = null;
    current = null;
    await show();
  } catch (error) {
    say(`verdict on ${object_key} not undone: ${error.message}`, true);
  }
}

addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea, dialog")) return;
  const action = { y: () => decide(true), n: () => decide(false), s: () => advance(),
                   u: () => undoLast() }[event.key];
  if (action) { event.preventDefault(); action(); }
});

show();
