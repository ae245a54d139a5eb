// Fleet dashboard: ask before sending a command, and follow queued commands to done/failed.
"use strict";

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

const commandTable = document.getElementById("command-table");
if (commandTable) {
  const labels = {};
  const template = document.getElementById("command-state-labels");
  if (template) {
    template.content.querySelectorAll("[data-code]").forEach((el) => {
      labels[el.dataset.code] = el.textContent;
    });
  }
  const pending = () =>
    commandTable.querySelectorAll('.cmd-state[data-state="queued"], .cmd-state[data-state="sent"]').length;
  const refresh = async () => {
    const url = `/api/v1/kiosks/${encodeURIComponent(commandTable.dataset.kiosk)}/commands`;
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    for (const command of await response.json()) {
      const row = commandTable.querySelector(`tr[data-command="${command.id}"]`);
      if (!row) continue;
      const state = row.querySelector(".cmd-state");
      if (state.dataset.state !== command.state) {
        state.dataset.state = command.state;
        state.className = `cmd-state cmd-${command.state}`;
        state.textContent = labels[command.state] || command.state;
        row.querySelector(".cmd-result").textContent = command.result;
      }
    }
  };
  const timer = window.setInterval(() => {
    if (pending() === 0) { window.clearInterval(timer); return; }
    refresh().catch(() => {});
  }, 3000);
}
