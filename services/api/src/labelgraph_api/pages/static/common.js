// What every page shares: the API client with the login dialog, small DOM helpers (the
// filter form is in forms.js).

const KEY = "labelgraph-api-key";
const status = document.getElementById("status");

/** Calls a JSON route with the stored key; throws with the API's detail on failure. */
export async function api(path, params = {}, init = {}) {
  await signedIn;
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    for (const item of [value].flat()) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(name, item);
    }
  }
  const headers = { Accept: "application/json", ...(init.headers || {}) };
  const key = sessionStorage.getItem(KEY);
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(url, { ...init, headers });
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);  // revoked while the page was open: ask again on reload
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(describeError(response.status, body));
  return body;
}

function describeError(code, body) {
  const detail = body?.detail;
  if (Array.isArray(detail)) return detail.map((d) => `${d.loc?.at(-1)}: ${d.msg}`).join("; ");
  return `${code}: ${detail ?? "request failed"}`;
}

// Before any data call: the key is asked for (and checked) only if the api wants one.
const signedIn = (async () => {
  const { key_required } = await (await fetch("/ui/session")).json();
  if (!key_required) return;
  let refusal;
  while ((refusal = await refusalOf(sessionStorage.getItem(KEY))) !== null) {
    sessionStorage.setItem(KEY, await askForKey(refusal));
  }
  showLogout();
})();

/** null if the api accepts the key, else what to tell the user ("" when there is none). */
async function refusalOf(key) {
  if (!key) return "";
  const response = await fetch("/ui/session", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key }),
  });
  if (response.status === 429) {
    return `Too many refused keys from here: try again in ${response.headers.get("Retry-After")} s.`;
  }
  return (await response.json()).valid ? null : "That key was refused.";
}

function askForKey(message) {
  const dialog = document.getElementById("login");
  document.getElementById("login-error").textContent = message;
  sessionStorage.removeItem(KEY);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(document.getElementById("login-key").value),
                            { once: true });
  });
}

function showLogout() {
  const button = document.getElementById("logout");
  button.hidden = !sessionStorage.getItem(KEY);
  button.onclick = () => { sessionStorage.removeItem(KEY); location.reload(); };
}
showLogout();

/** Shows what is happening, or what went wrong, in the page's status line. */
export function say(text, isError = false) {
  status.textContent = text;
  status.className = isError ? "error" : "";
}

/** Loads of one kind, the newest wins: starting one aborts the one in flight, an answer
 * that arrives after a newer load started is never painted (an aborted fetch may still
 * resolve), and `busy` says one is in flight. The status line belongs to the newest load. */
export class LatestLoad {
  #sequence = 0;
  #controller = null;

  get busy() {
    return this.#controller !== null;
  }

