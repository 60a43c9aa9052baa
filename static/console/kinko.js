// Kinko console behaviour. No inline scripts (the CSP forbids them): everything hangs off data attributes.
"use strict";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function encodeKey(key) {
  return key.split("/").map(encodeURIComponent).join("/");
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
});
