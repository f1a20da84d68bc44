// The page's behaviour: read what the server can do, upload with the chosen task, poll the job, show the result.
"use strict";
let caps = null;
const $ = (id) => document.getElementById(id);

function fill(select, names) {
  select.replaceChildren(...names.map((n) => new Option(n, n)));
}

function showMessage(text) {
  $("message").textContent = text;
  $("message").hidden = !text;
}

function refreshOptions() {
  const stylise = $("task-stylise").checked;
  $("stylise-options").hidden = !stylise;
  const method = $("method").value;
  $("style-row").hidden = method !== "gatys";
  $("generator-row").hidden = method !== "cyclegan";
  let why = "";
  if (!stylise && !caps.classify.ok) why = caps.classify.why;
  if (stylise && !caps[method].ok) why = caps[method].why;
  $("missing").textContent = why;
  $("go").disabled = Boolean(why);
}

async function loadCaps() {
  caps = await (await fetch("/api/status")).json();
  const types = caps.video_types.map((t) => t.slice(1).toUpperCase()).join(", ");
  $("limits").textContent = `Accepted: ${types}; up to ${caps.max_upload_mb} MB. ` +
    `Stylising takes videos of at most ${caps.max_frames} frames.`;
  $("classify-detail").textContent = caps.classify.ok ? `with the run "${caps.classify.run}" (top-5 classes)` : "";
  fill($("style"), caps.gatys.styles || []);
  fill($("generator"), caps.cyclegan.generators || []);
  if (!caps.cyclegan.ok && caps.gatys.ok) $("method").value = "gatys";
  refreshOptions();
}

function showResult(job) {
  $("result").hidden = false;
  if (job.kind === "classify") {
    const rows = job.result.top5.map(([name, p], i) => {
      const tr = document.createElement("tr");
      for (const text of [String(i + 1), name, p.toFixed(4)]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    });
    $("top5").tBodies[0].replaceChildren(...rows);
    $("top5").hidden = false;
    $("styled").hidden = true;
  } else {
    const r = job.result;
    $("preview").src = `/api/jobs/${job.id}/video`;
    $("download").href = `/api/jobs/${job.id}/download`;
    $("styled-facts").textContent = `${r.frames} frames at ${r.fps.toFixed(2)} fps, ${r.width}x${r.height}, ` +
      `${r.seconds.toFixed(1)} s. Warping error ${r.warping_error.toFixed(4)} (the input's: ` +
      `${r.warping_error_input.toFixed(4)}; lower is steadier).`;
    $("styled").hidden = false;
    $("top5").hidden = true;
  }
}

async function poll(id) {
  for (;;) {
    const response = await fetch(`/api/jobs/${id}`);
    const job = await response.json();
    if (!response.ok) throw new Error(job.error || response.statusText);
    $("status").textContent = job.state === "done" ? `Done: ${job.name}` : job.message;
    if (job.state === "done") return job;
    if (job.state === "error") throw new Error(job.message);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function submit(event) {
  event.preventDefault();
  showMessage("");
  const file = $("video").files[0];
  if (!file) return showMessage("Choose a video file first.");
  if (file.size > caps.max_upload_mb * 1024 * 1024) {
    return showMessage(`${file.name} is larger than ${caps.max_upload_mb} MB, this page's limit.`);
  }
  const data = new FormData($("form"));
  data.set("task", $("task-stylise").checked ? "stylise" : "classify");
  $("go").disabled = true;
  $("result").hidden = true;
  $("status").textContent = "Uploading";
  try {
    const response = await fetch("/api/jobs", { method: "POST", body: data });
    let body;
    try { body = await response.json(); } catch { body = { error: `${response.status} ${response.statusText}` }; }
    if (!response.ok) throw new Error(body.error);
    showResult(await poll(body.id));
  } catch (e) {
    $("status").textContent = "";
    showMessage(e.message);
  } finally {
    refreshOptions();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["task-classify", "task-stylise", "method"]) $(id).addEventListener("change", refreshOptions);
  $("strength").addEventListener("input", () => { $("strength-value").textContent = Number($("strength").value).toFixed(2); });
  $("form").addEventListener("submit", submit);
  loadCaps().catch((e) => showMessage(`Cannot reach the server: ${e.message}`));
});
