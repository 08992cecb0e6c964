// The Millrace dashboard: plain JavaScript, no build step, no third-party code. It reads the
// server's JSON API with the bearer token kept in localStorage, and polls the live pages.
'use strict';

const TOKEN_KEY = 'millrace.token';
const state = {
  token: localStorage.getItem(TOKEN_KEY) || '',
  info: null,          // /v1/info: which parts this server has
  timer: null,         // the current page's poll
  generation: 0,       // bumps on navigation so late answers of the old page are dropped
  polling: false,      // a timed refresh is waiting for its answers
  samples: {},         // pipeline -> [{t, in, dead}] for throughput and sparklines
};

// ---- helpers --------------------------------------------------------------------------------

// Builds an element; children are nodes or text (never parsed as HTML).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function number(n) {
  if (n === null || n === undefined) return '–';
  return Number(n).toLocaleString('en-US');
}

function rate(n) {
  if (n === null || n === undefined || !isFinite(n)) return '–';
  if (n >= 100) return Math.round(n).toLocaleString('en-US') + '/s';
  return n.toFixed(1) + '/s';
}

function ago(iso) {
  if (!iso) return '–';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (!isFinite(seconds)) return iso;
  if (seconds === 0) return 'just now';
  if (seconds < 0) return 'in ' + duration(-seconds * 1000);
  return duration(seconds * 1000) + ' ago';
}

function duration(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '–';
  const s = Math.abs(ms) / 1000;
  if (s < 1) return Math.round(Math.abs(ms)) + ' ms';
  if (s < 120) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  if (s < 172800) return Math.round(s / 3600) + ' h';
  return Math.round(s / 86400) + ' d';
}

function when(iso) {
  if (!iso) return '–';
  return el('time', { datetime: iso, title: iso }, ago(iso));
}

function badge(text) {
  return el('span', { class: 'badge ' + String(text).replace(/[^a-z_]/gi, '') }, text);
}

function table(headers, rows, emptyText) {
  if (!rows.length) return el('p', { class: 'muted' }, emptyText || 'Nothing yet.');
  const head = el('tr', {}, headers.map((h) => {
    const numeric = h.startsWith('#');
    return el('th', { class: numeric ? 'num' : null, scope: 'col' }, numeric ? h.slice(1) : h);
  }));
  const body = rows.map((cells) => el('tr', {}, cells.map((cell, i) =>
    el('td', { class: headers[i] && headers[i].startsWith('#') ? 'num' : null }, cell))));
  return el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, body)));
}

