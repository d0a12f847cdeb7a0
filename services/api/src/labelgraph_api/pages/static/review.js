// Review: one image at a time; y / n say whether the label is there, s skips; next at once.
// The images come from a source: the queue of unjudged ones, or the judged ones again. Small
// steps (fill the queue, show an image, show the end, send a verdict, count) so other ways
// through the images (undo, a random sample) are another source or step, not a rewrite.
import {
  api, belowToggle, boxLegend, boxOutlines, el, labelsByDetector, LatestLoad, safeUrl, say,
  stampedTime,
} from "./common.js";
import { filters, scopeFields, windowRange } from "./forms.js";

const REVIEWER = "labelgraph-reviewer";
const content = document.getElementById("content");
const image = el("img", { class: "review-image", alt: "" });
// Every detector's boxes are drawn over the image, beside the legend of their colours.
const stage = el("div", { class: "boxed", "data-testid": "image-boxes" }, image);
const toggle = el("div");
const legend = el("div");
const labels = el("div", { class: "review-labels", "data-testid": "detector-labels" });
const view = el("div", { class: "review", "data-testid": "review-stage" },
                el("div", {}, stage, toggle), el("div", {}, legend, labels));
// Why the queue put this image here; disagreements between detectors come first.
const REASONS = {
  disagreement: "detectors disagree",
  unlabelled: "no detector gave the label",
  "least confident": "least confident",
  "random sample": "drawn at random: counts in the unbiased recall estimate",
};
const reason = el("p", { class: "reason", "data-testid": "queue-reason" });
const question = el("p", { class: "question" });
const verdictNow = el("p", { class: "verdict-now", "data-testid": "current-verdict" });
const progress = el("p", { class: "summary", "data-testid": "reviewed-count" });
const buttons = el("div", { class: "verdict" },
  el("button", { type: "button", "data-verdict": "yes", onclick: () => decide(true) }, "Yes (y)"),
  el("button", { type: "button", "data-verdict": "no", onclick: () => decide(false) }, "No (n)"),
  el("button", { type: "button", "data-verdict": "skip", onclick: () => advance() }, "Skip (s)"),
  el("button", { type: "button", "data-verdict": "undo", onclick: () => undoLast() }, "Undo (u)"));
const again = el("button", { type: "button", "data-testid": "review-again", hidden: true,
                             onclick: () => switchSource() });
content.append(el("div", { class: "review-head" }, progress, again), question, reason,
               verdictNow, buttons, view);

// Where the images come from: the query of the page of images after `cursor`.
const SOURCES = {
  queue: {
    path: "/review-queue",
    query: () => {
      const { threshold, thresholds, mode } = read();
      return { ...inScope(), threshold, thresholds, mode };
    },
    end: (label) => `Nothing left to review for ${label} in this scope.`,
    switchText: "Review judged images again",
  },
  reviewed: {
    path: "/reviewed",
    query: () => inScope(),
    end: (label) => `No more judged images for ${label} in this scope.`,
    switchText: "Back to the unjudged images",
  },
};
let source = "queue";

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
  start();
});

/** Which images come: disagreements first (teach the most), or a random sample of every
 * image in scope, flagged or not (the only unbiased estimate of recall). */
function queueModeField() {
  return { name: "mode", label: "Order", value: "priority",
           options: [["priority", "disagreements first"], ["sample", "random sample"]] };
}

/** The images in scope: the label, the cameras and the window. */
function inScope() {
  const { label, camera, window } = read();
  return { label, camera, ...windowRange(window) };
}

/** Each detector's threshold: its own from "name:50,…" (the value after the last colon),
 * else the page's. */
function thresholdOf(detector) {
  const { threshold, thresholds } = read();
  const own = thresholds.split(",").map((pair) => pair.trim())
    .find((pair) => pair.includes(":") && pair.slice(0, pair.lastIndexOf(":")) === detector);
  return Number(own ? own.slice(own.lastIndexOf(":") + 1) : threshold);
}

/** A fresh queue and count for the current filters. */
async function start() {
  queue = []; cursor = null; current = null;
  await Promise.all([countReviewed(), show()]);
}

/** From the unjudged images to the judged ones (newest first) and back. */
function switchSource() {
  source = source === "queue" ? "reviewed" : "queue";
  done.clear();
  start();
}

/** The images already judged for the label in scope, from the api (accuracy's count). */
async function countReviewed() {
  try {
    reviewed = (await api("/accuracy", inScope())).reviewed;
    sayReviewed();
  } catch (error) {
    say(`reviewed images not counted: ${error.message}`, true);
  }
}

function sayReviewed() {
  progress.textContent = `${reviewed} reviewed`;
  again.textContent = SOURCES[source].switchText;
  again.hidden = reviewed === 0 && source === "queue";
}

/** True once the queue holds the next page; false if a newer refill took over or it failed. */
function refill() {
  const { path, query } = SOURCES[source];
  const asked = { ...query(), cursor, limit: 20 };
  return refills.run((signal) => api(path, asked, { signal }), (page) => {
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
  if (current) showImage(current);
  else showNothingLeft();
}

/** The image with its detectors' boxes (those at or above their threshold), labels and why. */
function showImage(item) {
  view.hidden = false;
  buttons.querySelectorAll("button").forEach((button) => { button.disabled = false; });
  image.src = safeUrl(item.url);
  image.alt = item.object_key;
  image.dataset.key = item.object_key;
  stage.classList.remove("show-below");
  stage.replaceChildren(image, ...boxOutlines(item, { thresholdOf }));
  toggle.replaceChildren(belowToggle(stage, "below their threshold") ?? "");
  legend.replaceChildren(boxLegend(item, { thresholdOf }));
  labels.replaceChildren(labelsByDetector(item));
  reason.textContent = item.reason ? `Why: ${REASONS[item.reason] ?? item.reason}` : "";
  verdictNow.textContent = item.present === undefined ? ""
    : `Judged before: ${item.present ? "yes" : "no"}, the ${read().label} is ` +
      `${item.present ? "there" : "not there"}. A new verdict replaces it.`;
  question.textContent = `Is there a ${read().label} in this image? (${item.camera}, ` +
    `${stampedTime(item.captured_at)})`;
}

/** The end of the queue: no empty stage, no live buttons, and how many were judged. */
function showNothingLeft() {
  view.hidden = true;
  // Undo stays: the last verdict of the queue can be taken back at its end too.
  buttons.querySelectorAll("button:not([data-verdict=undo])")
    .forEach((button) => { button.disabled = true; });
  image.removeAttribute("src");
  delete image.dataset.key;
  reason.textContent = "";
  verdictNow.textContent = "";
  question.textContent = SOURCES[source].end(read().label);
}

async function decide(present) {
  if (!current) return;
  const judged = current;
  done.add(judged.object_key);
  current = null;
  const sent = sendVerdict(judged, present);
  await show();  // the next image does not wait for the verdict's round trip
  try {
    lastVerdict = { object_key: judged.object_key, ...(await sent) };
    if (source === "queue") {  // the queue holds unjudged images only: each verdict adds one
      reviewed += 1;
      sayReviewed();
    }
  } catch (error) {
    say(`verdict on ${judged.object_key} not saved: ${error.message}`, true);
  }
}

function sendVerdict(item, present) {
  const { label, reviewer } = read();
  return api("/verdicts", {}, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ object_key: item.object_key, label, present, reviewer,
                           sampled: item.reason === "random sample" }),
  });
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
    done.delete(object_key);
    await start();  // the count from the api, and the image back in its place
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

start();
