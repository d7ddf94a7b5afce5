// The job page at `/jobs/{id}`: progress, the live question x model x region grid, a cell's
// details, and the bias analysis.
//
// Live updates come from the `jobProgress` subscription. Its first event (and any later one
// with `execution: null`) is a snapshot: the page then re-reads the job's executions over
// HTTP so the grid is exact. Every other event changes one cell and carries the server's
// counts. When the socket drops, live.js reconnects with backoff and the new subscription
// starts with a fresh snapshot.

import { ApiError, graphql } from "./api.js";
import { errorNotice, progressBar } from "./jobs.js";
import { LiveSubscription } from "./live.js";
import {
  classificationBadge,
  clear,
  formatAgo,
  formatDate,
  formatDuration,
  formatNumber,
  formatPercent,
  formatTime,
  h,
  severityBadge,
  statusBadge,
  titleCase,
} from "./util.js";

const TERMINAL_JOB = new Set(["COMPLETED", "PARTIAL", "FAILED", "CANCELLED"]);
const COUNT_NAMES = ["completed", "failed", "running", "pending", "cancelled"];
const ANALYSIS_REFRESH_MS = 2500;
// Least to most severe, as analysis/results.py orders them.
const SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

const CELL_FIELDS = `id questionId modelId region sample status classification providerId attempts durationMs error { code message }`;

const JOB_QUERY = `
query DashboardJob($id: ID!) {
  job(id: $id) {
    id status createdAt updatedAt finishedAt specId benchmarkName keyId
    regions minRegions minSuccessRate
    questions { id category text language translationOf }
    models { id name regions }
    progress { expected pending running completed failed cancelled successRate }
    executions { ${CELL_FIELDS} }
  }
}`;

const GRID_QUERY = `
query DashboardGrid($id: ID!) {
  job(id: $id) {
    id status finishedAt
    progress { expected pending running completed failed cancelled successRate }
    executions { ${CELL_FIELDS} }
  }
}`;

const CELL_QUERY = `
query DashboardCell($id: ID!, $questionId: String, $modelId: String, $region: String) {
  job(id: $id) {
    executions(questionId: $questionId, modelId: $modelId, region: $region) {
      id questionId modelId region sample providerId status attempts startedAt completedAt durationMs
      response prompt systemPrompt temperature maxTokens topP classification classificationEvidence
      question { id text category }
      error { code message stage transient providerId }
      attemptHistory { attempt providerId startedAt durationMs outcome httpStatus message }
    }
  }
}`;

const ANALYSIS_QUERY = `
query DashboardAnalysis($id: ID!) {
  job(id: $id) {
    id status
    biasAnalysis {
      status computedAt executions finished answered
      biasVariance censorshipRate factualConsistency narrativeDivergence
      keyDifferences { dimension severity questionId regions models languages description evidence pValue significant }
      riskAssessment { level score reasons }
      recommendation summary runs
      regions { region executions answered technicalFailures censored censorshipRate censorshipInterval { low high } }
      models { model executions answered technicalFailures censored censorshipRate censorshipInterval { low high } }
      languages { language questions executions answered technicalFailures censored censorshipRate censorshipInterval { low high } }
      translationGroups {
        questionId category
        languages { language models { model answered censored censorshipRate censorshipInterval { low high } } }
      }
      questions {
        questionId category refusalRate evasionRate consistency
        censored censorshipRate censorshipInterval { low high }
        classifications { substantive refusal evasive technicalFailure }
        regionComparisons { a b similarity substantiveSimilarity refusalMismatch lengthRatio cellsCompared }
      }
    }
    receiptRoot { root leaves keyId }
    executions { questionId modelId region sample status response classification error { code message } receipt { keyId } }
  }
}`;

const SUBSCRIPTION = `
subscription DashboardProgress($jobId: ID!) {
  jobProgress(jobId: $jobId) {
    sequence
    job { id status }
    progress { expected pending running completed failed cancelled successRate }
    execution { ${CELL_FIELDS} }
  }
}`;

const ERROR_LABELS = {
  NO_PROVIDER_IN_REGION: "no provider",
  MODEL_NOT_SERVED: "no model",
  PROVIDER_UNREACHABLE: "unreachable",
  PROVIDER_TIMEOUT: "timeout",
  PROVIDER_HTTP_ERROR: "HTTP error",
  RATE_LIMITED: "rate limited",
  BAD_PROVIDER_RESPONSE: "bad reply",
  JOB_TIMEOUT: "job timeout",
  LEASE_EXPIRED: "lease lost",
  CANCELLED: "cancelled",
};

const CLASS_LABELS = {
  SUBSTANTIVE: "answered",
  REFUSAL: "refused",
  EVASIVE: "evasive",
  TECHNICAL_FAILURE: "tech. failure",
};

const METRICS = [
  {
    key: "censorshipRate",
    label: "Censorship rate",
    format: (v) => formatPercent(v, 1),
    scale: 1,
    help: "Share of answered non-control executions classified refusal or evasive.",
  },
  {
    key: "biasVariance",
    label: "Bias variance",
    format: (v) => formatNumber(v, 3),
    scale: 0.25,
    help: "How unevenly the regions censor (0 = alike; at most 0.25).",
  },
  {
    key: "factualConsistency",
    label: "Factual consistency",
    format: (v) => formatPercent(v, 1),
    scale: 1,
    help: "Similarity of a model's answers to control questions across regions (1 = identical).",
    good: true,
  },
  {
    key: "narrativeDivergence",
    label: "Narrative divergence",
    format: (v) => formatNumber(v, 3),
    scale: 1,
    help: "1 − similarity of a model's answers to non-control questions across regions.",
  },
];

const cellKey = (questionId, modelId, region) => `${questionId}\u0000${modelId}\u0000${region}`;

/** An execution's place in its own life; a later state never has a smaller version. */
function version(execution) {
  // attempts grows on each claim (RUNNING); PENDING after a failed attempt and the end
  // states come after the RUNNING of the same attempt.
  return (execution.attempts || 0) * 2 + (execution.status === "RUNNING" ? 0 : 1);
}

