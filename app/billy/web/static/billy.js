// Billy's only script, and a small one: live state on the dashboard, slider numbers, live logs, the microphone
// meter, confirmations.
// Every page works without it (forms post and reload); this just keeps things up to date.
"use strict";

function liveDashboard() {
  const state = document.getElementById("state");
  const turns = document.getElementById("turns");
  if (!state || !window.EventSource) return;
  const volume = document.getElementById("volume");
  const button = document.getElementById("button");
  const events = new EventSource("/events");
  events.onmessage = (message) => {
    const status = JSON.parse(message.data);
    state.textContent = status.state;
    state.dataset.state = status.state;
    if (volume && status.volume !== undefined && status.volume !== null) volume.textContent = status.volume;
    if (button && status.button_pressed !== null) button.textContent = status.button_pressed ? "pressed" : "released";
    if (turns && String(status.turns) !== turns.dataset.count) {
      turns.dataset.count = String(status.turns);
      fetch("/dashboard/turns").then((r) => r.text()).then((html) => { turns.innerHTML = html; });
    }
  };
}

function loadFragments() {
  for (const element of document.querySelectorAll("[data-src]")) {
    fetch(element.dataset.src).then((r) => r.text()).then((html) => { element.innerHTML = html; });
  }
}

function sliders() {
  for (const input of document.querySelectorAll("input[type=range][data-output]")) {
    const output = document.getElementById(input.dataset.output);
    input.addEventListener("input", () => { output.textContent = input.value; });
  }
}

function liveLogs() {
  const log = document.getElementById("log");
  if (!log || !window.EventSource) return;
  const events = new EventSource(log.dataset.stream);
  events.onmessage = (message) => {
    const line = JSON.parse(message.data);
    const span = document.createElement("span");
    span.className = "level-" + line.level;
    span.textContent = `${line.time} ${line.unit} ${line.level}: ${line.message}\n`;
    log.appendChild(span);
    log.scrollTop = log.scrollHeight;
  };
}

function micMeter() {
  const meter = document.getElementById("mic-level");
  if (!meter || !window.EventSource) return;
  const reading = document.getElementById("mic-reading");
  const events = new EventSource(meter.dataset.stream);
  events.onmessage = (message) => {
    const answer = JSON.parse(message.data);
    if (answer.error !== undefined) {
      reading.textContent = answer.error;
      return;
    }
    meter.value = answer.level;
    reading.textContent = answer.level.toFixed(3);
  };
}

function confirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  liveDashboard();
  loadFragments();
  sliders();
  liveLogs();
  micMeter();
  confirmations();
});