// Replaces `root`'s content; absent parts (null, undefined, false) are left out.
function fill(root, ...children) {
  root.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function card(label, value) {
  return el('div', { class: 'card' }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
}

function notice(text, isError) {
  const box = document.getElementById('notice');
  box.textContent = text || '';
  box.className = 'notice' + (isError ? ' error' : '');
  box.hidden = !text;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// A JSON API call with the token; throws ApiError with the server's {"error": ...} message.
async function api(path, options) {
  const headers = Object.assign({ Accept: 'application/json' }, (options && options.headers) || {});
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  if (!response.ok) {
    throw new ApiError(response.status, (body && body.error) || response.status + ' ' + response.statusText);
  }
  return body;
}

// Prometheus text into {name: [{labels, value}]}.
async function metrics() {
  const response = await fetch('/metrics');
  const text = await response.text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let l;
    while ((l = labelRe.exec(match[2] || '')) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    (out[match[1]] = out[match[1]] || []).push({ labels, value: Number(match[3]) });
  }
  return out;
}

function metricSum(all, name, filter) {
  return (all[name] || []).filter((m) => !filter || filter(m.labels)).reduce((sum, m) => sum + m.value, 0);
}

// A small line chart of the last values.
function sparkline(values) {
  const w = 120, h = 28;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values.map((v, i) => [i * step, h - 2 - (v / max) * (h - 4)]);
  const line = points.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join(' ');
  const area = points.length ? line + ` L${points[points.length - 1][0].toFixed(1)} ${h} L0 ${h} Z` : '';
  return svg('svg', { class: 'spark', viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': 'throughput' },
    svg('path', { class: 'area', d: area }), svg('path', { d: line }));
}

// ---- pages ----------------------------------------------------------------------------------

async function pipelinesPage(root) {
  const [data, all] = await Promise.all([api('/v1/pipelines'), metrics()]);
  const now = Date.now();
  let totalRate = 0;
  const rows = data.pipelines.map((p) => {
    const history = state.samples[p.name] = state.samples[p.name] || [];
    history.push({ t: now, in: p.records.in, dead: p.records.dead_lettered });
    while (history.length > 60) history.shift();
    const rates = [];
    for (let i = 1; i < history.length; i++) {
      const dt = (history[i].t - history[i - 1].t) / 1000;
      rates.push(dt > 0 ? Math.max(0, history[i].in - history[i - 1].in) / dt : 0);
    }
    const current = rates.length ? rates[rates.length - 1] : null;
    if (current) totalRate += current;
    const deadShare = p.records.in ? (100 * p.records.dead_lettered / p.records.in).toFixed(2) + '%' : '–';
    const running = p.state === 'running' || p.state === 'restarting';
    const action = el('button', {
      class: running ? null : 'primary',
      'data-action': running ? 'stop' : 'start',
      'data-pipeline': p.name,
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          await api(`/v1/pipelines/${encodeURIComponent(p.name)}/${running ? 'stop' : 'start'}`, { method: 'POST' });
          notice(`Pipeline ${p.name} ${running ? 'stopped' : 'started'}.`);
        } catch (e) { notice(e.message, true); }
        refresh();
      },
    }, running ? 'Stop' : 'Start');
    const error = p.last_error ? el('div', { class: 'error-text' }, p.last_error) : null;
    const reason = p.reason && p.state !== 'running' ? el('div', { class: 'muted' }, p.reason) : null;
    return [
      el('strong', {}, p.name),
      el('div', {}, badge(p.state), p.state === 'restarting' ? el('div', { class: 'muted' }, 'next ' + ago(p.next_restart_at)) : null),
      el('div', {}, rate(current), sparkline(rates.length ? rates : [0])),
      number(p.records.in), number(p.records.out),
      el('span', { title: deadShare + ' of records' }, number(p.records.dead_lettered)),
      number(p.records.late),
      p.watermark_lag_ms === null ? '–' : duration(p.watermark_lag_ms),
      when(p.last_commit_at),
      `${p.restarts}/${p.restart_budget}` + (p.total_restarts ? ` (${p.total_restarts} total)` : ''),
      el('div', {}, reason, error),
      el('div', { class: 'actions' }, action),
    ];
  });
  const httpRequests = metricSum(all, 'millrace_http_requests_total');
  const last = state.samples.__http;
  state.samples.__http = { t: now, n: httpRequests };
  const httpRate = last ? (httpRequests - last.n) / ((now - last.t) / 1000) : null;
  fill(root, 
    el('h2', {}, 'Streaming pipelines'),
    el('div', { class: 'cards' },
      card('Pipelines', number(data.pipelines.length)),
      card('Running', number(data.pipelines.filter((p) => p.state === 'running').length)),
      card('Failed', number(data.pipelines.filter((p) => p.state === 'failed').length)),
      card('Records/s', rate(totalRate)),
      card('Dead letters', number(data.pipelines.reduce((s, p) => s + p.records.dead_lettered, 0))),
      card('HTTP requests/s', rate(httpRate))),
    table(['Pipeline', 'State', 'Throughput', '#In', '#Out', '#Dead-lettered', '#Late', '#Watermark lag',
      'Last commit', '#Restarts', 'Reason / last error', ''], rows,
    'This project has no streaming pipelines (batch pipelines run with `millrace run` or a job).'));
}

async function topicsPage(root) {
  const list = await api('/v1/topics');
  const topics = await Promise.all(list.topics.map((t) => api('/v1/topics/' + encodeURIComponent(t.name))));
  const rows = [];
  const groups = [];
  for (const t of topics) {
    const end = t.partitions.reduce((s, p) => s + p.end_offset - p.start_offset, 0);
    const bytes = t.partitions.reduce((s, p) => s + p.size_bytes, 0);
    rows.push([el('strong', {}, t.name), number(t.partitions.length), number(end), number(bytes),
      number((t.consumers || []).length)]);
    for (const c of t.consumers || []) {
      const lag = c.partitions.reduce((s, p) => s + p.lag, 0);
      groups.push([c.consumer, t.name,
        c.partitions.map((p) => `p${p.partition}@${p.offset}`).join(' '), number(lag)]);
    }
  }
  fill(root, 
    el('h2', {}, 'Topics'),
    table(['Topic', '#Partitions', '#Records', '#Bytes', '#Consumers'], rows, 'No topics.'),
    el('h3', {}, 'Consumer groups'),
    table(['Consumer', 'Topic', 'Committed offsets', '#Lag'], groups, 'No committed consumer offsets yet.'));
}

function barChart(values, labels) {
  const w = 600, h = 160, pad = 18;
  const max = Math.max(1, ...values);
  const bw = values.length ? (w - 2 * pad) / values.length : 0;
  const bars = values.map((v, i) => {
    const bh = (v / max) * (h - 2 * pad);
    return svg('rect', { x: (pad + i * bw + 1).toFixed(1), y: (h - pad - bh).toFixed(1),
      width: Math.max(1, bw - 2).toFixed(1), height: bh.toFixed(1) },
    svg('title', {}, `${labels[i]}: ${number(v)}`));
  });
  return el('figure', { class: 'figure' },
    svg('svg', { class: 'chart', viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none', role: 'img',
      'aria-label': 'rows per snapshot' }, bars),
    el('figcaption', { class: 'muted' }, `Rows per snapshot, oldest first (max ${number(max)})`));
}

async function lakePage(root, table_name) {
  if (table_name) {
    const t = await api('/v1/lake/tables/' + encodeURIComponent(table_name));
    const snaps = t.snapshots.slice().reverse();
    fill(root, 
      el('h2', {}, el('a', { href: '#/lake' }, 'Lake'), ' / ', t.name),
      el('div', { class: 'cards' }, card('Current snapshot', number(t.snapshot_id)),
        card('Rows', number(t.snapshots.length ? t.snapshots[0].rows : 0)),
        card('Partitioned by', t.partition_by.length ? t.partition_by.join(', ') : '–')),
      barChart(snaps.map((s) => s.rows), snaps.map((s) => 'snapshot ' + s.snapshot_id)),
      el('h3', {}, 'Snapshot history'),
      table(['#Snapshot', '#Parent', 'Committed', 'Operation', '#Files', '#Rows', '#Bytes'],
        t.snapshots.map((s) => [number(s.snapshot_id), number(s.parent_id), when(s.committed_at),
          s.operation, number(s.files), number(s.rows), number(s.bytes)])),
      el('h3', {}, 'Schema'),
      table(['Column', 'Type'], t.schema.map((c) => [c.name, el('code', {}, c.type)])));
    return;
  }
  const data = await api('/v1/lake/tables');
  fill(root, 
    el('h2', {}, 'Lake tables'),
    table(['Table', '#Snapshot', 'Last commit', 'Operation', '#Files', '#Rows', '#Bytes'],
      data.tables.map((t) => t.error
        ? [el('strong', {}, t.name), el('span', { class: 'error-text' }, t.error), '', '', '', '', '']
        : [el('a', { href: '#/lake/' + encodeURIComponent(t.name) }, t.name), number(t.snapshot_id),
          when(t.committed_at), t.operation, number(t.files), number(t.rows), number(t.bytes)]),
      'No lake tables yet.'));
}

async function featuresPage(root) {
  if (!state.info.feature_views) {
    fill(root, el('h2', {}, 'Feature views'), el('p', { class: 'muted' }, 'This project has no feature views.'));
    return;
  }
  const [data, all] = await Promise.all([api('/v1/features'), metrics()]);
  const latency = (route) => {
    const sum = metricSum(all, 'millrace_http_request_seconds_sum', (l) => l.route === route);
    const count = metricSum(all, 'millrace_http_request_seconds_count', (l) => l.route === route);
    return count ? duration(1000 * sum / count) + ` (${number(count)} requests)` : 'no requests yet';
  };
  fill(root, 
    el('h2', {}, 'Feature views'),
    el('div', { class: 'cards' }, card('Views', number(data.feature_views.length)),
      card('Lookup latency (mean)', latency('features_get')),
      card('Batch latency (mean)', latency('features_batch'))),
    table(['View', 'Entities', 'Features', 'Source', 'TTL', 'Owner'], data.feature_views.map((v) => [
      el('div', {}, el('strong', {}, v.name), v.description ? el('div', { class: 'muted' }, v.description) : null),
      v.entities.map((e) => `${e.name}: ${e.type}`).join(', '),
      v.features.map((f) => `${f.name}: ${f.type}`).join(', '),
      v.source === 'lake' ? 'lake ' + v.lake_table : 'pipeline ' + v.pipeline,
      v.ttl_seconds === null ? '–' : duration(v.ttl_seconds * 1000),
      v.owner || '–',
    ])));
}

function gantt(tasks) {
  const timed = tasks.filter((t) => t.started_at);
  if (!timed.length) return el('p', { class: 'muted' }, 'No task has started yet.');
  const start = Math.min(...timed.map((t) => Date.parse(t.started_at)));
  const end = Math.max(...timed.map((t) => (t.finished_at ? Date.parse(t.finished_at) : Date.now())));
  const span = Math.max(1, end - start);
  // Unscaled pixels vertically; horizontally the labels take the first quarter and the bars
  // the rest, in percentages of whatever width the page has.
  const rowH = 24;
  const rows = timed.map((t, i) => {
    const s = Date.parse(t.started_at), f = t.finished_at ? Date.parse(t.finished_at) : Date.now();
    const x = 25 + ((s - start) / span) * 74;
    const w = Math.max(0.5, ((f - s) / span) * 74);
    return svg('g', {},
      svg('text', { x: 6, y: i * rowH + 17 }, t.task),
      svg('rect', { class: 'bar ' + t.state, x: x.toFixed(2) + '%', y: i * rowH + 5, width: w.toFixed(2) + '%', height: rowH - 10 },
        svg('title', {}, `${t.task}: ${t.state}, ${duration(f - s)}`)));
  });
  return svg('svg', { class: 'gantt', width: '100%', height: timed.length * rowH + 6, role: 'img',
    'aria-label': 'task timeline' }, rows);
}

async function jobsPage(root, run_id) {
  if (!state.info.jobs) {
    fill(root, el('h2', {}, 'Jobs'), el('p', { class: 'muted' }, 'This project has no jobs.'));
    return;
  }
  if (run_id) {
    const run = await api('/v1/runs/' + encodeURIComponent(run_id));
    const runPath = '/v1/runs/' + encodeURIComponent(run.run_id);
    const logBox = el('pre', { class: 'log', id: 'task-log', hidden: true });
    const showLog = (task) => el('button', {
      'data-log': task.task,
      onclick: async () => {
        try {
          const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
          const response = await fetch(`${runPath}/tasks/${encodeURIComponent(task.task)}/log`, { headers });
          const text = await response.text();
          logBox.textContent = response.ok ? (text || '(the log is empty)') : JSON.parse(text).error;
        } catch (e) { logBox.textContent = e.message; }
        logBox.hidden = false;
        logBox.dataset.task = task.task;
      },
    }, 'Log');
    const rerun = run.state === 'failed' ? el('button', {
      class: 'primary', id: 'rerun',
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          await api(runPath + '/rerun', { method: 'POST' });
          notice(`Re-running the failed tasks of ${run.run_id}.`);
        } catch (e) { notice(e.message, true); }
        refresh();
      },
    }, 'Re-run failed tasks') : null;
    // The open log stays open across polls.
    const previous = document.getElementById('task-log');
    if (previous && !previous.hidden) {
      logBox.textContent = previous.textContent;
      logBox.dataset.task = previous.dataset.task;
      logBox.hidden = false;
    }
    fill(root, 
      el('h2', {}, el('a', { href: '#/jobs' }, 'Jobs'), ' / ', run.run_id),
      el('div', { class: 'cards' }, card('State', badge(run.state)), card('Job', run.job),
        card('Started', when(run.started_at)), card('Finished', when(run.finished_at))),
      rerun ? el('div', { class: 'toolbar' }, rerun) : null,
      el('h3', {}, 'Timeline'), gantt(run.tasks),
      el('h3', {}, 'Tasks'),
      table(['Task', 'State', '#Attempts', 'Started', 'Finished', 'Message', 'Log'], run.tasks.map((t) => [
        t.task, badge(t.state), number(t.attempts), when(t.started_at), when(t.finished_at),
        t.message || '', t.log ? showLog(t) : '–']), 'No tasks.'),
      logBox);
    return;
  }
  const [jobs, runs] = await Promise.all([api('/v1/jobs'), api('/v1/runs?limit=50')]);
  const trigger = (job) => el('button', {
    class: 'primary', 'data-trigger': job.name,
    onclick: async (event) => {
      event.target.disabled = true;
      try {
        const started = await api(`/v1/jobs/${encodeURIComponent(job.name)}/trigger`, { method: 'POST' });
        notice(`Started run ${started.run_id}.`);
      } catch (e) { notice(`Trigger of ${job.name}: ${e.message}`, true); }
      refresh();
    },
  }, 'Trigger');
  fill(root, 
    el('h2', {}, 'Jobs'),
    jobs.scheduler && jobs.scheduler.status !== 'ok'
      ? el('p', { class: 'error-text' }, 'Scheduler stopped: ' + jobs.scheduler.reason) : null,
    table(['Job', 'Schedule', 'Tasks', 'Version', ''], jobs.jobs.map((j) => [
      el('strong', {}, j.name), j.schedule ? `${j.schedule} (${j.timezone})` : 'on trigger',
      j.tasks.join(', '), el('code', {}, j.version), trigger(j)])),
    el('h3', {}, 'Recent runs'),
    table(['Run', 'State', 'Lane', 'Interval', 'Started', 'Finished'], runs.runs.map((r) => [
      el('a', { href: '#/runs/' + encodeURIComponent(r.run_id) }, r.run_id), badge(r.state), r.lane,
      `${r.interval_start} → ${r.interval_end}`, when(r.started_at), when(r.finished_at)]), 'No runs yet.'));
}

