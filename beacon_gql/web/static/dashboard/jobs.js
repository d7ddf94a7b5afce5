// The job list at `/`: newest first, from the `jobs` query, with cursor pagination; new
// jobs and status or progress changes arrive live from the `jobsChanged` subscription.

import { ApiError, graphql } from "./api.js";
import { LiveSubscription } from "./live.js";
import { clear, formatAgo, formatDate, formatPercent, h, statusBadge } from "./util.js";

const PAGE_SIZE = 25;
const STATUSES = ["QUEUED", "RUNNING", "COMPLETED", "PARTIAL", "FAILED", "CANCELLED"];

const JOB_ROW_FIELDS = `
  id
  status
  createdAt
  specId
  benchmarkName
  regions
  questions { id }
  models { id }
  progress { expected pending running completed failed cancelled successRate }`;

const JOBS_QUERY = `
query DashboardJobs($first: Int, $after: String, $status: JobStatus) {
  jobs(first: $first, after: $after, status: $status) {
    edges { cursor node { ${JOB_ROW_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const JOB_ROW_QUERY = `query DashboardJobRow($id: ID!) { job(id: $id) { ${JOB_ROW_FIELDS} } }`;

// RESYNC first (read the list now), then CREATED / UPDATED per job; RESYNC again whenever
// the server may have missed changes. A reconnected socket starts with RESYNC too.
const JOBS_CHANGED = `subscription DashboardJobsChanged {
  jobsChanged { kind jobId status progress { expected pending running completed failed cancelled successRate } }
}`;

export function progressBar(progress, { compact = false } = {}) {
  // Widths are each server count over the server's `expected`; nothing is derived.
  const bar = h("div", {
    class: `progress${compact ? " compact" : ""}`,
    role: "img",
    "data-testid": "progress-bar",
  });
  const expected = progress.expected || 0;
  for (const part of ["completed", "failed", "cancelled", "running"]) {
    const value = progress[part] || 0;
    const width = expected ? (100 * value) / expected : 0;
    bar.appendChild(
      h("span", {
        class: `progress-part part-${part}`,
        style: { width: `${width}%` },
        "data-part": part,
        title: `${value} ${part}`,
      }),
    );
  }
  bar.setAttribute(
    "aria-label",
    `${progress.completed} completed, ${progress.failed} failed, ${progress.running} running, ` +
      `${progress.pending} pending, ${progress.cancelled} cancelled of ${expected}`,
  );
  return bar;
}

export function renderJobList(root) {
  let status = new URLSearchParams(window.location.search).get("status") || "";
  if (!STATUSES.includes(status)) status = "";
  let cursor = null;
  let loading = false;
  let controller = new AbortController();
  document.title = "beacon · bias jobs";

  const tbody = h("tbody", { "data-testid": "job-rows" });
  const more = h("button", { type: "button", class: "button", "data-testid": "jobs-more", hidden: true, text: "Load more" });
  const notice = h("div", { class: "notice-area", "data-testid": "jobs-notice" });
  const filter = h(
    "select",
    { id: "status-filter", "data-testid": "status-filter", "aria-label": "Filter by status" },
    h("option", { value: "", text: "All statuses" }),
    STATUSES.map((value) => h("option", { value, text: value, selected: value === status })),
  );
  const refresh = h("button", { type: "button", class: "button", "data-testid": "jobs-refresh", text: "Refresh" });
  const empty = h("p", { class: "muted empty", "data-testid": "jobs-empty", hidden: true });

  clear(root).appendChild(
    h(
      "section",
      { class: "page jobs-page", "data-testid": "jobs-page" },
      h(
        "div",
        { class: "page-head" },
        h("div", {}, h("h1", { text: "Bias jobs" }), h("p", { class: "muted subtitle", text: "Newest first. Open a job to watch it live." })),
        h("div", { class: "toolbar" }, filter, refresh),
      ),
      notice,
      h(
        "div",
        { class: "card table-card" },
        h(
          "table",
          { class: "jobs-table", "data-testid": "jobs-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col", text: "Status" }),
              h("th", { scope: "col", text: "Job" }),
              h("th", { scope: "col", class: "col-progress", text: "Progress" }),
              h("th", { scope: "col", text: "Created" }),
            ),
          ),
          tbody,
        ),
        empty,
      ),
      h("div", { class: "more-row" }, more),
    ),
  );

  const shown = new Map(); // job id -> the job as its row shows it

  function place(job, { first = false } = {}) {
    const element = row(job);
    const existing = tbody.querySelector(`tr[data-job-id="${CSS.escape(job.id)}"]`);
    shown.set(job.id, job);
    if (existing) existing.replaceWith(element);
    else if (first) tbody.prepend(element);
    else tbody.appendChild(element);
    empty.hidden = true;
  }

  function remove(jobId) {
    shown.delete(jobId);
    tbody.querySelector(`tr[data-job-id="${CSS.escape(jobId)}"]`)?.remove();
    empty.hidden = tbody.children.length > 0;
  }

  async function onChange(change) {
    if (change.kind === "RESYNC") {
      load({ reset: true });
      return;
    }
    const matches = !status || change.status === status;
    const known = shown.get(change.jobId);
    if (known) {
      if (!matches) remove(change.jobId);
      else place({ ...known, status: change.status, progress: change.progress });
      return;
    }
    if (!matches) return;
    if (change.kind === "CREATED") {
      // The newest job goes on top; its row needs the fields the event does not carry.
      try {
        const data = await graphql(JOB_ROW_QUERY, { id: change.jobId }, { signal: controller.signal });
        if (data.job && !shown.has(data.job.id)) place(data.job, { first: true });
      } catch (error) {
        if (error.name !== "AbortError") clear(notice).appendChild(errorNotice(error));
      }
    } else {
      // A job moved into the filtered status: its place in the list is by age, so re-read.
      load({ reset: true });
    }
  }

  function row(job) {
    const p = job.progress;
    const href = `/jobs/${encodeURIComponent(job.id)}`;
    const shape = `${job.questions.length} questions × ${job.models.length} models × ${job.regions.join("/")}`;
    return h(
      "tr",
      { "data-testid": "job-row", "data-job-id": job.id, "data-status": job.status },
      h("td", { "data-label": "Status" }, statusBadge(job.status, { "data-testid": "job-status" })),
      h(
        "td",
        { class: "job-cell", "data-label": "Job" },
        h("a", { href, class: "job-link", "data-testid": "job-link", text: job.specId || job.benchmarkName }),
        h("div", { class: "muted small", text: `${job.benchmarkName} · ${shape}` }),
        h("div", { class: "mono small muted", text: job.id }),
      ),
      h(
        "td",
        { class: "col-progress", "data-label": "Progress" },
        progressBar(p, { compact: true }),
        h(
          "div",
          { class: "small progress-text", "data-testid": "job-progress-text" },
          h("span", { text: `${p.completed} completed` }),
          p.failed ? h("span", { class: "text-failed", text: ` · ${p.failed} failed` }) : null,
          p.running ? h("span", { text: ` · ${p.running} running` }) : null,
          p.pending ? h("span", { text: ` · ${p.pending} pending` }) : null,
          p.cancelled ? h("span", { text: ` · ${p.cancelled} cancelled` }) : null,
          h("span", { class: "muted", text: ` of ${p.expected}` }),
          p.successRate !== null && p.successRate !== undefined
            ? h("span", { class: "muted", text: ` · ${formatPercent(p.successRate)} success` })
            : null,
        ),
      ),
      h(
        "td",
        { "data-label": "Created" },
        h("time", { datetime: job.createdAt, title: job.createdAt, text: formatDate(job.createdAt) }),
        h("div", { class: "muted small", text: formatAgo(job.createdAt) }),
      ),
    );
  }

  async function load({ reset }) {
    if (loading && !reset) return;
    if (reset) {
      controller.abort();
      controller = new AbortController();
      cursor = null;
    }
    loading = true;
    more.disabled = true;
    try {
      const data = await graphql(
        JOBS_QUERY,
        { first: PAGE_SIZE, after: cursor, status: status || null },
        { signal: controller.signal },
      );
      const { edges, pageInfo } = data.jobs;
      if (reset) {
        clear(tbody);
        shown.clear();
      }
      clear(notice);
      edges.forEach((edge) => place(edge.node));
      cursor = pageInfo.endCursor;
      more.hidden = !pageInfo.hasNextPage;
      empty.hidden = tbody.children.length > 0;
      empty.textContent = status
        ? `No ${status} jobs.`
        : "No jobs yet. Submit one with `beacon-gql submit` or the submitBiasJob mutation.";
      root.querySelector(".jobs-page").dataset.loaded = "true";
    } catch (error) {
      if (error.name === "AbortError") return;
      clear(notice).appendChild(errorNotice(error));
    } finally {
      loading = false;
      more.disabled = false;
    }
  }

  filter.addEventListener("change", () => {
    status = filter.value;
    const url = new URL(window.location.href);
    if (status) url.searchParams.set("status", status);
    else url.searchParams.delete("status");
    window.history.replaceState(null, "", url);
    load({ reset: true });
  });
  refresh.addEventListener("click", () => load({ reset: true }));
  more.addEventListener("click", () => load({ reset: false }));
  const onVisible = () => {
    if (document.visibilityState === "visible") load({ reset: true });
  };
  document.addEventListener("visibilitychange", onVisible);

  load({ reset: true });
  const follow = new LiveSubscription({
    query: JOBS_CHANGED,
    variables: {},
    onNext: (payload) => {
      const change = payload.data?.jobsChanged;
      if (change) onChange(change);
    },
    onState: (state) => {
      root.querySelector(".jobs-page")?.setAttribute("data-live", state);
    },
  }).start();
  return () => {
    follow.stop();
    controller.abort();
    document.removeEventListener("visibilitychange", onVisible);
  };
}

export function errorNotice(error) {
  if (error instanceof ApiError && error.needsToken) {
    window.dispatchEvent(new CustomEvent("beacon:token-needed"));
    return h(
      "div",
      { class: "notice warn", role: "alert", "data-testid": "token-required" },
      h("strong", { text: "This server needs a read token. " }),
      "Paste it in the Token panel above; it stays in this browser.",
    );
  }
  return h(
    "div",
    { class: "notice error", role: "alert", "data-testid": "error-notice" },
    h("strong", { text: error instanceof ApiError && error.code ? `${error.code}: ` : "Error: " }),
    error.message || String(error),
  );
}
