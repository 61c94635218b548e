// Offbrand's small progressive enhancements. Every page works without this
// script; it is a static file, so the Content-Security-Policy allows it.
"use strict";

function plural(count, unit) {
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

function waitText(seconds) {
  if (seconds >= 60) {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    return rest ? `${plural(minutes, "minute")} ${plural(rest, "second")}` : plural(minutes, "minute");
  }
  return plural(seconds, "second");
}

// The phone menu.
function setUpMenu() {
  const toggle = document.querySelector(".nav-toggle");
  const menu = document.getElementById("nav-menu");
  if (!toggle || !menu) return;
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    menu.classList.toggle("open", !open);
  });
}

// The avatar menu (a <details>): Escape and a click elsewhere close it.
function setUpAccountMenu() {
  document.querySelectorAll(".account-menu").forEach((details) => {
    document.addEventListener("click", (event) => {
      if (details.open && !details.contains(event.target)) details.open = false;
    });
    details.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && details.open) {
        details.open = false;
        details.querySelector("summary").focus();
      }
    });
  });
}

// The error summary takes focus on load, so it is read first; its links
// move focus to the field they name (GOV.UK Design System's behaviour).
function setUpErrorSummary() {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.querySelectorAll("a[href^='#']").forEach((link) => {
    link.addEventListener("click", (event) => {
      const field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      const label = document.querySelector(`label[for="${field.id}"]`) || field;
      label.scrollIntoView();
      field.focus({ preventScroll: true });
    });
  });
}

// Show-password toggles beside password inputs.
function setUpPasswordToggles() {
  document.querySelectorAll("[data-password-input]").forEach((wrapper) => {
    const input = wrapper.querySelector("input");
    if (!input) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "password-toggle";
    button.textContent = "Show";
    button.setAttribute("aria-controls", input.id);
    button.setAttribute("aria-label", "Show password");
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    button.addEventListener("click", () => {
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-label", show ? "Hide password" : "Show password");
      status.textContent = show ? "Your password is visible" : "Your password is hidden";
    });
    // Never send a visible password as text the browser might remember.
    const form = input.form;
    if (form) form.addEventListener("submit", () => { input.type = "password"; });
    wrapper.append(button, status);
  });
}

// A rate limit counts down while the page is open; the button waits for it.
function setUpCountdowns() {
  document.querySelectorAll("[data-retry-after]").forEach((notice) => {
    let seconds = parseInt(notice.dataset.retryAfter, 10);
    const text = notice.querySelector("[data-countdown]");
    if (!text || !(seconds > 0)) return;
    const container = notice.closest("section, main") || document;
    const buttons = [...container.querySelectorAll("form button[type=submit]")];
    buttons.forEach((button) => { button.disabled = true; });
    const timer = window.setInterval(() => {
      seconds -= 1;
      if (seconds > 0) {
        text.textContent = waitText(seconds);
        return;
      }
      window.clearInterval(timer);
      text.closest("p").textContent = "You can try again now.";
      buttons.forEach((button) => { button.disabled = false; });
    }, 1000);
  });
}

// A preview of the photo a member picked, before they save it.
function setUpAvatarPreview() {
  document.querySelectorAll("[data-avatar-preview]").forEach((image) => {
    const input = document.getElementById(image.dataset.avatarPreview);
    if (!input) return;
    input.addEventListener("change", () => {
      const [file] = input.files;
      if (!file || !file.type.startsWith("image/")) return;
      const reader = new FileReader();  // a data: URL, which the CSP allows
      reader.addEventListener("load", () => {
        image.src = reader.result;
        image.alt = "Preview of your new photo";
      });
      reader.readAsDataURL(file);
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpMenu();
  setUpAccountMenu();
  setUpErrorSummary();
  setUpPasswordToggles();
  setUpCountdowns();
  setUpAvatarPreview();
  document.querySelectorAll(".message-dismiss").forEach((button) => {
    button.addEventListener("click", () => button.closest(".message").remove());
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
