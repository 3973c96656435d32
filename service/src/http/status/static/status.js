// Status page script, served as /assets/status.<hash>.js (immutable). No framework, no build step.
// Polls /status.json, renders it, and registers the service worker (/sw.js) that keeps the page and the
// last known status available offline. A response the worker answered from its cache carries the header
// `x-umcp-status-source: cache`; the page then says it shows the last known status.
(() => {
  'use strict';
  const POLL_MS = Number(document.documentElement.dataset.pollMs) || 10000;
  const LABELS = { postgres: 'PostgreSQL', redis: 'Redis', migrations: 'Schema migrations', queue: 'Task queue' };
  const QUEUE_LABELS = {
    waiting: 'Task jobs waiting',
    active: 'Task jobs running',
    delayed: 'Task jobs waiting for a retry',
    failed: 'Task jobs failed',
    deadLettered: 'Dead-letter queue',
    oldestWaitingSeconds: 'Oldest waiting job',
  };
  const $ = (id) => document.getElementById(id);

  function stateOf(value) {
    if (value === true) return 'up';
    if (value === false) return 'down';
    return 'unknown';
  }

  function render(status, fromCache) {
    $('region').textContent = status.region;
    $('version').textContent = status.version;
    const overall = $('overall');
    overall.textContent = status.status;
    overall.dataset.state = status.status;
    const rows = $('checks');
    rows.replaceChildren();
    for (const [name, value] of Object.entries(status.checks)) {
      const tr = document.createElement('tr');
      const label = document.createElement('td');
      label.textContent = LABELS[name] || name;
      const state = document.createElement('td');
      state.className = 'state';
      state.dataset.check = name;
      state.dataset.state = stateOf(value);
      state.textContent = value === null ? 'not reported' : stateOf(value);
      tr.append(label, state);
      rows.append(tr);
    }
    // The queue's numbers (status.queue), when the queue check reported them.
    for (const [name, value] of Object.entries(status.queue || {})) {
      const tr = document.createElement('tr');
      const label = document.createElement('td');
      label.textContent = QUEUE_LABELS[name] || name;
      const count = document.createElement('td');
      count.className = 'count';
      count.dataset.queue = name;
      count.textContent = name === 'oldestWaitingSeconds' ? String(value) + ' s' : String(value);
      tr.append(label, count);
      rows.append(tr);
    }
    $('checked-at').textContent = new Date(status.checkedAt).toLocaleString();
    $('checked-at').dateTime = status.checkedAt;
    const notice = $('offline');
    notice.hidden = !fromCache;
    if (fromCache) notice.textContent = 'Offline: showing the last known status, checked ' + new Date(status.checkedAt).toLocaleString() + '.';
    document.body.dataset.source = fromCache ? 'cache' : 'network';
  }

  function unreachable() {
    const overall = $('overall');
    overall.textContent = 'unreachable';
    overall.dataset.state = 'unreachable';
    const notice = $('offline');
    notice.hidden = false;
    notice.textContent = 'The status endpoint cannot be reached and no earlier status is stored in this browser.';
    document.body.dataset.source = 'none';
  }

  async function refresh() {
    try {
      const res = await fetch('/status.json', { cache: 'no-store', headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error('status ' + res.status);
      render(await res.json(), res.headers.get('x-umcp-status-source') === 'cache');
    } catch {
      unreachable();
    } finally {
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    }
  }

  refresh();
  setInterval(refresh, POLL_MS);

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => {
      console.warn('service worker registration failed', err);
    });
  }
})();