async function checksPage(root) {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const failed = params.get('failed') === 'true';
  const data = await api('/v1/checks?limit=500' + (failed ? '&failed=true' : ''));
  const toggle = el('label', {}, el('input', {
    type: 'checkbox', id: 'failed-only', checked: failed,
    onchange: (e) => { location.hash = '#/checks' + (e.target.checked ? '?failed=true' : ''); },
  }), ' failed only');
  const passed = data.results.filter((r) => r.passed).length;
  fill(root, 
    el('h2', {}, 'Check results'),
    el('div', { class: 'cards' }, card('Results', number(data.results.length)), card('Passed', number(passed)),
      card('Failed', number(data.results.length - passed))),
    el('div', { class: 'toolbar' }, toggle),
    table(['When', 'Pipeline', '#Run', 'Dataset', 'Rule', 'Observed', 'Bound', 'Result', 'Severity'],
      data.results.map((r) => [when(r.at), r.pipeline, number(r.run), r.dataset, el('code', {}, r.rule),
        r.observed, r.bound, badge(r.passed ? 'passed' : 'failed'), r.severity]),
      'No check results yet: dataset-level rules record theirs when their pipeline runs.'));
}

// ---- navigation -----------------------------------------------------------------------------

const pages = {
  pipelines: { render: pipelinesPage, poll: 2000 },
  topics: { render: topicsPage, poll: 5000 },
  lake: { render: lakePage, poll: 10000 },
  features: { render: featuresPage, poll: 5000 },
  jobs: { render: jobsPage, poll: 3000 },
  runs: { render: (root, id) => jobsPage(root, id), poll: 3000, nav: 'jobs' },
  checks: { render: checksPage, poll: 10000 },
};

