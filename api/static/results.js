// The files of a run, their cards in the grid, and the CSV of their results.

const IMAGE_SIGNATURES = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], // PNG
  [0xff, 0xd8, 0xff], // JPEG
];
// The same columns as `predq classify --out`.
const CSV_COLUMNS = ["path", "label", "class_name", "confidence", "error"];

/** True when the file starts like a PNG or JPEG (what the server accepts). */
export async function looksLikeImage(file) {
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  return IMAGE_SIGNATURES.some((signature) => signature.every((byte, i) => head[i] === byte));
}

/** One file of the run and its card: pending until it gets a result or an error. */
export class Item {
  constructor(file, path) {
    this.file = file;
    this.path = path;
    this.result = null; // {label, class_name, confidence}
    this.error = null; // {code, message}
    this.thumbnail = null;
    this.card = null;
    this.submitted = false; // in a job the page follows
  }

  get finished() {
    return this.result !== null || this.error !== null;
  }

  /** Build the item's card (a thumbnail only for files that look like images). */
  render(isImage) {
    const card = document.createElement("li");
    card.className = "card pending";
    card.dataset.path = this.path;
    const placeholder = document.createElement("div");
    placeholder.className = "no-preview";
    placeholder.setAttribute("aria-hidden", "true");
    placeholder.textContent = "?";
    if (isImage) {
      this.thumbnail = URL.createObjectURL(this.file);
      const img = document.createElement("img");
      img.src = this.thumbnail;
      img.loading = "lazy";
      img.decoding = "async";
      // A file that only starts like an image: no broken-image icon, no alt text overflowing.
      img.onerror = () => img.replaceWith(placeholder);
      card.append(img);
    } else {
      card.append(placeholder);
    }
    const caption = document.createElement("div");
    caption.className = "caption";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = name.title = this.path;
    const outcome = document.createElement("span");
    outcome.className = "outcome";
    outcome.textContent = "waiting…";
    caption.append(name, outcome);
    card.append(caption);
    this.card = card;
    this.describe("waiting");
    return card;
  }

  /** A prediction (a job's result entry) for this item. */
  succeed(entry) {
    const confidence = entry.probabilities ? entry.probabilities[entry.class_name] : null;
    this.result = { label: entry.label, class_name: entry.class_name, confidence: confidence ?? null };
    const outcome = this.card.querySelector(".outcome");
    outcome.replaceChildren();
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = entry.class_name ?? entry.label;
    outcome.append(label);
    if (this.result.confidence !== null) {
      const meter = document.createElement("span");
      meter.className = "confidence";
      meter.textContent = percent(this.result.confidence);
      outcome.append(meter);
    }
    this.card.className = "card done";
    this.describe(`predicted ${label.textContent}` +
      (this.result.confidence !== null ? ` (${percent(this.result.confidence)})` : ""));
  }

  /** An error for this item: `{code, message}` from the server or the page. */
  fail(error) {
    this.error = error;
    const outcome = this.card.querySelector(".outcome");
    outcome.replaceChildren();
    const text = document.createElement("span");
    text.className = "error";
    text.textContent = `${error.code}: ${error.message}`;
    outcome.append(text);
    this.card.className = "card failed";
    this.describe(`error ${error.code}: ${error.message}`);
  }

  describe(state) {
    const img = this.card.querySelector("img");
    if (img) img.alt = `${this.path}: ${state}`;
  }

  /** Free the thumbnail's object URL. */
  dispose() {
    if (this.thumbnail) URL.revokeObjectURL(this.thumbnail);
  }
}

/** The results as CSV text, one row per file in the run's order. */
export function toCsv(items) {
  const rows = [CSV_COLUMNS];
  for (const item of items) {
    const r = item.result;
    const error = item.error ? `${item.error.code}: ${item.error.message}` : "";
    const confidence = r && r.confidence !== null ? r.confidence.toFixed(4) : "";
    rows.push([item.path, r ? r.label : "", r ? r.class_name ?? "" : "", confidence, error]);
  }
  return rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}

function csvField(value) {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function percent(fraction) {
  return `${(fraction * 100).toFixed(1)}%`;
}
