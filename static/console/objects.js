// The object browser's behaviour (CSP: no inline script): copy a share link.
"use strict";

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
