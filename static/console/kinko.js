// Kinko console behaviour. No inline scripts (the CSP forbids them): everything hangs off data attributes.
"use strict";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function encodeKey(key) {
  return key.split("/").map(encodeURIComponent).join("/");
}

function uploadFile(section, file, list) {
  const bucket = section.dataset.bucket;
  const key = (section.dataset.prefix || "") + file.name;
  const sse = document.getElementById("upload-sse").value;
  const kmsKey = document.getElementById("upload-kms-key").value;
  const params = new URLSearchParams();
  if (sse) params.set("sse", sse);
  if (sse === "cos/kms" && kmsKey) params.set("kms_key_id", kmsKey);
  const item = document.createElement("li");
  const label = document.createElement("span");
  const bar = document.createElement("progress");
  label.textContent = file.name;
  bar.max = 100;
  bar.value = 0;
  bar.dataset.file = file.name;
  item.append(label, bar);
  list.append(item);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/v1/buckets/${encodeURIComponent(bucket)}/objects/${encodeKey(key)}?${params}`);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
    });
    xhr.addEventListener("load", () => {
      const ok = xhr.status >= 200 && xhr.status < 300;
      bar.value = ok ? 100 : bar.value;
      item.classList.add(ok ? "done" : "failed");
      if (!ok) {
        let detail = xhr.statusText;
        try { detail = JSON.parse(xhr.responseText).detail; } catch (error) { /* not JSON */ }
        label.textContent = `${file.name}: ${detail}`;
      }
      resolve(ok);
    });
    xhr.addEventListener("error", () => { item.classList.add("failed"); resolve(false); });
    xhr.send(file);
  });
}

async function uploadFiles(section, files) {
  const list = document.getElementById("upload-progress");
  const results = await Promise.all(Array.from(files).map((file) => uploadFile(section, file, list)));
  if (results.every(Boolean)) setTimeout(() => window.location.reload(), 600);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  document.querySelectorAll("[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  document.querySelectorAll("[data-select-all]").forEach((box) => {
    box.addEventListener("change", () => {
      box.closest("form").querySelectorAll('input[name="key"]').forEach((other) => { other.checked = box.checked; });
    });
  });
  document.querySelectorAll("[data-filter]").forEach((input) => {
    input.addEventListener("input", () => {
      const term = input.value.toLowerCase();
      document.querySelectorAll(`${input.dataset.filter} li`).forEach((item) => {
        item.hidden = !item.dataset.name.toLowerCase().includes(term);
      });
    });
  });
  const section = document.getElementById("upload");
  if (section) {
    const picker = document.getElementById("upload-files");
    picker.addEventListener("change", () => uploadFiles(section, picker.files));
    const zone = document.getElementById("dropzone");
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      uploadFiles(section, event.dataTransfer.files);
    });
  }
});
