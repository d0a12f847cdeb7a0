// Images: a filtered gallery, newest first; more load as you scroll; full size on click.
import {
  api, belowToggle, boxLegend, boxOutlines, el, labelsByDetector, LatestLoad, say, stampedTime,
} from "./common.js";
import { filters, scopeFields, windowRange } from "./forms.js";

const PAGE_SIZE = 24;
// Boxes are drawn from the minimum confidence asked for, else from the pages' default
// threshold; the rest wait behind a button.
const BOX_THRESHOLD = 90;
const content = document.getElementById("content");
const total = el("p", { class: "summary", "data-testid": "shown" });
const grid = el("div", { class: "gallery", "data-testid": "gallery" });
const more = el("button", { type: "button", hidden: true }, "Load more");
// A click anywhere closes the full-size view, but on its buttons.
const lightbox = el("dialog", { class: "lightbox", onclick: (event) => {
  if (!event.target.closest("button")) lightbox.close();
} });
const bulk = bulkVerdictBar();
content.append(total, bulk, grid, more, lightbox);
// One gallery load at a time: a restart aborts a next page in flight (so it never lands in
// the new grid), and a next page waits for nothing else (so no cursor is loaded twice).
const loads = new LatestLoad();
let next = null;
let query = {};
// Infinite scroll: the button doubles as the sentinel that loads the next page.
const sentinel = new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) loadMore();
});

const scope = await scopeFields(["camera", "detector", "window"]);
const read = filters([
  scope.camera,
  { name: "label", label: "Label", value: "", placeholder: "any" },
  scope.detector,
  { name: "min_confidence", label: "Min confidence", type: "number", min: 0, max: 100, step: 1 },
  { name: "max_confidence", label: "Max confidence", type: "number", min: 0, max: 100, step: 1 },
  scope.window,
  { name: "hour", label: "Hour of day", type: "number", min: 0, max: 23, step: 1, placeholder: "any" },
], restart);

function restart({ window, ...values }) {
  const wanted = { ...values, ...windowRange(window) };
  return loads.run((signal) => api("/images", { ...wanted, limit: PAGE_SIZE }, { signal }),
    (page) => { query = wanted; grid.replaceChildren(); append(page); }, clear);
}

function loadMore() {
  if (loads.busy || !next) return;
  const cursor = next;
  loads.run((signal) => api("/images", { ...query, cursor, limit: PAGE_SIZE }, { signal }), append);
}

function append(page) {
  grid.append(...page.items.map(card));
  next = page.next_cursor;
  more.hidden = !next;
  total.textContent = `${grid.children.length} images shown${next ? " (more below)" : ""}`;
  // Observed afresh, a sentinel still in view after this page reports so and loads the next.
  sentinel.unobserve(more);
  sentinel.observe(more);
}

// A refused filter shows no images, and no count of the ones the previous filter found.
function clear() {
  grid.replaceChildren();
  next = null;
  more.hidden = true;
  total.textContent = "";
}

function card(image) {
  return el("figure", { class: "card", "data-key": image.object_key },
    el("label", { class: "select" }, el("input", {
      type: "checkbox", "data-testid": "select-image", "data-key": image.object_key,
      onchange: countSelected }), " select"),
    el("img", { src: image.url, alt: image.object_key, loading: "lazy",
                onclick: () => enlarge(image) }),
    el("figcaption", {}, el("strong", {}, image.camera), " ",
       stampedTime(image.captured_at), labelsByDetector(image, query.detector)));
}

// Full size, with every detector's boxes drawn over the image (the filtered one's alone),
// and every verdict given on it: who, when, and whether it was undone.
function enlarge(image) {
  const threshold = Number(query.min_confidence || BOX_THRESHOLD);
  const shown = { only: query.detector, thresholdOf: () => threshold };
  const stage = el("div", { class: "boxed", "data-testid": "image-boxes" },
    el("img", { src: image.url, alt: image.object_key }), boxOutlines(image, shown));
  const history = el("ul", { class: "history", "data-testid": "verdict-history" });
  lightbox.replaceChildren(stage, belowToggle(stage, `below ${threshold}`),
                           boxLegend(image, shown), el("p", {}, image.object_key), history);
  lightbox.showModal();
  api(`/images/${encodeURIComponent(image.object_key)}`).then((detail) => {
    history.replaceChildren(...(detail.history.length ? detail.history.map(verdictLine)
      : [el("li", {}, "No verdict yet.")]));
  }, (error) => say(error.message, true));
}

function verdictLine(entry) {
  const said = `${entry.label}: ${entry.present ? "yes" : "no"} by ${entry.reviewer} at ` +
    `${entry.reviewed_at}`;
  return el("li", { class: entry.undone_at ? "undone" : "" },
    entry.undone_at ? `${said} (undone by ${entry.undone_by} at ${entry.undone_at})` : said);
}

// Bulk verdicts: the selected images judged in one request ("all of these are wind").
const BULK_MAX = 50;

function bulkVerdictBar() {
  const label = el("input", { name: "bulk-label", value: "Person", "aria-label": "Judge the selection for" });
  const reviewer = el("input", { name: "bulk-reviewer", "aria-label": "Reviewer of the selection",
    value: localStorage.getItem("labelgraph-reviewer") || "reviewer" });
  const judge = (present) => el("button", { type: "button", "data-bulk": String(present),
    onclick: () => judgeSelected(label.value, present, reviewer.value) },
    present ? "Selected: label is there" : "Selected: label is not there");
  return el("div", { class: "bulk", "data-testid": "bulk-verdicts" },
    el("span", { "data-testid": "selected-count" }, "0 selected"), label, reviewer,
    judge(true), judge(false));
}

function selectedKeys() {
  return [...grid.querySelectorAll("input[data-testid=select-image]:checked")]
    .map((box) => box.dataset.key);
}

function countSelected() {
  const count = selectedKeys().length;
  bulk.querySelector("[data-testid=selected-count]").textContent =
    `${count} selected${count > BULK_MAX ? ` (at most ${BULK_MAX} at once)` : ""}`;
}

async function judgeSelected(label, present, reviewer) {
  const keys = selectedKeys();
  if (!keys.length || keys.length > BULK_MAX) return;
  try {
    const answer = await api("/verdicts/bulk", {}, {
      method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ object_keys: keys, label, present, reviewer }),
    });
    grid.querySelectorAll("input[data-testid=select-image]:checked")
      .forEach((box) => { box.checked = false; });
    countSelected();
    say(`${answer.recorded.length} verdicts recorded`);
  } catch (error) {
    say(`verdicts not saved: ${error.message}`, true);
  }
}

more.addEventListener("click", loadMore);

restart(read());
