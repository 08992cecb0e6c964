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

// Remembers a pipeline's counts at `now` (the last 60 polls) and answers its history with the
// records/s between consecutive polls.
function sample(p, now) {
  let history = state.samples[p.name] = state.samples[p.name] || [];
  // Counts start again at a (re)start of the pipeline: so does its history.
  if (history.length && p.records.in < history[history.length - 1].in) history = state.samples[p.name] = [];
  const last = history[history.length - 1];
  if (!last || now - last.t >= 500) {
    history.push({ t: now, in: p.records.in, dead: p.records.dead_lettered, lag: p.watermark_lag_ms });
  }
  while (history.length > 60) history.shift();
  const rates = [];
  for (let i = 1; i < history.length; i++) {
    const dt = (history[i].t - history[i - 1].t) / 1000;
    rates.push(dt > 0 ? Math.max(0, history[i].in - history[i - 1].in) / dt : 0);
  }
  return { history, rates };
}

async function pipelinesPage(root, name) {
  if (name) return pipelinePage(root, name);
  const [data, all] = await Promise.all([api('/v1/pipelines'), metrics()]);
  const now = Date.now();
  let totalRate = 0;
  const rows = data.pipelines.map((p) => {
    const { rates } = sample(p, now);
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
      el('a', { href: '#/pipelines/' + encodeURIComponent(p.name), 'data-pipeline-link': p.name }, el('strong', {}, p.name)),
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
  const pipeline = params.get('pipeline') || '';
  const data = await api('/v1/checks?limit=500' + (failed ? '&failed=true' : '') +
    (pipeline ? '&pipeline=' + encodeURIComponent(pipeline) : ''));
  const toggle = el('label', {}, el('input', {
    type: 'checkbox', id: 'failed-only', checked: failed,
    onchange: (e) => setHash('checks', { failed: e.target.checked ? 'true' : '', pipeline }),
  }), ' failed only', pipeline ? ` (pipeline ${pipeline}) ` : '',
  pipeline ? el('a', { href: '#/checks' }, 'all pipelines') : null);
  const passed = data.results.filter((r) => r.passed).length;
  fill(root, 
    el('h2', {}, 'Check results'),
    el('div', { class: 'cards' }, card('Results', number(data.results.length)), card('Passed', number(passed)),
      card('Failed', number(data.results.length - passed))),
    el('div', { class: 'toolbar' }, toggle),
    data.results.length ? checksChart(data.results) : null,
    table(['When', 'Pipeline', '#Run', 'Dataset', 'Rule', 'Observed', 'Bound', 'Result', 'Severity'],
      data.results.map((r) => [when(r.at), r.pipeline, number(r.run), r.dataset, el('code', {}, r.rule),
        r.observed, r.bound, badge(r.passed ? 'passed' : 'failed'), r.severity]),
      'No check results yet: dataset-level rules record theirs when their pipeline runs.'));
}

// A line chart of `values` (oldest first) with its last value and maximum in the caption; the
// numbers drawn are on the element (data-last, data-max, data-count) for whoever checks them.
function lineChart(values, options) {
  const w = 300, h = 110;
  const shown = values.length ? values : [0];
  const max = Math.max(1e-9, ...shown);
  const step = shown.length > 1 ? w / (shown.length - 1) : w;
  const points = shown.map((v, i) => [i * step, h - 4 - (v / max) * (h - 12)]);
  const line = points.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join(' ');
  const area = line + ` L${points[points.length - 1][0].toFixed(1)} ${h} L0 ${h} Z`;
  const last = values.length ? values[values.length - 1] : null;
  const format = options.format || number;
  return el('figure', { class: 'figure' },
    svg('svg', {
      class: 'line-chart ' + (options.cls || ''), viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none',
      role: 'img', 'aria-label': options.label, 'data-chart': options.id || options.label,
      'data-last': last === null ? '' : String(last), 'data-max': String(values.length ? max : 0),
      'data-count': String(values.length),
    }, svg('path', { class: 'area', d: area }), svg('path', { class: 'line', d: line })),
    el('figcaption', { class: 'muted' }, `${options.label}: `,
      el('strong', { 'data-chart-last': options.id || options.label }, last === null ? '–' : format(last)),
      values.length ? ` (max ${format(max)}, last ${values.length} polls)` : ''));
}

async function pipelinePage(root, name) {
  const p = await api('/v1/pipelines/' + encodeURIComponent(name));
  const { history, rates } = sample(p, Date.now());
  const current = rates.length ? rates[rates.length - 1] : null;
  fill(root,
    el('h2', {}, el('a', { href: '#/pipelines' }, 'Pipelines'), ' / ', p.name),
    el('div', { class: 'toolbar' },
      el('a', { href: '#/lineage?pipeline=' + encodeURIComponent(p.name), id: 'to-lineage' }, 'Lineage'),
      el('a', { href: '#/dead-letters?pipeline=' + encodeURIComponent(p.name), id: 'to-dead-letters' }, 'Dead letters'),
      el('a', { href: '#/checks?pipeline=' + encodeURIComponent(p.name) }, 'Check results')),
    el('div', { class: 'cards' },
      card('State', badge(p.state)), card('Records/s', rate(current)),
      card('In', el('span', { 'data-field': 'in' }, number(p.records.in))),
      card('Out', el('span', { 'data-field': 'out' }, number(p.records.out))),
      card('Dead-lettered', el('span', { 'data-field': 'dead_lettered' }, number(p.records.dead_lettered))),
      card('Watermark lag', p.watermark_lag_ms === null ? '–' : duration(p.watermark_lag_ms)),
      card('Last commit', when(p.last_commit_at)), card('Commits', number(p.commits))),
    el('div', { class: 'charts' },
      lineChart(rates, { id: 'throughput', label: 'Throughput (records/s)', format: rate }),
      lineChart(history.filter((h) => typeof h.lag === 'number').map((h) => h.lag / 1000),
        { id: 'lag', cls: 'lag', label: 'Watermark lag (s)', format: (v) => duration(v * 1000) }),
      lineChart(history.map((h) => h.dead), { id: 'dead_lettered', cls: 'dead', label: 'Dead letters (total)' })),
    p.last_error ? el('div', {}, el('h3', {}, 'Last error'), el('p', { class: 'error-text' }, p.last_error)) : null,
    p.reason ? el('p', { class: 'muted' }, p.reason) : null);
}

function location_of(d) {
  if (d.topic !== undefined && d.offset !== undefined) return `topic ${d.topic} p${d.partition}@${d.offset}`;
  if (d.file) return d.file + (d.line ? ':' + d.line : '');
  if (d.view) return 'view ' + d.view;
  return '–';
}

function hashParams() {
  return new URLSearchParams(location.hash.split('?')[1] || '');
}

function setHash(page, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  location.hash = '#/' + page + (text ? '?' + text : '');
}

// A bar `width` pixels wide; set through the CSSOM, as the Content-Security-Policy refuses style
// attributes.
function bar(width) {
  const node = el('span', { class: 'bar' });
  node.style.width = width + 'px';
  return node;
}

async function deadLettersPage(root) {
  const params = hashParams();
  const filter = { pipeline: params.get('pipeline') || '', stage: params.get('stage') || '', q: params.get('q') || '' };
  const query = new URLSearchParams({ limit: '500' });
  for (const [key, value] of Object.entries(filter)) if (value) query.set(key, value);
  const quarantineQuery = new URLSearchParams({ stage: 'file', limit: '1000' });
  if (filter.pipeline) quarantineQuery.set('pipeline', filter.pipeline);
  const [data, quarantined, pipelines] = await Promise.all([
    api('/v1/dead-letters?' + query), api('/v1/dead-letters?' + quarantineQuery), api('/v1/info')]);
  const names = (pipelines.pipelines || []).slice();
  const search = el('input', { type: 'search', id: 'dlq-search', name: 'q', value: filter.q, placeholder: 'search reasons, files, raw records…' });
  const pipelineSelect = el('select', { id: 'dlq-pipeline', name: 'pipeline' },
    el('option', { value: '' }, 'all pipelines'),
    names.map((n) => el('option', { value: n, selected: n === filter.pipeline }, n)));
  const stageSelect = el('select', { id: 'dlq-stage', name: 'stage' },
    el('option', { value: '' }, 'all stages'),
    ['decode', 'file', 'check', 'evaluate', 'late', 'sink'].map((n) => el('option', { value: n, selected: n === filter.stage }, n)));
  const apply = () => setHash('dead-letters', { pipeline: pipelineSelect.value, stage: stageSelect.value, q: search.value.trim() });
  pipelineSelect.addEventListener('change', apply);
  stageSelect.addEventListener('change', apply);
  const form = el('form', { class: 'search', role: 'search', onsubmit: (e) => { e.preventDefault(); apply(); } },
    search, pipelineSelect, stageSelect, el('button', { type: 'submit' }, 'Search'));
  const top = data.reasons.length ? data.reasons[0].count : 1;
  fill(root,
    el('h2', {}, 'Dead letters'),
    form,
    el('div', { class: 'cards' },
      card('Matching', el('span', { id: 'dlq-matched' }, number(data.matched))),
      card('Files set aside', el('span', { id: 'dlq-quarantined' }, number(quarantined.matched))),
      card('Reasons', number(data.reasons.length))),
    el('h3', {}, 'By reason'),
    data.reasons.length ? el('ul', { class: 'reasons' }, data.reasons.slice(0, 10).map((r) => el('li', {},
      bar(Math.max(4, Math.round(120 * r.count / top))),
      el('span', { class: 'num' }, number(r.count)), el('span', {}, r.reason || '(no reason)')))) : el('p', { class: 'muted' }, 'None.'),
    el('h3', {}, 'Files set aside (quarantined)'),
    table(['Pipeline', 'Source', 'File', 'Reason', 'When'], quarantined.dead_letters.map((d) => [
      d.pipeline, d.source || '–', el('code', { 'data-quarantined': d.file }, d.file || '–'), d.reason, when(d.time)]),
    'No file was set aside: every file could be read.'),
    el('h3', {}, 'Records'),
    table(['When', 'Pipeline', 'Source', 'Stage', 'Where', 'Reason', 'Record'], data.dead_letters.map((d) => {
      const raw = d.raw !== undefined ? d.raw : (d.row !== undefined ? JSON.stringify(d.row) : '');
      return [when(d.time), d.pipeline, d.source || d.view || '–', badge(d.stage || '–'), location_of(d),
        el('span', { class: 'dlq-reason' }, d.reason || ''), el('div', { class: 'raw' }, raw.length > 300 ? raw.slice(0, 300) + '…' : raw)];
    }), 'No dead letters match.'),
    data.truncated ? el('p', { class: 'muted' }, 'Only the newest 16 MiB of each dead-letter file were searched.') : null);
}

// The lineage graph as columns: datasets and views by how far downstream they are, then the
// pipelines and the jobs running them. One pass of ordering by the neighbours' positions keeps
// the edges short.
function layoutGraph(graph) {
  const layer = {};
  const data = graph.edges.filter((e) => e.kind === 'data');
  const orchestration = (n) => n.kind === 'pipeline' || n.kind === 'job';
  for (const n of graph.nodes) layer[n.id] = 0;
  for (let round = 0; round < graph.nodes.length; round++) {
    let changed = false;
    for (const e of data) {
      if (layer[e.to] < layer[e.from] + 1) { layer[e.to] = layer[e.from] + 1; changed = true; }
    }
    if (!changed) break;
  }
  const dataNodes = graph.nodes.filter((n) => !orchestration(n));
  const last = dataNodes.length ? Math.max(...dataNodes.map((n) => layer[n.id])) : -1;
  for (const n of graph.nodes) {
    if (n.kind === 'pipeline') layer[n.id] = last + 1;
    if (n.kind === 'job') layer[n.id] = last + 2;
  }
  const columns = [];
  for (const n of graph.nodes) (columns[layer[n.id]] = columns[layer[n.id]] || []).push(n);
  const position = {};
  columns.forEach((column, c) => {
    if (!column) return;
    const neighbours = (n) => graph.edges.filter((e) => e.to === n.id && position[e.from] !== undefined)
      .map((e) => position[e.from].row);
    if (c > 0) {
      column.sort((a, b) => {
        const na = neighbours(a), nb = neighbours(b);
        const ma = na.length ? na.reduce((x, y) => x + y, 0) / na.length : 1e9;
        const mb = nb.length ? nb.reduce((x, y) => x + y, 0) / nb.length : 1e9;
        return ma - mb;
      });
    }
    column.forEach((n, row) => { position[n.id] = { col: c, row }; });
  });
  return { position, columns: columns.length, rows: Math.max(1, ...columns.map((c) => (c ? c.length : 0))) };
}

async function lineagePage(root) {
  const params = hashParams();
  const query = params.get('dataset') ? 'dataset=' + encodeURIComponent(params.get('dataset'))
    : params.get('pipeline') ? 'pipeline=' + encodeURIComponent(params.get('pipeline')) : '';
  const [graph, streaming] = await Promise.all([api('/v1/lineage' + (query ? '?' + query : '')),
    api('/v1/pipelines').catch(() => ({ pipelines: [] }))]);
  const running = new Set(streaming.pipelines.map((p) => p.name));
  if (!graph.nodes.length) {
    fill(root, el('h2', {}, 'Lineage'), el('p', { class: 'muted' }, 'This project declares no pipelines, feature views or jobs.'));
    return;
  }
  const { position, columns, rows } = layoutGraph(graph);
  const W = 190, H = 30, GX = 240, GY = 44, PAD = 12;
  const width = PAD * 2 + (columns - 1) * GX + W, height = PAD * 2 + (rows - 1) * GY + H;
  const focus = graph.focus || null;
  const lit = new Set(focus ? [focus, ...graph.upstream, ...graph.downstream] : []);
  if (focus && focus.startsWith('pipeline:')) {
    for (const n of graph.nodes) if (n.kind === 'view' && 'pipeline:' + n.pipeline === focus) lit.add(n.id);
  }
  const at = (id) => ({ x: PAD + position[id].col * GX, y: PAD + position[id].row * GY });
  const edges = graph.edges.filter((e) => !(e.kind === 'runs' && e.from.startsWith('pipeline:'))).map((e) => {
    const a = at(e.from), b = at(e.to);
    const backwards = b.x <= a.x;
    const x1 = backwards ? a.x : a.x + W, x2 = backwards ? b.x + W : b.x;
    const y1 = a.y + H / 2, y2 = b.y + H / 2, mid = (x1 + x2) / 2;
    return svg('path', {
      class: 'edge ' + e.kind + (focus && lit.has(e.from) && lit.has(e.to) ? ' lit' : ''),
      d: `M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}`, 'data-edge': e.from + ' -> ' + e.to,
    });
  });
  const target = (n) => (n.kind === 'pipeline' ? '#/lineage?pipeline=' + encodeURIComponent(n.name)
    : n.kind === 'job' || n.kind === 'materialize' ? '#/jobs'
      : '#/lineage?dataset=' + encodeURIComponent(n.id));
  const nodes = graph.nodes.map((n) => {
    const { x, y } = at(n.id);
    const name = n.name.length > 30 ? '…' + n.name.slice(-29) : n.name;
    return svg('g', {
      class: 'node ' + n.kind + (focus && !lit.has(n.id) ? ' dim' : '') + (n.id === focus ? ' focus' : ''),
      transform: `translate(${x},${y})`, 'data-node': n.id, tabindex: '0', role: 'link',
      'aria-label': n.kind + ' ' + n.name,
    },
    svg('title', {}, n.kind + ' ' + n.name),
    svg('rect', { width: W, height: H, rx: 6 }),
    svg('text', { class: 'kind', x: 8, y: 11 }, n.kind.replace('_', ' ')),
    svg('text', { x: 8, y: 24 }, name));
  });
  const graphSvg = svg('svg', { class: 'graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'lineage graph' }, edges, nodes);
  graphSvg.addEventListener('click', (event) => {
    const g = event.target.closest('[data-node]');
    if (!g) return;
    const n = graph.nodes.find((x) => x.id === g.dataset.node);
    location.hash = target(n);
  });
  graphSvg.addEventListener('keydown', (event) => {
    const g = event.target.closest('[data-node]');
    if (g && event.key === 'Enter') g.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  });
  const name = (id) => {
    const n = graph.nodes.find((x) => x.id === id);
    return n ? n.kind + ' ' + n.name : id;
  };
  const link = (id) => el('li', {}, el('a', { href: '#/lineage?dataset=' + encodeURIComponent(id), 'data-lineage-item': id }, name(id)),
    ' ', el('a', { class: 'muted', href: '#/catalog/' + encodeURIComponent(id) }, '(catalog)'));
  const focusNode = focus ? graph.nodes.find((n) => n.id === focus) : null;
  fill(root,
    el('h2', {}, 'Lineage', focusNode ? ' / ' + focusNode.kind + ' ' + focusNode.name : ''),
    el('p', { class: 'legend muted' }, 'Sources → views → sinks → feature views, then the pipelines and the jobs that run them (dashed). Click a node to see what it reads from and feeds.',
      focus ? el('span', {}, ' ', el('a', { href: '#/lineage' }, 'Show all')) : null),
    focusNode && focusNode.kind === 'pipeline' && running.has(focusNode.name)
      ? el('p', {}, el('a', { href: '#/pipelines/' + encodeURIComponent(focusNode.name) }, 'Pipeline status and charts')) : null,
    focusNode && focusNode.kind !== 'pipeline'
      ? el('p', {}, el('a', { href: '#/catalog/' + encodeURIComponent(focusNode.id) }, 'Catalog entry')) : null,
    el('div', { class: 'graph-wrap' }, graphSvg),
    focus ? el('div', { class: 'charts' },
      el('div', {}, el('h3', {}, 'Upstream'), graph.upstream.length ? el('ul', { id: 'upstream' }, graph.upstream.map(link)) : el('p', { class: 'muted' }, 'Nothing: it is a source.')),
      el('div', {}, el('h3', {}, 'Downstream'), graph.downstream.length ? el('ul', { id: 'downstream' }, graph.downstream.map(link)) : el('p', { class: 'muted' }, 'Nothing reads it.'))) : null);
}

async function catalogPage(root, id) {
  if (id) return datasetPage(root, id);
  const params = hashParams();
  const q = params.get('q') || '', kind = params.get('kind') || '';
  const query = new URLSearchParams({ limit: '500' });
  if (q) query.set('q', q);
  if (kind) query.set('kind', kind);
  const data = await api('/v1/datasets?' + query);
  const search = el('input', { type: 'search', id: 'catalog-search', name: 'q', value: q, placeholder: 'search names, descriptions, owners, tags, columns…' });
  const kindSelect = el('select', { id: 'catalog-kind', name: 'kind' }, el('option', { value: '' }, 'all kinds'),
    ['topic', 'lake', 'feature_view', 'file', 'view', 'kafka'].map((k) => el('option', { value: k, selected: k === kind }, k.replace('_', ' '))));
  const apply = () => setHash('catalog', { q: search.value.trim(), kind: kindSelect.value });
  kindSelect.addEventListener('change', apply);
  fill(root,
    el('h2', {}, 'Catalog'),
    el('form', { class: 'search', role: 'search', onsubmit: (e) => { e.preventDefault(); apply(); } },
      search, kindSelect, el('button', { type: 'submit' }, 'Search')),
    el('p', { class: 'muted', id: 'catalog-total' }, `${number(data.total)} dataset${data.total === 1 ? '' : 's'}`),
    table(['Dataset', 'Kind', 'Description', 'Owner', 'Tags', '#Columns', 'Pipelines'], data.datasets.map((d) => [
      el('a', { href: '#/catalog/' + encodeURIComponent(d.id), 'data-dataset': d.id }, el('strong', {}, d.name)),
      d.kind.replace('_', ' '), d.description || '–', d.owner || '–',
      el('div', { class: 'chips' }, d.tags.map((t) => el('span', { class: 'chip' }, t))),
      number(d.columns.length), d.pipelines.join(', ')]), 'No dataset matches.'));
}

async function datasetPage(root, id) {
  const d = await api('/v1/datasets/' + encodeURIComponent(id));
  const link = (other) => el('li', {}, el('a', { href: '#/catalog/' + encodeURIComponent(other) }, other));
  fill(root,
    el('h2', {}, el('a', { href: '#/catalog' }, 'Catalog'), ' / ', d.name),
    d.description ? el('p', {}, d.description) : null,
    el('div', { class: 'cards' }, card('Kind', d.kind.replace('_', ' ')), card('Owner', d.owner || '–'),
      card('Last write', d.freshness ? when(d.freshness.last_write_at) : '–'),
      d.records !== undefined ? card('Records', number(d.records)) : null,
      card('Checks failing', number(d.checks.filter((c) => !c.passed).length))),
    d.tags.length ? el('div', { class: 'chips' }, d.tags.map((t) => el('span', { class: 'chip' }, t))) : null,
    el('div', { class: 'toolbar' }, el('a', { href: '#/lineage?dataset=' + encodeURIComponent(d.id) }, 'Lineage graph')),
    el('h3', {}, 'Schema'),
    table(['Column', 'Type'], d.columns.map((c) => [c.name, el('code', {}, c.type)]), 'No declared columns.'),
    el('h3', {}, 'Schema history'),
    table(['Since', 'Columns'], d.schema_history.map((h) => h.snapshot_id !== undefined
      ? [`snapshot ${h.snapshot_id} (${h.committed_at})`, el('code', {}, h.columns.map((c) => `${c.name} ${c.type}`).join(', '))]
      : [`${h.subject} v${h.version} (id ${h.id})`, el('code', {}, h.schema)]), 'No recorded schema versions.'),
    el('h3', {}, 'Last check results'),
    table(['When', 'Pipeline', 'Rule', 'Observed', 'Bound', 'Result'], d.checks.map((c) => [when(c.at), c.pipeline,
      el('code', {}, c.rule), c.observed, c.bound, badge(c.passed ? 'passed' : 'failed')]), 'No check results recorded.'),
    el('div', { class: 'charts' },
      el('div', {}, el('h3', {}, 'Upstream'), d.lineage.upstream.length ? el('ul', {}, d.lineage.upstream.map(link)) : el('p', { class: 'muted' }, 'None.')),
      el('div', {}, el('h3', {}, 'Downstream'), d.lineage.downstream.length ? el('ul', {}, d.lineage.downstream.map(link)) : el('p', { class: 'muted' }, 'None.'))));
}

// Check results per run (at), oldest first: passed stacked under failed.
function checksChart(results) {
  const runs = new Map();
  for (const r of results.slice().reverse()) {
    const key = r.pipeline + ' ' + r.at;
    const entry = runs.get(key) || { at: r.at, pipeline: r.pipeline, passed: 0, failed: 0 };
    entry[r.passed ? 'passed' : 'failed']++;
    runs.set(key, entry);
  }
  const groups = Array.from(runs.values()).slice(-40);
  const w = 600, h = 140, pad = 14;
  const max = Math.max(1, ...groups.map((g) => g.passed + g.failed));
  const bw = groups.length ? (w - 2 * pad) / groups.length : 0;
  const bars = groups.map((g, i) => {
    const x = pad + i * bw + 1, width = Math.max(1, bw - 2);
    const hp = (g.passed / max) * (h - 2 * pad), hf = (g.failed / max) * (h - 2 * pad);
    return svg('g', { 'data-run': g.at, 'data-pipeline': g.pipeline, 'data-passed': g.passed, 'data-failed': g.failed },
      svg('title', {}, `${g.pipeline} ${g.at}: ${g.passed} passed, ${g.failed} failed`),
      svg('rect', { class: 'passed', x: x.toFixed(1), y: (h - pad - hp).toFixed(1), width: width.toFixed(1), height: hp.toFixed(1) }),
      svg('rect', { class: 'failed', x: x.toFixed(1), y: (h - pad - hp - hf).toFixed(1), width: width.toFixed(1), height: hf.toFixed(1) }));
  });
  return el('figure', { class: 'figure' },
    svg('svg', { class: 'chart checks', viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'check results per run' }, bars),
    el('figcaption', { class: 'muted' }, `Results per run, oldest first (green passed, red failed; ${groups.length} runs)`));
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
  'dead-letters': { render: deadLettersPage, poll: 5000 },
  lineage: { render: lineagePage, poll: 30000 },
  catalog: { render: catalogPage, poll: 30000 },
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
