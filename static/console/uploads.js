// The upload manager (templates/console/objects/_uploads.html): one panel for every upload of the page.
// Files up to data-part-bytes go up in one PUT; larger ones are sliced (Blob.slice) into parts of a multipart
// upload, one part in flight per file, so neither the browser nor the server holds a file whole. At most
// data-concurrency files upload at once. Each file has its bar, percent, speed and time left, Cancel and Retry.
"use strict";

(() => {
  const MIB = 1024 * 1024;
  const MAX_PARTS = 10000;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function encodeKey(key) {
    return key.split("/").map(encodeURIComponent).join("/");
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  function formatBytes(bytes) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
  }

  class Panel {
    constructor(section) {
      this.section = section;
      this.text = section.dataset;
      this.list = section.querySelector("#upload-progress");
      this.overall = section.querySelector("#upload-overall");
      this.overallBar = section.querySelector("#upload-overall-bar");
      this.overallText = section.querySelector("#upload-overall-text");
      this.overallRate = section.querySelector("#upload-overall-rate");
      this.refresh = section.querySelector("#upload-refresh");
      this.items = [];
      this.active = 0;
      this.reloadTimer = null;
      window.setInterval(() => this.render(), 500);
    }

    t(name, values = {}) {
      return fill(this.text[`t${name.charAt(0).toUpperCase()}${name.slice(1)}`] || name, values);
    }

    url(kind, key, query = {}) {
      const base = this.section.dataset[`url${kind}`].replace(/KEY$/, encodeKey(key));
      const params = new URLSearchParams(query);
      return params.toString() ? `${base}?${params}` : base;
    }

    encryption() {
      const sse = this.section.querySelector("#upload-sse").value;
      const kmsKey = this.section.querySelector("#upload-kms-key").value;
      const query = {};
      if (sse) query.sse = sse;
      if (sse === "cos/kms" && kmsKey) query.kms_key_id = kmsKey;
      return query;
    }

    get busy() {
      return this.items.some((item) => item.state === "queued" || item.state === "uploading");
    }

    // entries: [{file, path}] with path relative to the current folder ("a.txt", "photos/2026/b.jpg")
    async add(entries) {
      if (!entries.length) return;
      const prefix = this.section.dataset.prefix || "";
      const wanted = entries.map((entry) => ({ file: entry.file, key: prefix + entry.path, name: entry.path }));
      if (!(await this.confirmOverwrite(wanted))) return;
      window.clearTimeout(this.reloadTimer);
      const sse = this.encryption();
      for (const entry of wanted) this.items.push(new Upload(this, entry.file, entry.key, entry.name, sse));
      this.overall.hidden = false;
      this.pump();
      this.render();
    }

    async confirmOverwrite(wanted) {
      const existing = [];
      const keys = wanted.map((entry) => entry.key);
      for (let start = 0; start < keys.length; start += 1000) { // the server answers 1000 names at a time
        try {
          const response = await fetch(this.section.dataset.urlExisting, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
            body: JSON.stringify({ keys: keys.slice(start, start + 1000) }),
            credentials: "same-origin",
          });
          if (response.ok) existing.push(...(await response.json()).existing);
        } catch (error) {
          break; // the uploads themselves will say what is wrong with the connection
        }
      }
      if (!existing.length) return true;
      const prefix = this.section.dataset.prefix || "";
      const names = existing.slice(0, 20).map((key) => key.slice(prefix.length) || key);
      const more = existing.length > 20 ? [this.t("replaceMore", { n: existing.length - 20 })] : [];
      return window.confirm([this.t("replace"), ...names, ...more, "", this.t("replaceAsk")].join("\n"));
    }

    pump() {
      const limit = Math.max(1, parseInt(this.section.dataset.concurrency, 10) || 3);
      for (const item of this.items) {
        if (this.active >= limit) break;
        if (item.state === "queued") {
          this.active += 1;
          item.run().finally(() => {
            this.active -= 1;
            this.pump();
            this.finished();
          });
        }
      }
    }

    finished() {
      this.render();
      if (this.busy) return;
      const allDone = this.items.length && this.items.every((item) => item.state === "done");
      this.refresh.hidden = !this.items.some((item) => item.state === "done");
      // Every file arrived: show them in the list. Anything failed or cancelled stays on screen to act on.
      if (allDone) this.reloadTimer = window.setTimeout(() => window.location.reload(), 600);
    }

    render() {
      if (!this.items.length) return;
      const counted = this.items.filter((item) => item.state !== "cancelled");
      const total = counted.reduce((sum, item) => sum + item.file.size, 0);
      const sent = counted.reduce((sum, item) => sum + item.sent, 0);
      const speed = counted.reduce((sum, item) => sum + (item.state === "uploading" ? item.speed() : 0), 0);
      const allDone = counted.length > 0 && counted.every((item) => item.state === "done");
      const percent = allDone ? 100 : total ? Math.min(99, Math.floor((100 * sent) / total)) : 0;
      this.overallBar.value = percent;
      const done = counted.filter((item) => item.state === "done").length;
      const failed = this.items.filter((item) => item.state === "failed").length;
      let summary = this.t("overall", { done, total: counted.length });
      if (failed) summary += ` · ${this.t("failedCount", { failed })}`;
      if (this.overallText.textContent !== summary) this.overallText.textContent = summary; // a live region
      this.overallRate.textContent = this.busy ? this.status(percent, speed, total - sent) : "";
      for (const item of this.items) item.render();
    }

    status(percent, speed, remaining) {
      return this.t("status", {
        percent: `${percent}%`,
        speed: speed > 0 ? formatBytes(speed) : "—",
        left: speed > 0 ? this.duration(remaining / speed) : "—",
      });
    }

    duration(seconds) {
      const s = Math.max(0, Math.ceil(seconds));
      if (s < 60) return this.t("seconds", { s });
      if (s < 3600) return this.t("minutes", { m: Math.floor(s / 60), s: s % 60 });
      return this.t("hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
    }
  }

  // Free the parts the server has of a cancelled upload; one already gone is gone.
  function abortOnServer(panel, key, uploadId) {
    fetch(panel.url("Multipart", key, { upload_id: uploadId }), {
      method: "DELETE",
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    }).catch(() => {});
  }

  class Failure extends Error {
    constructor(code, reason) {
      super(reason);
      this.code = code;
      this.reason = reason;
    }
  }

  class Upload {
    constructor(panel, file, key, name, sse) {
      this.panel = panel;
      this.file = file;
      this.key = key;
      this.name = name;
      this.sse = sse;
      this.state = "queued";
      this.sent = 0; // bytes the server has, or that are on their way in the current request
      this.uploadId = null;
      this.parts = []; // [{part_number, etag}] stored so far
      this.xhr = null;
      this.reason = "";
      this.build();
    }

    build() {
      const item = document.createElement("li");
      item.className = "queued";
      item.dataset.key = this.key;
      const label = document.createElement("span");
      label.className = "upload-name";
      label.textContent = this.name;
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.dataset.file = this.name;
      bar.setAttribute("aria-label", this.name);
      const status = document.createElement("span");
      status.className = "upload-status";
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "upload-cancel";
      cancel.textContent = this.panel.t("cancel");
      cancel.setAttribute("aria-label", this.panel.t("cancelName", { name: this.name }));
      cancel.addEventListener("click", () => this.cancel());
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "upload-retry";
      retry.textContent = this.panel.t("retry");
      retry.setAttribute("aria-label", this.panel.t("retryName", { name: this.name }));
      retry.hidden = true;
      retry.addEventListener("click", () => this.retry());
      item.append(label, bar, status, cancel, retry);
      Object.assign(this, { item, bar, statusText: status, cancelButton: cancel, retryButton: retry });
      this.panel.list.append(item);
    }

    speed() {
      const seconds = (performance.now() - this.startedAt) / 1000;
      return seconds > 0.2 ? (this.sent - this.sentAtStart) / seconds : 0;
    }

    percent() {
      if (this.state === "done") return 100;
      return this.file.size ? Math.min(99, Math.floor((100 * this.sent) / this.file.size)) : 0;
    }

    render() {
      this.item.className = this.state;
      this.bar.value = this.percent();
      this.cancelButton.hidden = !(this.state === "queued" || this.state === "uploading");
      this.retryButton.hidden = !(this.state === "failed" || this.state === "cancelled");
      const t = (name) => this.panel.t(name);
      const words = {
        queued: t("waiting"),
        done: t("done"),
        cancelled: t("cancelled"),
        failed: this.reason,
      };
      this.statusText.textContent =
        this.state === "uploading"
          ? this.panel.status(this.percent(), this.speed(), this.file.size - this.sent)
          : words[this.state];
    }

    async run() {
      this.state = "uploading";
      this.reason = "";
      this.startedAt = performance.now();
      this.sentAtStart = this.sent;
      this.render();
      try {
        const partBytes = this.partBytes();
        if (this.file.size <= partBytes && !this.uploadId) await this.putWhole();
        else await this.putInParts(partBytes);
        this.state = "done";
        this.sent = this.file.size;
      } catch (error) {
        if (this.state === "cancelled") return;
        this.state = "failed";
        this.reason = error instanceof Failure ? error.reason : this.panel.t("network");
        if (error instanceof Failure && error.code === "NoSuchUpload") {
          this.uploadId = null; // the server forgot it: a retry starts a new one
          this.parts = [];
        }
      } finally {
        this.xhr = null;
        this.render();
      }
    }

    partBytes() {
      const chosen = Math.max(MIB, parseInt(this.panel.section.dataset.partBytes, 10) || 8 * MIB);
      return Math.max(chosen, Math.ceil(this.file.size / MAX_PARTS / MIB) * MIB);
    }

    async putWhole() {
      const type = this.file.type || "application/octet-stream";
      await this.send("PUT", this.panel.url("Object", this.key, this.sse), this.file, type, 0);
    }

    async putInParts(partBytes) {
      if (!this.uploadId) {
        const query = { ...this.sse, content_type: this.file.type || "application/octet-stream" };
        const started = (await this.send("POST", this.panel.url("Multipart", this.key, query), null)).upload_id;
        if (this.state === "cancelled") {
          abortOnServer(this.panel, this.key, started); // cancelled while it was being started
          throw new Error("abort");
        }
        this.uploadId = started;
        this.parts = [];
      }
      const count = Math.max(1, Math.ceil(this.file.size / partBytes));
      for (let number = 1; number <= count; number += 1) {
        if (this.state === "cancelled") throw new Error("abort");
        if (this.parts.some((part) => part.part_number === number)) continue;
        const start = (number - 1) * partBytes;
        const slice = this.file.slice(start, Math.min(this.file.size, start + partBytes));
        const query = { upload_id: this.uploadId, part_number: number };
        const done = this.parts.reduce((sum, part) => sum + part.size, 0);
        const answer = await this.send("PUT", this.panel.url("Part", this.key, query), slice, "application/octet-stream", done);
        this.parts.push({ part_number: number, etag: answer.etag, size: slice.size });
      }
      this.parts.sort((a, b) => a.part_number - b.part_number);
      const listed = this.parts.map((part) => ({ part_number: part.part_number, etag: part.etag }));
      await this.send("POST", this.panel.url("Complete", this.key, { upload_id: this.uploadId }),
        JSON.stringify({ parts: listed }), "application/json", null);
      this.uploadId = null;
    }

    // One request; resolves with its JSON answer. `base` is what the server already has of the file (progress
    // adds this request's bytes to it); null for a request that carries none of the file.
    send(method, url, body, type = null, base = null) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        this.xhr = xhr;
        xhr.open(method, url);
        xhr.setRequestHeader("X-CSRFToken", csrfToken());
        if (type) xhr.setRequestHeader("Content-Type", type);
        if (base !== null) {
          this.sent = base;
          xhr.upload.addEventListener("progress", (event) => {
            if (event.lengthComputable) this.sent = base + event.loaded;
            this.render();
          });
        }
        xhr.addEventListener("load", () => {
          if (this.state === "cancelled") {
            reject(new Error("abort"));
            return;
          }
          let answer = {};
          try {
            answer = xhr.responseText ? JSON.parse(xhr.responseText) : {};
          } catch (error) {
            answer = null;
          }
          if (xhr.status >= 200 && xhr.status < 300 && answer !== null) {
            if (base !== null) this.sent = base + (body ? body.size : 0);
            resolve(answer);
          } else if (answer && answer.reason) {
            reject(new Failure(answer.code, answer.reason));
          } else if (xhr.status === 403) {
            reject(new Failure("Forbidden", this.panel.t("expired"))); // Django's CSRF refusal, not JSON
          } else {
            reject(new Failure("HTTP", this.panel.t("unknown", { status: xhr.status })));
          }
        });
        xhr.addEventListener("error", () => reject(new Error("network")));
        xhr.addEventListener("abort", () => reject(new Error("abort")));
        xhr.send(body);
      });
    }

    cancel() {
      const wasUploading = this.state === "uploading";
      this.state = "cancelled";
      if (wasUploading && this.xhr) this.xhr.abort();
      const uploadId = this.uploadId;
      this.uploadId = null;
      this.parts = [];
      this.sent = 0;
      if (uploadId) abortOnServer(this.panel, this.key, uploadId);
      this.render();
      if (!wasUploading) this.panel.finished();
    }

    retry() {
      if (this.state !== "failed" && this.state !== "cancelled") return;
      window.clearTimeout(this.panel.reloadTimer);
      this.state = "queued";
      this.reason = "";
      this.render();
      this.panel.pump();
    }
  }

  // -- picking files: the file input, a folder input (webkitdirectory) and drag and drop of files and folders --

  function readEntries(reader) {
    return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
  }

  async function walk(entry, path, found) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      found.push({ file, path: path + file.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await readEntries(reader); // a directory answers in batches until an empty one
        if (!batch.length) break;
        for (const child of batch) await walk(child, `${path}${entry.name}/`, found);
      }
    }
  }

  async function dropped(transfer) {
    const entries = Array.from(transfer.items || [])
      .map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null))
      .filter(Boolean);
    if (!entries.length) return Array.from(transfer.files).map((file) => ({ file, path: file.name }));
    const found = [];
    for (const entry of entries) await walk(entry, "", found);
    return found;
  }

  function picked(input) {
    return Array.from(input.files).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const section = document.getElementById("upload");
    if (!section) return;
    const panel = new Panel(section);
    for (const id of ["upload-files", "upload-folder"]) {
      const input = document.getElementById(id);
      input.addEventListener("change", () => {
        const entries = picked(input);
        input.value = "";
        panel.add(entries);
      });
    }
    const zone = document.getElementById("dropzone");
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", async (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      panel.add(await dropped(event.dataTransfer));
    });
    window.addEventListener("beforeunload", (event) => {
      if (!panel.busy) return undefined;
      event.preventDefault();
      event.returnValue = panel.t("leave"); // browsers show their own words; this only asks them to ask
      return event.returnValue;
    });
  });
})();
