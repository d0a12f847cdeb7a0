// Images: a filtered gallery, newest first; more load as you scroll; full size on click.
import {
  api, belowToggle, boxLegend, boxOutlines, el, labelsByDetector, LatestLoad, stampedTime,
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
content.append(total, grid, more, lightbox);
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
    el("img", { src: image.url, alt: image.object_key, loading: "lazy",
                onclick: () => enlarge(image) }),
    el("figcaption", {}, el("strong", {}, image.camera), " ",
       stampedTime(image.captured_at), labelsByDetector(image, query.detector)));
}

// Full size, with every detector's boxes drawn over the image (the filtered one's alone).
function enlarge(image) {
  const threshold = Number(query.min_confidence || BOX_THRESHOLD);
  const shown = { only: query.detector, thresholdOf: () => threshold };
  const stage = el("div", { class: "boxed", "data-testid": "image-boxes" },
    el("img", { src: image.url, alt: image.object_key }), boxOutlines(image, shown));
  lightbox.replaceChildren(stage, belowToggle(stage, `below ${threshold}`),
                           boxLegend(image, shown), el("p", {}, image.object_key));
  lightbox.showModal();
}

more.addEventListener("click", loadMore);

restart(read());
