// The page's calls to the public predq API: retries, uploads in jobs, long-polls.
// The same rules as the Python client (client/client.py), so the two behave alike.

const RETRY_STATUSES = new Set([0, 429, 503]); // 0: the connection failed
const MAX_RETRIES = 5;
const MAX_BACKOFF_S = 30;
// Refusals about one image of an upload rather than the request: split the upload to find it.
const IMAGE_REFUSALS = new Set(["invalid_image", "image_too_large"]);
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** An answer that is not a success, with the server's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

/** True once a job document will not change any more. */
export function isTerminal(job) {
  return TERMINAL.has(job.status);
}

/** A predq server at this page's origin, called with `apiKey` when it is set. */
export class Api {
  constructor(apiKey) {
    this.apiKey = apiKey;
  }

  /** The model catalog: every model with its latest manifest. */
  async models() {
    return (await this.request("GET", "/v1/models")).models;
  }

  /**
   * One job for `items` (objects with `file` and `path`); when the server refuses
   * one of them (not a PNG or JPEG, too large) the upload is halved until each
   * refused image is alone with its error. Resolves to `[{items, job} | {items, error}]`.
   * `onUpload(items, fraction)` follows each request's upload.
   */
  async submitImages(model, items, onUpload) {
    const form = new FormData();
    for (const item of items) form.append("image", item.file, item.path);
    const path = `/v1/models/${encodeURIComponent(model)}/jobs`;
    // One key for the request and its retries: a retried submit never makes a second job.
    const headers = { "Idempotency-Key": randomKey() };
    try {
      const job = await this.request("POST", path, {
        body: form, headers, onUpload: (fraction) => onUpload(items, fraction),
      });
      return [{ items, job }];
    } catch (error) {
      if (!(error instanceof ApiError) || !(error.status === 413 || IMAGE_REFUSALS.has(error.code))) {
        throw error;
      }
      if (items.length === 1) return [{ items, error: { code: error.code, message: error.detail } }];
      const half = Math.floor(items.length / 2);
      const first = await this.submitImages(model, items.slice(0, half), onUpload);
      return first.concat(await this.submitImages(model, items.slice(half), onUpload));
    }
  }

  /** The job, once terminal or after `seconds` (a long-poll). */
  waitJob(jobId, seconds) {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(jobId)}?wait=${seconds}`);
  }

  /** The JSON body of a 2xx answer; retries 429, 503 and lost connections. */
  async request(method, path, { body = null, headers = {}, onUpload = null } = {}) {
    const auth = this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {};
    for (let attempt = 0; ; attempt++) {
      const answer = await send(method, path, body, { ...auth, ...headers }, onUpload);
      if (answer.status >= 200 && answer.status < 300) return answer.body;
      if (!RETRY_STATUSES.has(answer.status) || attempt >= MAX_RETRIES) throw toError(answer);
      await new Promise((resolve) => setTimeout(resolve, backoff(answer, attempt) * 1000));
    }
  }
}

// XMLHttpRequest rather than fetch: fetch reports no upload progress.
function send(method, path, body, headers, onUpload) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onUpload) {
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onUpload(event.loaded / event.total);
      };
    }
    xhr.onload = () => resolve({
      status: xhr.status, body: parseJson(xhr.responseText), retryAfter: xhr.getResponseHeader("Retry-After"),
    });
    xhr.onerror = () => resolve({ status: 0, body: null, retryAfter: null });
    xhr.send(body);
  });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function toError(answer) {
  const error = answer.body && answer.body.error;
  if (error) return new ApiError(answer.status, error.code, error.message);
  if (answer.status === 0) return new ApiError(0, "connection_failed", "the server could not be reached");
  return new ApiError(answer.status, `http_${answer.status}`, "the server gave an unexpected answer");
}

function backoff(answer, attempt) {
  const told = Number(answer.retryAfter);
  const seconds = answer.retryAfter !== null && Number.isFinite(told) ? told : 0.5 * 2 ** attempt;
  return Math.min(Math.max(seconds, 0), MAX_BACKOFF_S);
}

// crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
