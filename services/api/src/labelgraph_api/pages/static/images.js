// Images: a filtered gallery, newest first; more load as you scroll; full size on click.
import {
  api, boxLegend, boxOutlines, cameraOptions, detectorOptions, el, filters, guarded, labelsByDetector,
  localTime, say, WINDOWS, windowRange,
} from "./common.js";

const content = document.getElementById("content");
const total = el("p", { class: "summary", "data-testid": "shown" });
const grid = el("div", { class: "gallery", "data-testid": "gallery" });
const more = el("button", { type: "button", hidden: true }, "Load more");
const lightbox = el("dialog", { class: "lightbox", onclick: () => lightbox.close() });
content.append(total, grid, more, lightbox);
let next = null;
let query = {};

const read = filters([
  { name: "camera", label: "Camera", value: "", options: await cameraOptions() },
  { name: "label", label: "Label", value: "", placeholder: "any" },
  { name: "detector", label: "Detector", value: "", options: await detectorOptions() },
  { name: "min_confidence", label: "Min confidence", type: "number", min: 0, max: 100, step: 1 },
  { name: "max_confidence", label: "Max confidence", type: "number", min: 0, max: 100, step: 1 },
  { name: "window", label: "Window", value: "all", options: Object.entries(WINDOWS).map(([k, [t]]) => [k, t]) },
  { name: "hour", label: "Hour of day", type: "number", min: 0, max: 23, step: 1, placeholder: "any" },
], (values) => guarded(() => restart(values)));

async function restart({ window, ...values }) {
  query = { ...values, ...windowRange(window) };
  grid.replaceChildren();
  next = null;
  await loadPage();
}

async function loadPage() {
  const page = await api("/images", { ...query, cursor: next, limit: 24 });
  grid.append(...page.items.map(card));
  next = page.next_cursor;
  more.hidden = !next;
  total.textContent = `${grid.children.length} images shown${next ? " (more below)" : ""}`;
}

function card(image) {
  return el("figure", { class: "card", "data-key": image.object_key },
    el("img", { src: image.url, alt: image.object_key, loading: "lazy",
                onclick: () => enlarge(image) }),
    el("figcaption", {}, el("strong", {}, image.camera), " ",
       localTime(image.captured_at), labelsByDetector(image, query.detector)));
}

// Full size, with every detector's boxes drawn over the image (the filtered one's alone).
function enlarge(image) {
  lightbox.replaceChildren(
    el("div", { class: "boxed", "data-testid": "image-boxes" },
       el("img", { src: image.url, alt: image.object_key }), boxOutlines(image, query.detector)),
    boxLegend(image, query.detector), el("p", {}, image.object_key));
  lightbox.showModal();
}

more.addEventListener("click", () => guarded(loadPage));
// Infinite scroll: the button doubles as the sentinel that loads the next page.
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting) && next) loadPage().catch((e) => say(e.message, true));
}).observe(more);

guarded(() => restart(read()));
