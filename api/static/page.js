// The page: pick or drop a folder, upload it in jobs, follow the jobs, show the grid.
import { Api, ApiError, isTerminal } from "./api.js";
import { Item, looksLikeImage, toCsv } from "./results.js";

const KEY_STORAGE = "predq.apiKey";
// Short long-polls, so the bar and the grid move as a job's chunks finish.
const POLL_SECONDS = 2;

const $ = (id) => document.getElementById(id);
const app = $("app");
let running = false;
let items = [];
let notice = ""; // what the user must do, shown after the summary

/** Submissions made by the upload loop, read in order by the loop that follows jobs. */
class Channel {
  constructor() {
    this.queue = [];
    this.closed = false;
    this.wake = null;
  }
  push(value) {
    this.queue.push(value);
    this.notify();
  }
  close() {
    this.closed = true;
    this.notify();
  }
  notify() {
    if (this.wake) this.wake();
    this.wake = null;
  }
  async *[Symbol.asyncIterator]() {
    for (;;) {
      if (this.queue.length) yield this.queue.shift();
      else if (this.closed) return;
      else await new Promise((resolve) => { this.wake = resolve; });
    }
  }
}

function api() {
  return new Api($("api-key").value.trim() || null);
}

function setStatus(text) {
  $("status").textContent = text;
}

function showBar(name, done, total) {
  $(`${name}-bar`).max = Math.max(total, 1);
  $(`${name}-bar`).value = done;
  $(`${name}-count`).textContent = `${Math.floor(done)} / ${total}`;
}

async function loadModels() {
  const select = $("model");
  try {
    const models = (await api().models()).filter((m) => m.latest.input_schema.kind === "image");
    if (!models.length) return setStatus("The model store holds no image model.");
    select.replaceChildren(...models.map((m) => new Option(m.name, m.name)));
    select.value = models.some((m) => m.name === app.dataset.defaultModel) ? app.dataset.defaultModel : models[0].name;
    const describe = () => {
      const m = models.find((x) => x.name === select.value).latest;
      const schema = m.input_schema;
      $("model-info").textContent =
        `version ${m.version}, ${(m.class_names || []).length} classes, input ${schema.width}×${schema.height}`;
    };
    select.onchange = describe;
    describe();
  } catch (error) {
    setStatus(`Could not load the models (${error.message}).`);
  }
}

/** Classify `files` (objects with `file` and `path`): the whole run, start to CSV. */
async function classify(files) {
  if (running || !files.length) return;
  running = true;
  notice = "";
  document.body.classList.add("busy");
  for (const input of [$("folder-input"), $("file-input")]) input.disabled = true;
  items.forEach((item) => item.dispose());
  $("download").hidden = true;
  $("progress").hidden = false;
  // Hidden files (.DS_Store and the like) are not the user's images.
  const chosen = files.filter((f) => !f.path.split("/").pop().startsWith("."));
  chosen.sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
  items = chosen.map((f) => new Item(f.file, f.path));
  const images = [];
  const cards = [];
  for (const item of items) {
    const isImage = await looksLikeImage(item.file);
    cards.push(item.render(isImage));
    if (isImage) images.push(item);
    else item.fail({ code: "not_an_image", message: "not a PNG or JPEG file; not uploaded" });
  }
  $("results").replaceChildren(...cards);
  try {
    await run(api(), $("model").value, images, Math.max(1, Number($("chunk-size").value) || 64));
  } finally {
    finish();
  }
}

async function run(client, model, images, chunkSize) {
  const submissions = new Channel();
  let uploaded = 0;
  const classifiedCount = () => images.filter((item) => item.finished).length;
  const progress = () => showBar("classify", classifiedCount(), images.length);
  showBar("upload", 0, images.length);
  progress();
  setStatus(`Uploading ${images.length} images in jobs of ${chunkSize}…`);

  const upload = async () => {
    try {
      for (let start = 0; start < images.length; start += chunkSize) {
        const chunk = images.slice(start, start + chunkSize);
        const onUpload = (part, fraction) => showBar("upload", uploaded + fraction * part.length, images.length);
        for (const submission of await client.submitImages(model, chunk, onUpload)) {
          uploaded += submission.items.length;
          showBar("upload", uploaded, images.length);
          if (submission.error) {
            submission.items.forEach((item) => item.fail(submission.error));
          } else {
            submission.items.forEach((item) => { item.submitted = true; });
            submissions.push(submission);
          }
        }
        progress();
      }
    } catch (error) {
      abandon(images.filter((item) => !item.finished && !item.submitted), error);
    } finally {
      submissions.close();
    }
  };

  const follow = async () => {
    for await (const { items: jobItems, job } of submissions) {
      try {
        for (let current = job; ; current = await client.waitJob(current.id, POLL_SECONDS)) {
          apply(jobItems, current);
          progress();
          if (isTerminal(current)) break;
        }
      } catch (error) {
        abandon(jobItems.filter((item) => !item.finished), error);
      }
    }
  };

  await Promise.all([upload(), follow()]);
}

/** Give the job's items their results so far; at the end, an error to those without. */
function apply(jobItems, job) {
  (job.result || []).forEach((entry, i) => {
    const item = jobItems[i];
    if (!entry || !item || item.finished) return;
    if (entry.error) item.fail(entry.error);
    else item.succeed(entry);
  });
  if (!isTerminal(job)) return;
  const fallback = job.error || { code: job.status, message: `job ${job.id} ended ${job.status}` };
  jobItems.filter((item) => !item.finished).forEach((item) => item.fail(fallback));
}

/** A request that failed for good: its items get the error; a 401 asks for a key. */
function abandon(lost, error) {
  const detail = error instanceof ApiError
    ? { code: error.code, message: error.detail }
    : { code: "page_error", message: String(error) };
  lost.forEach((item) => item.fail(detail));
  if (error instanceof ApiError && error.status === 401) {
    $("key-field").hidden = false;
    $("api-key").focus();
    notice = `The server wants an API key (${error.detail}): enter one and choose the files again.`;
  }
}

function finish() {
  const failed = items.filter((item) => item.error).length;
  const summary = `${items.length - failed} of ${items.length} files classified` +
    (failed ? `, ${failed} with an error.` : ".");
  setStatus(notice ? `${summary} ${notice}` : summary);
  const link = $("download");
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([toCsv(items)], { type: "text/csv" }));
  link.hidden = false;
  for (const input of [$("folder-input"), $("file-input")]) {
    input.disabled = false;
    input.value = "";
  }
  document.body.classList.remove("busy");
  running = false;
}

function picked(input) {
  return Array.from(input.files, (file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** The files of a drop, walking dropped folders. */
async function dropped(transfer) {
  // Entries must be taken before the first await: the list is emptied after the event.
  const entries = Array.from(transfer.items, (i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return Array.from(transfer.files, (file) => ({ file, path: file.name }));
  const files = [];
  const walk = async (entry) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      files.push({ file, path: entry.fullPath.replace(/^\//, "") });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return files;
}

function setUp() {
  $("settings").addEventListener("submit", (event) => event.preventDefault());
  const key = $("api-key");
  key.value = sessionStorage.getItem(KEY_STORAGE) || "";
  key.addEventListener("change", () => sessionStorage.setItem(KEY_STORAGE, key.value.trim()));
  for (const input of [$("folder-input"), $("file-input")]) {
    input.addEventListener("change", () => classify(picked(input)));
  }
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    classify(await dropped(event.dataTransfer));
  });
  loadModels();
}

setUp();