  /** fetchAll(signal) answers, paint(answer) shows it; on failure clear() removes what the
   * load would have replaced, so an error never sits above stale figures. True if painted. */
  async run(fetchAll, paint, clear = () => {}) {
    this.#controller?.abort();
    const controller = new AbortController();
    const mine = ++this.#sequence;
    this.#controller = controller;
    say("Loading…");
    try {
      const answer = await fetchAll(controller.signal);
      if (mine !== this.#sequence) return false;
      paint(answer);
      say("");
      return true;
    } catch (error) {
      if (mine !== this.#sequence) return false;
      clear();
      say(error.message, true);
      return false;
    } finally {
      if (mine === this.#sequence) this.#controller = null;
    }
  }
}

// Data from the graph (camera and label names, object keys) is shown only as text: through
// el() (attributes and text nodes, never innerHTML), and escaped where a library wants HTML.
const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe to hand to anything that renders HTML (ECharts tooltip formatters). */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** A URL a page may follow or load: http(s) only, so never javascript: or data:. */
export function safeUrl(value) {
  const url = new URL(String(value), location.href);
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : "about:blank";
}

const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction"]);

/** document.createElement with attributes and children (text, not HTML) in one call. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) {
      node.setAttribute(name, URL_ATTRIBUTES.has(name) ? safeUrl(value) : value);
    }
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

const STAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A time on the clock the api gave it in, with that clock's UTC offset, never converted to
 * the reader's: "2016-11-30 23:30:05 -08:00"; a dash when the api had none to give. */
export function stampedTime(value) {
  if (!value) return "–";
  const parts = STAMP.exec(value);
  if (!parts) return String(value);
  const [, date, time, offset] = parts;
  return `${date} ${time} ${offset === "Z" ? "+00:00" : offset}`;
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`;
}

/** An ECharts chart in a sized box; re-used across reloads of the same page. */
export function chart(container) {
  const box = el("div", { class: "chart" });
  container.append(box);
  const instance = echarts.init(box);
  addEventListener("resize", () => instance.resize());
  return instance;
}

/** A small table: headers, then rows of cells; data-testid on the table for tests. */
export function table(testid, headers, rows) {
  return el("table", { "data-testid": testid },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell))))));
}

/** A link to the image gallery with the given filters. */
export function galleryHref(params) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  return `/ui/images?${query}`;
}

/** An image's labels, one list per detector (each labelling side by side), as text; with
 * `only`, that detector's list alone (the api then sent only its labels). */
export function labelsByDetector(image, only = "") {
  const names = only ? [only] : image.detectors ?? [];
  const lists = new Map(names.map((name) => [name, []]));
  for (const label of image.labels) {
    const name = label.detector ?? "unknown detector";
    if (!lists.has(name)) lists.set(name, []);
    lists.get(name).push(label);
  }
  return el("div", { class: "by-detector" }, [...lists].map(([name, labels]) =>
    el("div", { class: "detector-labels", "data-detector": name },
      el("span", { class: "detector-name" }, name),
      labels.length
        ? el("ul", {}, labels.map((l) =>
            el("li", {}, `${l.name} `, el("span", { class: "confidence" }, l.confidence.toFixed(1)))))
        : el("p", { class: "confidence" }, "no labels"))));
}

// One colour per detector on every page and every load: the demo's and AWS's detectors have
// fixed ones, any other name one picked by a hash of the name, never by which detector a page
// happened to meet first. White text on each has a contrast of at least 4.5:1 (the captions).
const DETECTOR_COLOURS = {
  "aws-rekognition": "#c62828",
  "rekognition-stand-in": "#ad1457",
  "ssd-mobilenet-v2-coco": "#1565c0",
  "opencv-hog": "#2e7d32",
};
const OTHER_COLOURS = ["#6a1b9a", "#bf360c", "#00695c", "#4e342e", "#283593", "#37474f"];

function nameHash(name) {
  let hash = 0;
  for (const character of name) hash = (hash * 31 + character.codePointAt(0)) >>> 0;
  return hash;
}

/** The colour of a detector's boxes and of its entry in the legend. */
export function detectorColour(name) {
  return DETECTOR_COLOURS[name] ?? OTHER_COLOURS[nameHash(name) % OTHER_COLOURS.length];
}

/** The image's detectors and labels with their boxes, in the order labelsByDetector uses. */
function boxesOf(image, only) {
  const detectors = new Set(only ? [only] : image.detectors ?? []);
  for (const label of image.labels) detectors.add(label.detector ?? "unknown detector");
  return [...detectors].map((detector) => [detector, image.labels.filter(
    (label) => (label.detector ?? "unknown detector") === detector && label.boxes?.length)]);
}

/** Outlines over an image, one per located instance, placed in percent of the image so
 * they follow it at any size; each says its label and confidence as text. A box below its
 * detector's threshold (thresholdOf(detector)) is drawn hidden, until belowToggle shows it:
 * a detector reporting down to 5% would hide the image under dozens of boxes. */
export function boxOutlines(image, { only = "", thresholdOf = () => 0 } = {}) {
  return boxesOf(image, only).flatMap(([detector, labels]) => labels.flatMap((label) =>
    label.boxes.map((box) => outline(detector, label.name, box, thresholdOf(detector)))));
}

function outline(detector, name, box, threshold) {
  const caption = `${name} ${box.confidence.toFixed(1)}`;
  // A caption grows away from the nearer edges of the image, so no edge clips it: from the
  // box's right side in the right half, above the box in the lower half.
  const end = box.left + box.width / 2 > 0.5;
  const above = box.top > 0.5;
  const drawn = el("div", { class: `box${box.confidence < threshold ? " below" : ""}`,
                            "data-detector": detector, "data-label": name,
                            title: `${detector}: ${caption}` },
    el("span", { class: `box-caption${end ? " end" : ""}${above ? " above" : ""}` }, caption));
  Object.assign(drawn.style, {
    left: `${box.left * 100}%`, top: `${box.top * 100}%`,
    width: `${box.width * 100}%`, height: `${box.height * 100}%`,
    borderColor: detectorColour(detector),
  });
  drawn.firstChild.style.background = detectorColour(detector);
  return drawn;
}

/** A button showing or hiding the stage's boxes below the threshold ("below 90"); null when
 * every box is at or above it. */
export function belowToggle(stage, below) {
  const count = stage.querySelectorAll(".box.below").length;
  if (!count) return null;
  const boxes = `${count} ${count === 1 ? "box" : "boxes"} ${below}`;
  const button = el("button", { type: "button", class: "below-toggle",
                                "data-testid": "below-toggle" }, `Show ${boxes}`);
  button.addEventListener("click", () => {
    const showing = stage.classList.toggle("show-below");
    button.textContent = `${showing ? "Hide" : "Show"} ${boxes}`;
  });
  return button;
}

/** Which colour is which detector, with how many boxes each drew at or above its threshold
 * on this image (and how many it keeps below). */
export function boxLegend(image, { only = "", thresholdOf = () => 0 } = {}) {
  return el("ul", { class: "box-legend", "data-testid": "box-legend" },
    boxesOf(image, only).map(([detector, labels]) => {
      const boxes = labels.flatMap((label) => label.boxes);
      const below = boxes.filter((box) => box.confidence < thresholdOf(detector)).length;
      const shown = boxes.length - below;
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = detectorColour(detector);
      return el("li", { "data-detector": detector }, swatch,
                `${detector}: ${shown} ${shown === 1 ? "box" : "boxes"}` +
                (below ? ` (${below} below ${thresholdOf(detector)})` : ""));
    }));
}
