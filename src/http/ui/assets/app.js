// linkedin-scim Account Center: copy buttons, the auto-assign toggle, confirmations and
// the live activity log. Plain JavaScript; every page works without it.
"use strict";

function copyFrom(button) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, () => { field.select(); document.execCommand("copy"); done(); });
  } else {
    field.select();
    document.execCommand("copy");
    done();
  }
}

// Auto-assign off: only user data syncs, so the instance and license type are not sent.
function autoAssign() {
  const toggle = document.getElementById("auto-assign");
  if (!toggle) return;
  const instance = document.getElementById("config-instance");
  const licenseType = document.getElementById("config-license-type");
  const sync = () => {
    for (const el of document.querySelectorAll("[data-auto-assign]")) el.disabled = !toggle.checked;
  };
  // Offer only the license types of the chosen instance.
  const filter = () => {
    let first = null;
    for (const option of licenseType.options) {
      const mine = option.dataset.instance === instance.value;
      option.hidden = !mine;
      option.disabled = !mine;
      if (mine && first === null) first = option;
    }
    if (licenseType.selectedOptions.length === 0 || licenseType.selectedOptions[0].disabled) {
      if (first) first.selected = true;
    }
  };
  toggle.addEventListener("change", sync);
  if (instance && licenseType) {
    instance.addEventListener("change", filter);
    filter();
  }
  sync();
}

function liveActivity() {
  const rows = document.getElementById("activity-rows");
  if (!rows) return;
  const url = rows.dataset.refresh;
  const poll = async () => {
    if (document.hidden) return;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) {
        const html = await response.text();
        if (html !== rows.innerHTML) rows.innerHTML = html;
      }
    } catch (_) { /* the server restarted: try again next time */ }
  };
  setInterval(poll, 2000);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (button) copyFrom(button);
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  const ask = form.dataset.confirm || (event.submitter && event.submitter.form && event.submitter.form.dataset.confirm);
  if (ask && !window.confirm(ask)) event.preventDefault();
});
document.addEventListener("DOMContentLoaded", () => {
  autoAssign();
  liveActivity();
});