function route() {
  const path = (location.hash.replace(/^#\/?/, '').split('?')[0] || 'pipelines').split('/');
  const name = pages[path[0]] ? path[0] : 'pipelines';
  return { name, page: pages[name], arg: path[1] ? decodeURIComponent(path.slice(1).join('/')) : null };
}

async function refresh() {
  const { name, page, arg } = route();
  const generation = state.generation;
  const root = document.getElementById('page');
  try {
    if (!state.info) {
      state.info = await api('/v1/info');
      document.getElementById('project').textContent = state.info.project;
    }
    const scratch = el('div');
    await page.render(scratch, arg);
    if (generation !== state.generation) return;
    fill(root, ...scratch.childNodes);
    root.dataset.page = name;
    root.dataset.loaded = 'true';
  } catch (e) {
    if (generation !== state.generation) return;
    if (e.status === 401 || e.status === 403) {
      state.info = null;
      fill(root, el('h2', {}, 'Sign in'), el('p', {}, e.status === 401
        ? 'This server needs an API token: enter it above (it is kept in this browser only).'
        : 'This token may not read this page (it needs the admin scope).'));
      document.getElementById('token').focus();
    } else {
      fill(root, el('p', { class: 'error-text' }, 'Could not load this page: ' + e.message));
    }
    root.dataset.loaded = 'error';
  }
}

function navigate() {
  state.generation++;
  clearInterval(state.timer);
  const { name, page } = route();
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.page === (page.nav || name));
  }
  document.getElementById('page').dataset.loaded = 'false';
  refresh();
  // A slow server is not asked again while it still answers the last poll.
  state.timer = setInterval(async () => {
    if (document.hidden || state.polling) return;
    state.polling = true;
    try { await refresh(); } finally { state.polling = false; }
  }, page.poll);
}

document.getElementById('token').value = state.token;
document.getElementById('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = document.getElementById('token').value.trim();
  if (state.token) localStorage.setItem(TOKEN_KEY, state.token);
  else localStorage.removeItem(TOKEN_KEY);
  state.info = null;
  notice(state.token ? 'Token saved in this browser.' : 'Token removed.');
  navigate();
});
window.addEventListener('hashchange', navigate);
navigate();
