// The filter form, and the scope fields (window, camera, detector) every page shares:
// written once here, so their names, defaults and options are the same on every page.
import { api, el } from "./common.js";

const WINDOWS = {
  "2h": ["last 2 hours", 2 * 3600],
  "24h": ["last 24 hours", 24 * 3600],
  "7d": ["last 7 days", 7 * 86400],
  "30d": ["last 30 days", 30 * 86400],
  all: ["all time", null],
};

/** since/until (ISO 8601 with offset) for a window preset, as the API wants them; none for
 * all time. */
export function windowRange(preset) {
  const seconds = WINDOWS[preset]?.[1];
  if (!seconds) return {};
  const until = new Date();
  return { since: new Date(until - seconds * 1000).toISOString(), until: until.toISOString() };
}

/** The window in a sentence: "in the last 2 hours", "over all time". */
export function windowText(preset) {
  const [text, seconds] = WINDOWS[preset] ?? WINDOWS.all;
  return seconds ? `in the ${text}` : `over ${text}`;
}

const SCOPE_OPTIONS = {
  window: async () => Object.entries(WINDOWS).map(([preset, [text]]) => [preset, text]),
  camera: cameraOptions,
  detector: detectorOptions,
};
const SCOPE_LABELS = { window: "Window", camera: "Camera", detector: "Detector" };
const SCOPE_DEFAULTS = { window: "all", camera: "", detector: "" };

/** The named scope fields ("window", "camera", "detector"), by name, for filters(): each
 * page places the ones its questions take among its own fields. Only the option lists
 * asked for are fetched, side by side. `defaults` overrides a field's default where a
 * page's question has its own (the overview: the last 2 hours). */
export async function scopeFields(names, defaults = {}) {
  const options = await Promise.all(names.map((name) => SCOPE_OPTIONS[name]()));
  return Object.fromEntries(names.map((name, i) => [name, {
    name, label: SCOPE_LABELS[name], value: defaults[name] ?? SCOPE_DEFAULTS[name],
    options: options[i],
  }]));
}

/** A camera option list: all cameras first. */
async function cameraOptions() {
  const cameras = await api("/cameras");
  return [["", "all cameras"], ...cameras.map((c) => [c.camera, c.camera])];
}

/** A detector option list: every detector first (names from a bounded scan). */
async function detectorOptions() {
  const { detectors } = await api("/detectors");
  return [["", "all detectors"], ...detectors.map((d) => [d.detector, d.detector])];
}

/** The filter form: fields from the URL's query (so links and reloads keep them). */
export function filters(fields, onChange) {
  const form = document.getElementById("filters");
  const query = new URLSearchParams(location.search);
  for (const field of fields) {
    const value = query.get(field.name) ?? field.value ?? "";
    const input = field.options
      ? el("select", { name: field.name },
           field.options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)))
      : el("input", { name: field.name, type: field.type ?? "text", value, min: field.min,
                      max: field.max, step: field.step, placeholder: field.placeholder });
    form.append(el("label", {}, field.label, input));
  }
  const read = () => Object.fromEntries(new FormData(form).entries());
  form.addEventListener("change", () => {
    const values = read();
    history.replaceState(null, "", `?${new URLSearchParams(values)}`);
    onChange(values);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  return read;
}
