// The object browser's behaviour (CSP: no inline script): copy a share link, and tell the upload panel whether a
// key already exists (window.kinkoObjectExists(key) → Promise<boolean>, backed by GET <bucket>/exists/?key=).
"use strict";

window.kinkoObjectExists = async function kinkoObjectExists(key) {
  const section = document.getElementById("upload");
  if (!section || !section.dataset.existsUrl) return false;
  const response = await fetch(`${section.dataset.existsUrl}?${new URLSearchParams({ key })}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(`exists check failed: HTTP ${response.status}`);
  return (await response.json()).exists === true;
};

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = document.querySelector(button.dataset.copy);
      const status = document.getElementById("copy-status");
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
      } catch (error) {
        document.execCommand("copy"); // no clipboard permission (plain HTTP): copy the selection instead
      }
      if (status) status.textContent = button.dataset.copied;
    });
  });
  const size = document.getElementById("page-size");
  if (size) size.addEventListener("change", () => size.form.submit());
});
