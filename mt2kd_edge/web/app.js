// The demo page: the microphone (getUserMedia + an AudioWorklet) streamed to this server's WebSocket,
// and what comes back drawn as a live transcript with speakers, tag bars and an event timeline.
// Plain JS, nothing loaded from elsewhere. Query options (for tests and kiosks): ?autostart=1 starts at
// once; ?seconds=S stops after S s of audio; ?rate=HZ asks the AudioContext for that sample rate.
"use strict";

const params = new URLSearchParams(location.search);
const LIMIT_S = params.has("seconds") ? parseFloat(params.get("seconds")) : Infinity;
const PX_PER_S = 48;   // timeline scale
const NAME_PX = 120;   // the row names' column
const $ = (id) => document.getElementById(id);

// What the page has seen, for tests and the console: window.mt2kd.events holds every server message.
// With ?keep=1 the page also keeps every piece of audio it sent (window.mt2kd.sentAudio()), so a test
// can decode exactly what the server received.
const KEEP = params.get("keep") === "1";
const state = window.mt2kd = { state: "idle", events: [], sentSamples: 0, sampleRate: 0, error: null, kept: [] };
state.sentAudio = () => {  // -> {rate, pieces: [lengths], base64: little-endian float32 of them all}
  let bin = "";
  for (const piece of state.kept) {
    const bytes = new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return { rate: state.sampleRate, pieces: state.kept.map((p) => p.length), base64: btoa(bin) };
};
let ctx = null, mic = null, node = null, ws = null, speakersEnrolled = 0, clockS = 0;

function setState(s, text) {
  state.state = s;
  document.body.dataset.state = s;
  $("status").textContent = text || s;
  $("start").disabled = s === "connecting" || s === "listening" || s === "finishing";
  $("stop").disabled = s !== "listening";
}

function fmt(ms) { return (ms / 1000).toFixed(2); }

function row(key, name) {
  let r = document.querySelector(`#timeline .row[data-key="${CSS.escape(key)}"]`);
  if (!r) {
    r = document.createElement("div");
    r.className = "row";
    r.dataset.key = key;
    const label = document.createElement("span");
    label.className = "row-name";
    label.textContent = name;
    label.title = name;
    r.appendChild(label);
    $("timeline").appendChild(r);
  }
  return r;
}

function timelineItem(key, name, cls, startMs, endMs, text, data) {
  const item = document.createElement("div");
  item.className = `item ${cls}`;
  item.style.left = `${NAME_PX + (startMs / 1000) * PX_PER_S}px`;
  item.style.width = `${Math.max(3, ((endMs - startMs) / 1000) * PX_PER_S)}px`;
  item.textContent = text;
  item.title = `${text} ${fmt(startMs)}-${fmt(endMs)} s`;
  Object.assign(item.dataset, { startMs, endMs, ...data });
  row(key, name).appendChild(item);
}

function advanceClock(ms) {
  clockS = Math.max(clockS, ms / 1000);
  $("clock").textContent = `${clockS.toFixed(1)} s of audio`;
  const width = NAME_PX + (clockS + 4) * PX_PER_S;
  $("timeline").style.width = `${width}px`;
  let now = document.querySelector("#timeline .now");
  if (!now) {
    now = document.createElement("div");
    now.className = "now";
    $("timeline").appendChild(now);
  }
  now.style.left = `${NAME_PX + clockS * PX_PER_S}px`;
  const scroll = $("timeline-scroll");
  scroll.scrollLeft = Math.max(0, width - scroll.clientWidth);
}

function onEvent(e) {
  state.events.push(e);
  switch (e.type) {
    case "ready":
      speakersEnrolled = e.speakers.length;
      return;
    case "partial":
      $("partial").textContent = e.text ? `… ${e.text}` : "";
      advanceClock(e.end_ms);
      return;
    case "final": {
      const li = document.createElement("li");
      const who = e.speaker || "unknown";
      Object.assign(li.dataset, { speaker: who, startMs: e.start_ms, endMs: e.end_ms, text: e.text });
      li.innerHTML = `<span class="when"></span><span class="who"></span> <span class="text"></span>`;
      li.querySelector(".when").textContent = `${fmt(e.start_ms)}-${fmt(e.end_ms)}`;
      li.querySelector(".who").textContent = who;
      li.querySelector(".text").textContent = e.text;
      $("transcript").appendChild(li);
      $("transcript").scrollTop = $("transcript").scrollHeight;
      $("partial").textContent = "";
      if (!speakersEnrolled) timelineItem("turns", "speaker", "turn", e.start_ms, e.end_ms, who, { speaker: who });
      advanceClock(e.end_ms);
      return;
    }
    case "speaker": {
      const who = e.name || "unknown";
      $("speaker").innerHTML = "";
      $("speaker").append(who, " ");
      const score = document.createElement("small");
      score.textContent = `(${e.score.toFixed(2)})`;
      $("speaker").append(score);
      timelineItem("turns", "speaker", "turn", e.start_ms, e.end_ms, who, { speaker: who, score: e.score });
      return;
    }
    case "tag":
      timelineItem(`tag:${e.label}`, e.label, "tag-event", e.start_ms, e.end_ms, `${e.label} ${e.score.toFixed(2)}`,
                   { label: e.label, score: e.score });
      advanceClock(e.end_ms);
      return;
    case "tags":
      $("tagbars").innerHTML = "";
      for (const t of e.tags) {
        const li = document.createElement("li");
        li.innerHTML = `<span class="label"></span><span class="bar"><i></i></span><span class="score"></span>`;
        li.querySelector(".label").textContent = t.label;
        li.querySelector(".label").title = t.label;
        li.querySelector("i").style.width = `${Math.round(Math.min(1, Math.max(0, t.score)) * 100)}%`;
        li.querySelector(".score").textContent = t.score.toFixed(2);
        $("tagbars").appendChild(li);
      }
      advanceClock(e.end_ms);
      return;
    case "done":
      setState("done", `done: ${fmt(e.audio_ms)} s of audio`);
      return;
    case "error":
      state.error = e;
      setState("error", `error: ${e.message}`);
      return;
  }
}

function sendBlock(block) {
  if (state.state !== "listening" || ws.readyState !== WebSocket.OPEN) return;
  const left = Math.round(LIMIT_S * state.sampleRate) - state.sentSamples;
  if (left <= 0) return;
  const piece = block.length > left ? block.subarray(0, left) : block;
  ws.send(piece);
  if (KEEP) state.kept.push(piece.slice());
  state.sentSamples += piece.length;
  if (piece.length === left) stop();
}

function reset() {
  state.events = [];
  state.kept = [];
  state.sentSamples = 0;
  state.error = null;
  clockS = 0;
  $("transcript").innerHTML = "";
  $("partial").textContent = "";
  $("tagbars").innerHTML = "";
  $("speaker").textContent = "-";
  $("timeline").innerHTML = "";
  row("turns", "speaker");  // the speaker turns first, then one row per sound-event label as they come
}

async function start() {
  try {
    reset();
    setState("connecting", "connecting…");
    ctx = params.has("rate") ? new AudioContext({ sampleRate: parseInt(params.get("rate"), 10) }) : new AudioContext();
    await ctx.audioWorklet.addModule("/worklet.js");
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
    ws.binaryType = "arraybuffer";
    const ready = new Promise((resolve, reject) => {
      ws.onmessage = (m) => {
        const e = JSON.parse(m.data);
        onEvent(e);
        if (e.type === "ready") resolve(e);
        if (e.type === "error") reject(new Error(e.message));
      };
      ws.onclose = (c) => {
        reject(new Error(`closed (${c.code})`));
        if (state.state !== "done" && state.state !== "error") setState("error", `connection closed (${c.code} ${c.reason})`);
      };
    });
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error("cannot connect")); });
    state.sampleRate = ctx.sampleRate;
    ws.send(JSON.stringify({ type: "start", sample_rate: ctx.sampleRate, format: "f32le", tags: true }));
    await ready;
    mic = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    node = new AudioWorkletNode(ctx, "mt2kd-capture", { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1 });
    node.port.onmessage = (m) => sendBlock(m.data);
    const mute = ctx.createGain();
    mute.gain.value = 0;  // the worklet must be pulled by the graph; nothing is played back
    ctx.createMediaStreamSource(mic).connect(node).connect(mute).connect(ctx.destination);
    await ctx.resume();
    setState("listening", `listening at ${ctx.sampleRate} Hz`);
  } catch (err) {
    state.error = { message: String(err.message || err) };
    setState("error", `error: ${state.error.message}`);
  }
}

function stop() {
  if (state.state !== "listening") return;
  setState("finishing", "finishing…");
  if (node) node.port.onmessage = null;
  if (mic) mic.getTracks().forEach((t) => t.stop());
  if (ctx) ctx.close();
  ws.send(JSON.stringify({ type: "end" }));
}

$("start").addEventListener("click", start);
$("stop").addEventListener("click", stop);
reset();
setState("idle", "idle: press Start and allow the microphone");
if (params.get("autostart") === "1") start();