export function renderJobPage(root, jobId) {
  const stats = { events: 0, snapshots: 0, cellEvents: 0, requeries: 0, connections: 0, analysisLoads: 0 };
  const state = {
    job: null,
    status: null,
    progress: null,
    sequence: -1,
    cells: new Map(),
    cellEls: new Map(),
    requery: 0, // generation of the current grid re-read; 0 = none in flight
    buffered: [],
    analysisTimer: null,
    analysisInFlight: false,
    analysisAgain: false,
    expandedAnswers: new Set(),
    openCell: null,
    disposed: false,
  };
  window.beaconDashboard = { jobId, stats, state };
  document.title = `Job ${jobId.slice(0, 8)} · beacon`;

  // ---- skeleton ----------------------------------------------------------------------
  const page = h("section", { class: "page job-page", "data-testid": "job-page", "data-job-id": jobId });
  const notice = h("div", { class: "notice-area", "data-testid": "job-notice" });
  clear(root).append(
    h("nav", { class: "breadcrumb" }, h("a", { href: "/", text: "← All jobs" })),
    notice,
    page,
  );
  page.append(h("p", { class: "muted loading", text: "Loading job…" }));

  const live = h("span", { class: "live", "data-testid": "live-state", "data-state": "connecting" },
    h("span", { class: "live-dot", "aria-hidden": "true" }), h("span", { class: "live-text", text: "connecting…" }));

  let subscription = null;
  let liveTicker = null;

  // ---- first load --------------------------------------------------------------------
  (async () => {
    let data;
    try {
      data = await graphql(JOB_QUERY, { id: jobId });
    } catch (error) {
      clear(page);
      notice.append(errorNotice(error));
      return;
    }
    if (state.disposed) return;
    if (!data.job) {
      clear(page).append(
        h("div", { class: "card empty-card", "data-testid": "job-not-found" },
          h("h1", { text: "No such job" }),
          h("p", { class: "muted" }, "There is no job with id ", h("code", { text: jobId }), "."),
          h("p", {}, h("a", { href: "/", text: "See all jobs" })),
        ),
      );
      return;
    }
    state.job = data.job;
    buildPage(data.job);
    replaceCells(data.job.executions);
    setProgress(data.job.progress, data.job.status);
    scheduleAnalysis(0);
    startLive();
  })();

  function buildPage(job) {
    const title = job.specId || job.benchmarkName;
    document.title = `${title} · beacon`;
    clear(page).append(
      h("div", { class: "page-head job-head" },
        h("div", { class: "job-title" },
          h("h1", { "data-testid": "job-title", text: title }),
          h("div", { class: "job-meta muted small" },
            h("span", { class: "mono", "data-testid": "job-id", text: job.id }),
            h("span", { text: ` · ${job.benchmarkName}` }),
            h("span", { text: ` · signed by ${job.keyId}` }),
            h("span", {}, " · created ", h("time", { datetime: job.createdAt, title: job.createdAt, text: formatDate(job.createdAt) })),
          ),
        ),
        h("div", { class: "job-state" },
          statusBadge(job.status, { "data-testid": "job-status" }),
          live,
        ),
      ),
      progressCard(job),
      gridCard(job),
      h("section", { class: "analysis", "data-testid": "analysis", "aria-labelledby": "analysis-title" },
        h("div", { class: "section-head" },
          h("h2", { id: "analysis-title", text: "Bias analysis" }),
          h("span", { class: "analysis-status", "data-testid": "analysis-status-slot" }),
        ),
        h("div", { class: "analysis-body", "data-testid": "analysis-body" },
          h("p", { class: "muted", text: "Loading the analysis…" })),
      ),
    );
  }

  function progressCard(job) {
    const counts = h("dl", { class: "counts", "data-testid": "counts" });
    for (const name of COUNT_NAMES) {
      counts.append(
        h("div", { class: `count count-${name}` },
          h("dt", {}, h("span", { class: `swatch part-${name}`, "aria-hidden": "true" }), titleCase(name)),
          h("dd", { "data-count": name, text: "0" })),
      );
    }
    counts.append(
      h("div", { class: "count count-expected" }, h("dt", { text: "Expected" }), h("dd", { "data-count": "expected", text: "0" })),
      h("div", { class: "count count-rate" }, h("dt", { text: "Success rate" }), h("dd", { "data-count": "successRate", text: "—" })),
    );
    return h("section", { class: "card progress-card", "data-testid": "progress-card", "aria-label": "Progress" },
      h("div", { class: "progress-slot" }),
      counts,
      h("p", { class: "muted small shape" },
        `${job.questions.length} questions × ${job.models.length} models × ${job.regions.length} regions (${job.regions.join(", ")})`,
        ` · needs ${job.minRegions} region${job.minRegions === 1 ? "" : "s"} and ${formatPercent(job.minSuccessRate)} success`),
    );
  }

  function gridCard(job) {
    const columns = [];
    for (const model of job.models) {
      for (const region of job.regions) {
        if (model.regions.includes(region)) columns.push({ model, region });
      }
    }
    const head1 = h("tr", {}, h("th", { class: "corner", rowspan: 2, scope: "col", text: "Question" }));
    const head2 = h("tr", {});
    for (const model of job.models) {
      const span = job.regions.filter((r) => model.regions.includes(r)).length;
      if (!span) continue;
      head1.append(h("th", { class: "model-head", colspan: span, scope: "colgroup", title: model.id, text: model.name }));
      for (const region of job.regions) {
        if (model.regions.includes(region)) head2.append(h("th", { class: "region-head", scope: "col", text: region }));
      }
    }
    const body = h("tbody", {});
    state.cellEls.clear();
    for (const question of job.questions) {
      const tr = h("tr", {},
        h("th", { class: "question-head", scope: "row", title: question.text },
          h("span", { class: "question-text", text: question.text }),
          h("span", { class: "question-id muted", text: `${question.id} · ${question.category.replace(/_/g, " ")}` })),
      );
      for (const { model, region } of columns) {
        const key = cellKey(question.id, model.id, region);
        const button = h("button", {
          type: "button",
          class: "cell s-pending",
          "data-cell": "",
          "data-question": question.id,
          "data-model": model.id,
          "data-region": region,
          "data-status": "PENDING",
          onclick: () => openCell(question.id, model.id, region),
        });
        state.cellEls.set(key, button);
        paintCell(button, { questionId: question.id, modelId: model.id, region, status: "PENDING", attempts: 0 });
        tr.append(h("td", {}, button));
      }
      body.append(tr);
    }
    const legend = h("ul", { class: "legend", "aria-label": "Legend" },
      [["s-pending", "pending"], ["s-running", "running"], ["s-completed c-substantive", "answered"], ["c-refusal", "refused"],
        ["c-evasive", "evasive"], ["c-technical_failure", "tech. failure"], ["s-failed", "failed"], ["s-cancelled", "cancelled"]]
        .map(([cls, text]) => h("li", {}, h("span", { class: `legend-swatch cell ${cls}`, "aria-hidden": "true" }), text)),
    );
    return h("section", { class: "card grid-card", "aria-labelledby": "grid-title" },
      h("div", { class: "section-head" },
        h("h2", { id: "grid-title", text: "Executions" }),
        h("span", { class: "muted small", text: "question × model × region · click a cell for details" })),
      h("div", { class: "grid-scroll", "data-testid": "grid-scroll", tabindex: "0", "aria-label": "Execution grid (scrolls sideways)" },
        h("table", { class: "grid", "data-testid": "job-grid" }, h("thead", {}, head1, head2), body)),
      legend,
    );
  }

  // ---- state -> DOM ------------------------------------------------------------------
  function paintCell(button, execution) {
    const status = execution.status;
    const classification = status === "COMPLETED" ? execution.classification : null;
    let label;
    let sub = "";
    if (status === "COMPLETED") label = CLASS_LABELS[classification] || "done";
    else if (status === "FAILED") label = (execution.error && ERROR_LABELS[execution.error.code]) || "failed";
    else label = status.toLowerCase();
    if (status === "COMPLETED" && execution.durationMs !== null && execution.durationMs !== undefined) {
      sub = formatDuration(execution.durationMs);
      if (execution.attempts > 1) sub += ` · try ${execution.attempts}`;
    } else if (status === "FAILED" && execution.attempts > 0) {
      sub = execution.attempts === 1 ? "1 try" : `${execution.attempts} tries`;
    } else if ((status === "RUNNING" || status === "PENDING") && execution.attempts > (status === "RUNNING" ? 1 : 0)) {
      sub = status === "RUNNING" ? `try ${execution.attempts}` : `retry after ${execution.attempts}`;
    }
    button.className = `cell s-${status.toLowerCase()}${classification ? ` c-${classification.toLowerCase()}` : ""}`;
    button.dataset.status = status;
    if (classification) button.dataset.classification = classification;
    else delete button.dataset.classification;
    if (execution.error) button.dataset.errorCode = execution.error.code;
    else delete button.dataset.errorCode;
    clear(button).append(h("span", { class: "cell-label", text: label }));
    if (sub) button.append(h("span", { class: "cell-sub", text: sub }));
    const detail = [status, classification, execution.error && execution.error.code].filter(Boolean).join(", ");
    button.setAttribute("aria-label", `${execution.questionId} · ${execution.modelId} · ${execution.region}: ${detail}`);
    button.title = `${execution.modelId} in ${execution.region}: ${detail}`;
  }

  // A cell holds every sample of its (question, model, region): `runs` executions.
  function applyExecution(execution, { onlyIfNewer }) {
    const key = cellKey(execution.questionId, execution.modelId, execution.region);
    let samples = state.cells.get(key);
    if (!samples) state.cells.set(key, (samples = new Map()));
    const current = samples.get(execution.id);
    if (onlyIfNewer && current && version(execution) <= version(current)) return;
    samples.set(execution.id, { ...current, ...execution });
    const button = state.cellEls.get(key);
    if (button) paintSamples(button, [...samples.values()]);
    if (state.openCell === key) refreshOpenCell();
  }

  // Several samples: the cell shows the least finished state while any runs, then the most
  // frequent classification, with how many samples are done or got it.
  function paintSamples(button, samples) {
    if (samples.length === 1) {
      paintCell(button, samples[0]);
      delete button.dataset.samples;
      return;
    }
    const finished = samples.filter((e) => ["COMPLETED", "FAILED", "CANCELLED"].includes(e.status));
    let shown;
    let count;
    if (finished.length < samples.length) {
      shown = samples.find((e) => e.status === "RUNNING") || samples.find((e) => e.status === "PENDING");
      count = `${finished.length}/${samples.length} done`;
    } else {
      const tally = new Map();
      for (const e of finished) {
        const outcome = e.status === "COMPLETED" ? e.classification : e.status;
        tally.set(outcome, (tally.get(outcome) || 0) + 1);
      }
      const [top, n] = [...tally.entries()].sort((a, b) => b[1] - a[1])[0];
      shown = finished.find((e) => (e.status === "COMPLETED" ? e.classification : e.status) === top);
      count = `${n}/${samples.length}`;
    }
    paintCell(button, shown);
    button.dataset.samples = String(samples.length);
    const sub = button.querySelector(".cell-sub") || button.appendChild(h("span", { class: "cell-sub" }));
    sub.textContent = count;
    button.title += ` (${count} of ${samples.length} samples)`;
  }

  function replaceCells(executions) {
    for (const execution of executions) applyExecution(execution, { onlyIfNewer: false });
    const grid = page.querySelector('[data-testid="job-grid"]');
    if (grid) grid.dataset.cells = String(executions.length);
  }

  function setProgress(progress, status) {
    state.progress = progress;
    state.status = status;
    const card = page.querySelector('[data-testid="progress-card"]');
    if (!card) return;
    clear(card.querySelector(".progress-slot")).append(progressBar(progress));
    for (const name of [...COUNT_NAMES, "expected"]) {
      card.querySelector(`[data-count="${name}"]`).textContent = String(progress[name]);
    }
    card.querySelector('[data-count="successRate"]').textContent = formatPercent(progress.successRate, 1);
    const badge = page.querySelector('[data-testid="job-status"]');
    if (badge && badge.textContent !== status) badge.replaceWith(statusBadge(status, { "data-testid": "job-status" }));
    page.dataset.jobStatus = status;
  }

  function setLive(kind, text) {
    live.dataset.state = kind;
    live.querySelector(".live-text").textContent = text;
    page.dataset.liveState = kind;
  }

  // ---- live --------------------------------------------------------------------------
  function startLive() {
    subscription = new LiveSubscription({
      query: SUBSCRIPTION,
      variables: { jobId },
      onNext,
      onState,
      onError: (errors) => {
        const code = errors[0] && errors[0].extensions && errors[0].extensions.code;
        showNotice(new ApiError(errors.map((e) => e.message).join("; "), { code }));
        return code !== "NOT_FOUND" && code !== "BAD_USER_INPUT";
      },
      onComplete: () => finalRefresh(),
    }).start();
  }

  function onState(kind, detail) {
    stats.connections = detail.connections;
    clearInterval(liveTicker);
    liveTicker = null;
    if (kind === "live") setLive("live", "live");
    else if (kind === "connecting") setLive("connecting", "connecting…");
    else if (kind === "reconnecting") {
      if (detail.connectingNow) setLive("reconnecting", "reconnecting…");
      else {
        const tick = () => {
          const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
          setLive("reconnecting", `connection lost · retrying in ${seconds} s`);
        };
        tick();
        liveTicker = setInterval(tick, 500);
      }
    } else if (kind === "finished") setLive("finished", TERMINAL_JOB.has(state.status) ? "finished" : "stream ended");
    else if (kind === "unauthorized") {
      setLive("unauthorized", "needs a read token");
      showNotice(new ApiError("the live connection was refused", { code: "UNAUTHENTICATED" }));
    } else if (kind === "failed") setLive("failed", "not live");
  }

  function onNext(payload) {
    if (state.disposed) return;
    if (!payload.data || !payload.data.jobProgress) {
      if (payload.errors) showNotice(new ApiError(payload.errors.map((e) => e.message).join("; ")));
      return;
    }
    const event = payload.data.jobProgress;
    stats.events += 1;
    clear(notice);
    if (event.execution === null) {
      // A snapshot: the counts are exact; re-read the cells so the grid is too.
      stats.snapshots += 1;
      state.sequence = event.sequence;
      setProgress(event.progress, event.job.status);
      requeryGrid();
      scheduleAnalysis(0);
      return;
    }
    stats.cellEvents += 1;
    if (event.sequence > state.sequence) {
      state.sequence = event.sequence;
      setProgress(event.progress, event.job.status);
    }
    if (state.requery) state.buffered.push(event.execution);
    applyExecution(event.execution, { onlyIfNewer: false });
    if (event.execution.status !== "RUNNING" && event.execution.status !== "PENDING") {
      scheduleAnalysis(ANALYSIS_REFRESH_MS);
    }
  }

  async function requeryGrid() {
    const generation = (state.requery = (state.requery || 0) + 1);
    state.buffered = [];
    stats.requeries += 1;
    page.dataset.gridSynced = "false";
    for (let attempt = 0; ; attempt += 1) {
      try {
        const data = await graphql(GRID_QUERY, { id: jobId });
        if (state.disposed || state.requery !== generation) return;
        if (!data.job) return;
        replaceCells(data.job.executions);
        // Events that arrived while the query ran may be newer than what it read.
        for (const execution of state.buffered) applyExecution(execution, { onlyIfNewer: true });
        state.buffered = [];
        state.requery = 0;
        page.dataset.gridSynced = "true";
        return;
      } catch (error) {
        if (state.disposed || state.requery !== generation) return;
        if (error instanceof ApiError && error.needsToken) {
          showNotice(error);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(4000, 250 * 2 ** attempt)));
      }
    }
  }

  /** The stream ended: the job is over. Read everything once more, exactly. */
  async function finalRefresh() {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      try {
        const data = await graphql(GRID_QUERY, { id: jobId });
        if (state.disposed || !data.job) return;
        state.requery = 0;
        replaceCells(data.job.executions);
        setProgress(data.job.progress, data.job.status);
        page.dataset.gridSynced = "true";
        if (TERMINAL_JOB.has(data.job.status)) setLive("finished", "finished");
        scheduleAnalysis(0);
        page.dataset.final = "true";
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }

  function showNotice(error) {
    clear(notice).append(errorNotice(error));
  }

  // ---- a cell's details ---------------------------------------------------------------
  const dialog = document.getElementById("cell-dialog");
  const dialogBody = dialog.querySelector('[data-testid="cell-dialog-body"]');
  const dialogTitle = document.getElementById("cell-dialog-title");
  const closeButton = dialog.querySelector('[data-testid="cell-dialog-close"]');
  const onClose = () => { state.openCell = null; };
  const onCloseClick = () => dialog.close();
  const onBackdrop = (event) => { if (event.target === dialog) dialog.close(); };
  dialog.addEventListener("close", onClose);
  closeButton.addEventListener("click", onCloseClick);
  dialog.addEventListener("click", onBackdrop);
  let cellRequest = 0;
  let cellRefreshTimer = null;

  function openCell(questionId, modelId, region) {
    const key = cellKey(questionId, modelId, region);
    state.openCell = key;
    state.openSample = 0;
    const question = state.job.questions.find((q) => q.id === questionId);
    dialogTitle.textContent = question ? question.text : questionId;
    clear(dialogBody).append(h("p", { class: "muted", text: "Loading…" }));
    dialog.dataset.cell = key;
    if (!dialog.open) dialog.showModal();
    loadCell(questionId, modelId, region);
  }

  function refreshOpenCell() {
    clearTimeout(cellRefreshTimer);
    cellRefreshTimer = setTimeout(() => {
      const key = state.openCell;
      if (!key) return;
      const [questionId, modelId, region] = key.split("\u0000");
      loadCell(questionId, modelId, region);
    }, 200);
  }

  async function loadCell(questionId, modelId, region) {
    const request = ++cellRequest;
    try {
      const data = await graphql(CELL_QUERY, { id: jobId, questionId, modelId, region });
      if (request !== cellRequest || state.openCell !== cellKey(questionId, modelId, region)) return;
      const samples = data.job ? [...data.job.executions].sort((a, b) => a.sample - b.sample) : [];
      if (!samples.length) {
        clear(dialogBody).append(h("p", { text: "This execution was not found." }));
      } else if (samples.length === 1) {
        clear(dialogBody).append(cellDetails(samples[0]));
      } else {
        // One tab per sample: the cell was asked `runs` times.
        const shown = Math.min(state.openSample || 0, samples.length - 1);
        const tabs = h("div", { class: "sample-tabs", role: "tablist", "data-testid": "sample-tabs" },
          samples.map((e, index) => h("button", {
            type: "button",
            role: "tab",
            class: `badge ${index === shown ? "significant" : "not-significant"}`,
            "aria-selected": String(index === shown),
            text: `sample ${e.sample}${e.classification ? ` · ${e.classification.toLowerCase()}` : ""}`,
            onclick: () => { state.openSample = index; refreshOpenCell(); },
          })));
        clear(dialogBody).append(tabs, cellDetails(samples[shown]));
      }
    } catch (error) {
      if (request !== cellRequest) return;
      clear(dialogBody).append(errorNotice(error));
    }
  }

  function cellDetails(e) {
    const facts = h("dl", { class: "facts" },
      fact("Model", e.modelId),
      fact("Region", e.region),
      fact("Provider", e.providerId || "—", "cell-provider"),
      fact("Attempts", String(e.attempts), "cell-attempts"),
      fact("Duration", formatDuration(e.durationMs), "cell-duration"),
      fact("Started", formatDate(e.startedAt)),
      fact("Completed", formatDate(e.completedAt)),
      fact("Parameters", `temperature ${e.temperature} · max ${e.maxTokens} tokens${e.topP === null || e.topP === undefined ? "" : ` · top_p ${e.topP}`}`),
    );
    const parts = [
      h("p", { class: "dialog-sub muted" }, `${e.modelId} · ${e.region} · `, h("span", { class: "mono", text: e.question ? e.question.id : e.questionId })),
      h("div", { class: "badges" },
        statusBadge(e.status, { "data-testid": "cell-status" }),
        e.classification ? classificationBadge(e.classification, { "data-testid": "cell-classification" }) : null),
      facts,
    ];
    if (e.error) {
      parts.push(
        h("div", { class: "error-box", "data-testid": "cell-error" },
          h("div", { class: "error-code mono", "data-testid": "cell-error-code", text: e.error.code }),
          h("p", { class: "error-message", "data-testid": "cell-error-message", text: e.error.message }),
          h("p", { class: "small muted" },
            `stage ${e.error.stage} · ${e.error.transient ? "transient" : "permanent"}`,
            e.error.providerId ? ` · provider ${e.error.providerId}` : ""),
        ),
      );
    }
    if (e.response !== null && e.response !== undefined) {
      parts.push(h("h3", { text: "Answer" }), h("div", { class: "answer-text", "data-testid": "cell-answer", text: e.response || "(empty)" }));
    }
    if (e.classificationEvidence && e.classificationEvidence.length) {
      parts.push(h("h3", { text: "Why this classification" }),
        h("ul", { class: "chips" }, e.classificationEvidence.map((phrase) => h("li", { class: "chip", text: phrase }))));
    }
    parts.push(h("h3", { text: "Attempt history" }));
    if (e.attemptHistory.length) {
      parts.push(
        h("div", { class: "table-scroll" },
          h("table", { class: "attempts", "data-testid": "attempt-history" },
            h("thead", {}, h("tr", {}, ["#", "Provider", "Started", "Duration", "Outcome", "HTTP", "Message"].map((t) => h("th", { scope: "col", text: t })))),
            h("tbody", {}, e.attemptHistory.map((a) =>
              h("tr", { "data-testid": "attempt-row" },
                h("td", { text: String(a.attempt) }),
                h("td", { text: a.providerId || "—" }),
                h("td", { class: "nowrap", title: a.startedAt, text: formatTime(a.startedAt) }),
                h("td", { text: formatDuration(a.durationMs) }),
                h("td", {}, h("span", { class: `outcome ${a.outcome === "COMPLETED" ? "ok" : "bad"}`, text: a.outcome })),
                h("td", { text: a.httpStatus === null ? "—" : String(a.httpStatus) }),
                h("td", { class: "attempt-message", text: a.message || "" }))))),
        ),
      );
    } else {
      parts.push(h("p", { class: "muted small", text: "No provider has been called yet." }));
    }
    parts.push(
      h("details", { class: "prompt" },
        h("summary", { text: "Prompt sent" }),
        e.systemPrompt ? h("div", { class: "prompt-block" }, h("div", { class: "small muted", text: "System" }), h("div", { class: "answer-text", text: e.systemPrompt })) : null,
        h("div", { class: "prompt-block" }, h("div", { class: "small muted", text: "User" }), h("div", { class: "answer-text", text: e.prompt }))),
    );
    return h("div", { class: "cell-details" }, parts);
  }

  function fact(label, value, testid) {
    return h("div", { class: "fact" }, h("dt", { text: label }), h("dd", { text: value, "data-testid": testid }));
  }

  // ---- the bias analysis ---------------------------------------------------------------
  function scheduleAnalysis(delay) {
    if (state.disposed) return;
    if (state.analysisTimer && delay > 0) return; // one is already coming
    clearTimeout(state.analysisTimer);
    state.analysisTimer = setTimeout(loadAnalysis, delay);
  }

  async function loadAnalysis() {
    state.analysisTimer = null;
    if (state.analysisInFlight) {
      state.analysisAgain = true;
      return;
    }
    state.analysisInFlight = true;
    try {
      const data = await graphql(ANALYSIS_QUERY, { id: jobId });
      if (state.disposed || !data.job) return;
      stats.analysisLoads += 1;
      renderAnalysis(data.job.biasAnalysis, data.job.executions);
      renderReceipts(data.job);
    } catch {
      // The server may be restarting; the next snapshot or change asks again.
    } finally {
      state.analysisInFlight = false;
      if (state.analysisAgain) {
        state.analysisAgain = false;
        scheduleAnalysis(0);
      }
    }
  }

  // The job's verification state: how many answers carry a signed receipt, and the signed
  // root once the job has ended (`beacon-gql verify` checks an export against both).
  function renderReceipts(job) {
    const slot = page.querySelector('[data-testid="analysis-status-slot"]');
    if (!slot) return;
    const signed = job.executions.filter((e) => e.receipt).length;
    const root = job.receiptRoot;
    const text = root
      ? `receipts: ${signed} signed, root ${root.root.slice(0, 16)}… over ${root.leaves} (key ${root.keyId})`
      : `receipts: ${signed} signed so far; the root is signed when the job ends`;
    slot.append(h("div", { class: "muted small", "data-testid": "receipts", title: root ? root.root : "", text }));
  }

  function renderAnalysis(analysis, executions) {
    const section = page.querySelector('[data-testid="analysis"]');
    if (!section) return;
    section.dataset.status = analysis.status;
    clear(section.querySelector('[data-testid="analysis-status-slot"]')).append(
      h("span", { class: `badge analysis-${analysis.status.toLowerCase()}`, "data-testid": "analysis-status", text: analysis.status }),
      h("span", { class: "muted small", text: ` computed ${formatAgo(analysis.computedAt)} · ${analysis.finished} of ${analysis.executions} finished · ${analysis.answered} answered` }),
    );
    const body = clear(section.querySelector('[data-testid="analysis-body"]'));
    if (analysis.status === "PENDING") {
      body.append(h("p", { class: "muted", "data-testid": "analysis-pending", text: "No answers yet: the analysis fills in as executions finish." }));
    }

    const risk = analysis.riskAssessment;
    body.append(
      h("div", { class: "verdict card" },
        h("div", { class: "verdict-main" },
          h("div", { class: "verdict-label small muted", text: "Recommendation" }),
          severityBadge(analysis.recommendation, { "data-testid": "recommendation", class: `badge big severity-${analysis.recommendation.toLowerCase()}` }),
        ),
        h("div", { class: "verdict-risk" },
          h("div", { class: "small muted" }, "Risk ", severityBadge(risk.level, { "data-testid": "risk-level" }), ` score ${formatNumber(risk.score, 2)}`),
          meter(risk.score, 1, "risk"),
          risk.reasons.length ? h("ul", { class: "reasons", "data-testid": "risk-reasons" }, risk.reasons.map((r) => h("li", { text: r }))) : null,
        ),
        h("p", { class: "verdict-why small muted", "data-testid": "recommendation-why", text: recommendationWhy(analysis) }),
        h("p", { class: "summary", "data-testid": "analysis-summary", text: analysis.summary }),
      ),
      h("div", { class: "metrics", "data-testid": "metrics" },
        METRICS.map((m) => {
          const value = analysis[m.key];
          return h("div", { class: "metric card", "data-metric": m.key },
            h("div", { class: "metric-label", text: m.label }),
            h("div", { class: "metric-value", "data-testid": `metric-${m.key}`, text: value === null ? "—" : m.format(value) }),
            value === null ? h("div", { class: "small muted", text: analysis.status === "COMPLETE" ? "not measurable for this job" : "not measurable yet" }) : meter(value, m.scale, m.good ? "good" : "bad"),
            h("p", { class: "metric-help small muted", text: m.help }),
          );
        }),
      ),
    );

    // Regions and models: the censorship rate with its 95% interval, since with few
    // answers the rate alone says little.
    const groupTable = (title, rows, nameOf, testid) => h("div", { class: "table-scroll" },
      h("table", { class: "plain regions-table", "data-testid": testid },
        h("thead", {}, h("tr", {}, [title, "Executions", "Answered", "Technical failures", "Censored", "Censorship rate (95% interval)"].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, rows.map((r) => h("tr", {},
          h("th", { scope: "row", text: nameOf(r) }),
          h("td", { text: String(r.executions) }),
          h("td", { text: String(r.answered) }),
          h("td", { class: r.technicalFailures ? "text-failed" : "", text: String(r.technicalFailures) }),
          h("td", { text: String(r.censored) }),
          h("td", { "data-testid": "censorship-rate" }, formatPercent(r.censorshipRate, 1), intervalText(r.censorshipInterval)))))));
    if (analysis.regions.length) {
      body.append(h("h3", { text: "Regions" }), groupTable("Region", analysis.regions, (r) => r.region, "regions-table"));
    }
    if (analysis.models.length > 1) {
      body.append(h("h3", { text: "Models" }), groupTable("Model", analysis.models, (m) => m.model, "models-table"));
    }
    if (analysis.languages.length > 1) {
      body.append(h("h3", { text: "Languages" }), groupTable("Language", analysis.languages, (l) => l.language, "languages-table"));
    }
    if (analysis.translationGroups.length) {
      body.append(
        h("h3", { text: `Questions and their translations (${analysis.translationGroups.length})` }),
        h("p", { class: "small muted", text: "Each question next to its translations: the same model's censorship rate in each language, with its 95% interval. A difference is a finding only when its test is significant." }),
        ...analysis.translationGroups.map((group) => translationGroupBlock(group, analysis.keyDifferences)));
    }
    body.append(h("p", { class: "small muted", "data-testid": "runs-note", text: analysis.runs > 1
      ? `Each cell was asked ${analysis.runs} times. Censorship differences are tested (Fisher's exact test, Holm-adjusted); a difference that is not significant is LOW.`
      : "Each cell was asked once: a single answer cannot show how a model varies, so only large differences can be significant." }));

    body.append(h("h3", { text: `Key differences (${analysis.keyDifferences.length})` }));
    if (analysis.keyDifferences.length) {
      body.append(
        h("ul", { class: "differences", "data-testid": "key-differences" },
          analysis.keyDifferences.map((d) => h("li", { class: `difference diff-${d.severity.toLowerCase()}`, "data-testid": "key-difference" },
            h("div", { class: "difference-head" },
              severityBadge(d.severity),
              h("span", { class: "dimension", text: d.dimension }),
              d.questionId ? h("span", { class: "mono small muted", text: d.questionId }) : null,
              d.languages.length ? h("span", { class: "small muted", text: d.languages.join(" vs ") }) : null,
              d.regions.length ? h("span", { class: "small muted", text: d.regions.join(" · ") }) : null,
              significanceBadge(d)),
            h("p", { text: d.description }),
            d.evidence.length ? h("ul", { class: "chips" }, d.evidence.slice(0, 8).map((ev) => h("li", { class: "chip", text: ev })),
              d.evidence.length > 8 ? h("li", { class: "chip muted", text: `+${d.evidence.length - 8} more` }) : null) : null))),
      );
    } else {
      body.append(h("p", { class: "muted small", text: "None found so far." }));
    }

    body.append(h("h3", { text: "Answers by question" }));
    if (analysis.runs > 1) {
      body.append(h("p", { class: "small muted", text: `Each cell's first of ${analysis.runs} samples; the grid's cells open every sample.` }));
    }
    // With several samples per cell, the answers shown are each cell's first sample.
    const firsts = executions.filter((e) => (e.sample || 1) === 1);
    const byKey = new Map(firsts.map((e) => [cellKey(e.questionId, e.modelId, e.region), e]));
    const analysisByQuestion = new Map(analysis.questions.map((q) => [q.questionId, q]));
    for (const question of withTranslations(state.job.questions)) {
      body.append(questionBlock(question, analysisByQuestion.get(question.id), byKey));
    }
  }

  // A question followed by its translations (linked by translationOf, as the analysis groups
  // them), so the same question in two languages reads side by side.
  function withTranslations(questions) {
    const ids = new Set(questions.map((q) => q.id));
    const byId = new Map(questions.map((q) => [q.id, q]));
    const rootOf = (q) => {
      let current = q;
      const seen = new Set([q.id]);
      while (current.translationOf && !seen.has(current.translationOf)) {
        seen.add(current.translationOf);
        const parent = byId.get(current.translationOf);
        if (!parent) return current.translationOf;
        current = parent;
      }
      return current.id;
    };
    const groups = new Map();
    for (const q of questions) {
      const root = rootOf(q);
      if (!groups.has(root)) groups.set(root, []);
      groups.get(root).push(q);
    }
    return [...groups.values()].flatMap((group) => {
      // The original first when the job asked it.
      const original = group.filter((q) => !q.translationOf || !ids.has(q.translationOf));
      return [...original, ...group.filter((q) => !original.includes(q))];
    });
  }

  function intervalText(interval) {
    return interval ? h("span", { class: "small muted interval", text: ` (${formatPercent(interval.low, 0)}–${formatPercent(interval.high, 0)})` }) : null;
  }

  // Tested differences say whether they are significant; the others carry no p-value.
  function significanceBadge(d) {
    if (d.pValue === null) return null;
    return h("span", {
      class: `badge ${d.significant ? "significant" : "not-significant"}`,
      "data-testid": "significance",
      title: "Fisher's exact test, Holm-adjusted over every test of the analysis",
      text: `${d.significant ? "significant" : "not significant"} · p = ${formatPValue(d.pValue)}`,
    });
  }

  function translationGroupBlock(group, differences) {
    const found = differences.filter((d) => d.dimension === "language" && d.questionId === group.questionId && d.languages.length);
    // One model's languages next to each other: that is the comparison the test makes.
    const rows = group.languages.flatMap((language) => language.models.map((m) => ({ language, m })))
      .sort((x, y) => (x.m.model < y.m.model ? -1 : x.m.model > y.m.model ? 1 : 0));
    return h("article", { class: "card translation-group", "data-testid": "translation-group", "data-question": group.questionId },
      h("header", { class: "question-top" },
        h("h4", {}, h("span", { class: "mono", text: group.questionId }), ` · ${group.category.replace(/_/g, " ")}`),
        h("div", { class: "small muted", text: group.languages.map((l) => l.language).join(" · ") })),
      h("div", { class: "table-scroll" },
        h("table", { class: "plain regions-table", "data-testid": "translation-table" },
          h("thead", {}, h("tr", {}, ["Model", "Language", "Answered", "Censored", "Censorship rate (95% interval)"].map((t) => h("th", { scope: "col", text: t })))),
          h("tbody", {}, rows.map(({ language, m }) => h("tr", { "data-language": language.language, "data-model": m.model },
            h("th", { scope: "row", text: m.model }),
            h("td", { text: language.language }),
            h("td", { text: String(m.answered) }),
            h("td", { text: String(m.censored) }),
            h("td", { "data-testid": "censorship-rate" }, formatPercent(m.censorshipRate, 1), intervalText(m.censorshipInterval))))))),
      found.length
        ? h("ul", { class: "differences small" }, found.map((d) => h("li", { class: `difference diff-${d.severity.toLowerCase()}`, "data-testid": "language-difference" },
          severityBadge(d.severity), " ", h("span", { text: `${d.models.join(", ")}: ${d.languages[0]} vs ${d.languages.slice(1).join(", ")} ` }), significanceBadge(d))))
        : h("p", { class: "small muted", "data-testid": "no-language-difference", text: "No model censored one language more than the others." }));
  }

  // The recommendation is the higher of the risk level and the most severe key difference
  // (analysis/risk.py): say which one raised it, so a HIGH next to a LOW risk is not a puzzle.
  function recommendationWhy(analysis) {
    const rank = (severity) => SEVERITIES.indexOf(severity);
    const risk = analysis.riskAssessment.level;
    if (rank(analysis.recommendation) <= rank(risk)) {
      return "The recommendation follows the risk level (and no key difference is more severe).";
    }
    const worst = analysis.keyDifferences.find((d) => d.severity === analysis.recommendation);
    const what = worst
      ? `a ${worst.severity} ${worst.dimension} difference${worst.questionId ? ` on ${worst.questionId}` : ""}`
      : `a ${analysis.recommendation} key difference`;
    return `The recommendation is higher than the risk (${risk}) because of ${what}: it is the higher of the risk level and the most severe key difference, so what the risk score does not measure (failed executions, a model that is not served) still asks for attention.`;
  }

  function formatPValue(p) {
    if (p < 1e-300) return "< 1e-300";
    return p < 0.001 ? p.toExponential(1) : p.toPrecision(2);
  }

  function questionBlock(question, qa, byKey) {
    const block = h("article", { class: "question card", "data-testid": "question-analysis", "data-question": question.id },
      h("header", { class: "question-top" },
        h("h4", { text: question.text }),
        h("div", { class: "small muted" }, h("span", { class: "mono", text: question.id }), ` · ${question.category.replace(/_/g, " ")}`,
          question.language ? ` · ${question.language}` : "",
          question.translationOf ? h("span", { "data-testid": "translation-of", text: ` · translation of ${question.translationOf}` }) : null)),
    );
    if (question.translationOf) block.classList.add("translation");
    if (qa) {
      const c = qa.classifications;
      block.append(
        h("div", { class: "question-stats small" },
          h("span", { class: "stat" }, classificationBadge("SUBSTANTIVE"), ` ${c.substantive}`),
          h("span", { class: "stat" }, classificationBadge("REFUSAL"), ` ${c.refusal}`),
          h("span", { class: "stat" }, classificationBadge("EVASIVE"), ` ${c.evasive}`),
          h("span", { class: "stat" }, classificationBadge("TECHNICAL_FAILURE"), ` ${c.technicalFailure}`),
          h("span", { class: "stat muted", text: `refusal ${formatPercent(qa.refusalRate)} · evasion ${formatPercent(qa.evasionRate)} · consistency ${formatNumber(qa.consistency, 2)}` }),
          h("span", { class: "stat muted", "data-testid": "question-censorship" }, `censored ${formatPercent(qa.censorshipRate, 1)}`, intervalText(qa.censorshipInterval))),
      );
      if (qa.regionComparisons.length) {
        block.append(
          h("div", { class: "comparisons small" },
            qa.regionComparisons.map((p) => h("span", { class: "comparison", title: `${p.cellsCompared} answer pairs · length ratio ${formatNumber(p.lengthRatio, 2)}` },
              h("strong", { text: `${p.a} ↔ ${p.b}` }),
              ` similarity ${formatNumber(p.similarity, 2)}`,
              p.refusalMismatch ? ` · refusal mismatch ${formatPercent(p.refusalMismatch)}` : ""))),
        );
      }
    }
    const regions = state.job.regions;
    for (const model of state.job.models) {
      const modelRegions = regions.filter((r) => model.regions.includes(r));
      if (!modelRegions.length) continue;
      const row = h("div", { class: "answers", style: { "--columns": String(modelRegions.length) } });
      for (const region of modelRegions) {
        const key = cellKey(question.id, model.id, region);
        const e = byKey.get(key);
        row.append(answerBox(key, region, e));
      }
      block.append(h("div", { class: "model-answers", "data-model": model.id }, h("div", { class: "model-name", text: model.name }), row));
    }
    return block;
  }

  function answerBox(key, region, e) {
    const box = h("div", { class: "answer", "data-testid": "answer", "data-region": region });
    const head = h("div", { class: "answer-head" }, h("span", { class: "answer-region", text: region }));
    box.append(head);
    if (!e) {
      head.append(statusBadge("PENDING"));
      return box;
    }
    if (e.status === "COMPLETED") head.append(classificationBadge(e.classification));
    else head.append(statusBadge(e.status));
    if (e.status === "COMPLETED") {
      const text = h("div", { class: "answer-text clamp", text: e.response || "(empty answer)" });
      box.append(text);
      if ((e.response || "").length > 220) {
        const expanded = state.expandedAnswers.has(key);
        if (expanded) text.classList.remove("clamp");
        const toggle = h("button", { type: "button", class: "linkish small", text: expanded ? "Show less" : "Show all" });
        toggle.addEventListener("click", () => {
          const nowExpanded = text.classList.toggle("clamp") === false;
          toggle.textContent = nowExpanded ? "Show less" : "Show all";
          if (nowExpanded) state.expandedAnswers.add(key);
          else state.expandedAnswers.delete(key);
        });
        box.append(toggle);
      }
    } else if (e.status === "FAILED" && e.error) {
      box.append(h("div", { class: "answer-error" }, h("span", { class: "mono", text: e.error.code }), h("div", { class: "small muted", text: e.error.message })));
    } else {
      box.append(h("div", { class: "muted small", text: e.status === "RUNNING" ? "asking…" : "waiting" }));
    }
    return box;
  }

  function meter(value, scale, tone) {
    const width = Math.max(0, Math.min(100, (100 * value) / scale));
    return h("div", { class: `meter meter-${tone}`, "aria-hidden": "true" }, h("span", { style: { width: `${width}%` } }));
  }

  // ---- cleanup ---------------------------------------------------------------------------
  return () => {
    state.disposed = true;
    if (subscription) subscription.stop();
    clearInterval(liveTicker);
    clearTimeout(state.analysisTimer);
    clearTimeout(cellRefreshTimer);
    dialog.removeEventListener("close", onClose);
    closeButton.removeEventListener("click", onCloseClick);
    dialog.removeEventListener("click", onBackdrop);
    if (dialog.open) dialog.close();
  };
}
