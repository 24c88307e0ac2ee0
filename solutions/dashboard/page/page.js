// The dashboard page: everything arrives as server-sent events from /events; every text from the
// broker is set with textContent, never parsed as HTML.
'use strict';

const STEPS = ['pending', 'paid', 'shipped', 'completed'];
const PRESETS = {
  seed: { user: 'gayal', items: 'item1, item2', express: false },
  'out-of-stock': { user: 'gayal', items: 'unobtainium', express: false },
  declined: { user: 'gayal', items: 'gold-bar', express: false },
  express: { user: 'gayal', items: 'item3*2', express: true },
};

const $ = (selector) => document.querySelector(selector);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
};

const state = { orders: new Map(), queues: [], services: undefined, selected: undefined, token: new URLSearchParams(location.search).get('token') ?? '' };

function headers() {
  return { 'content-type': 'application/json', ...(state.token ? { 'x-dashboard-token': state.token } : {}) };
}

// ── orders ──────────────────────────────────────────────────────────────────────────────────────
function renderOrders() {
  const list = $('#order-list');
  const orders = [...state.orders.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  list.replaceChildren(
    ...orders.map((order) => {
      const reached = STEPS.indexOf(order.status);
      const steps = el('span', { class: 'steps', 'aria-hidden': 'true' }, ...STEPS.map((_, i) => el('span', { class: i <= reached ? 'done' : '' })));
      const item = el('li', { 'data-order': order.orderId, 'data-status': order.status, class: order.orderId === state.selected ? 'selected' : '' },
        el('span', { class: `pill status-${order.status}`, text: order.status }),
        el('code', { text: order.orderId }),
        el('span', { class: 'muted small', text: `${order.user ?? ''}${order.express ? ' · express' : ''}` }),
        steps);
      item.addEventListener('click', () => selectOrder(order.orderId));
      return item;
    }),
  );
  $('#no-orders').hidden = orders.length > 0;
  if (state.selected) renderHistory();
}

function selectOrder(orderId) {
  state.selected = orderId;
  renderOrders();
}

// ── an order's trace: one row per span, a bar on the trace's time scale ───────────────────────
async function loadTrace(orderId) {
  const answer = await fetch(`/api/orders/${encodeURIComponent(orderId)}/trace`).catch(() => undefined);
  if (!answer?.ok || state.selected !== orderId) return;
  const { spans } = await answer.json();
  const list = $('#trace-list');
  if (spans.length === 0) return void list.replaceChildren(el('li', { class: 'muted', text: 'no spans yet' }));
  const start = Math.min(...spans.map((s) => s.startUs));
  const total = Math.max(1, Math.max(...spans.map((s) => s.startUs + s.durationUs)) - start);
  const depth = new Map();
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const depthOf = (span) => {
    if (!depth.has(span.spanId)) depth.set(span.spanId, span.parentSpanId && byId.has(span.parentSpanId) ? depthOf(byId.get(span.parentSpanId)) + 1 : 0);
    return depth.get(span.spanId);
  };
  list.replaceChildren(...spans.map((span) => {
    const bar = el('span', { class: `bar${span.status === 'ok' ? '' : ' failed'}` });
    bar.style.marginLeft = `${((span.startUs - start) / total) * 100}%`;
    bar.style.width = `${Math.max(0.5, (span.durationUs / total) * 100)}%`;
    const label = el('span', { class: 'label' }, el('span', { class: 'muted', text: `${span.service} ` }), el('code', { text: span.name }));
    label.style.paddingLeft = `${depthOf(span) * 0.6}em`;
    return el('li', { 'data-span': span.name, title: `${((span.startUs - start) / 1000).toFixed(1)} ms after the start, ${(span.durationUs / 1000).toFixed(1)} ms` }, label, el('span', { class: 'track' }, bar));
  }));
}

function renderHistory() {
  const order = state.orders.get(state.selected);
  if (!order) return;
  $('#history').hidden = false;
  $('#history-id').textContent = order.orderId;
  $('#history-list').replaceChildren(...order.history.map((h) => el('li', {}, el('code', { text: h.type }), ` from ${h.source} at ${new Date(h.occurredAt).toLocaleTimeString()}`)));
  // New events of the selected order: its trace has grown too (spans are written a moment later).
  clearTimeout(state.traceTimer);
  state.traceTimer = setTimeout(() => void loadTrace(order.orderId), 400);
}

// ── queues ──────────────────────────────────────────────────────────────────────────────────────
const fmt = (value, digits = 0) => (value === undefined ? '—' : Number(value).toFixed(digits));

function age(iso) {
  if (!iso) return 'never';
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s ago`;
}

function renderQueues() {
  const rows = state.queues.map((q) =>
    el('tr', { 'data-queue': q.name, class: q.ready > 0 ? 'busy' : '' },
      el('td', {}, el('code', { text: q.name })),
      el('td', { class: 'num ready', text: q.missing ? 'missing' : fmt(q.ready) }),
      el('td', { class: 'num', text: fmt(q.unacked) }),
      el('td', { class: 'num', text: fmt(q.consumers) }),
      el('td', { class: 'num', text: fmt(q.publishRate, 1) }),
      el('td', { class: 'num', text: fmt(q.deliverRate, 1) })));
  $('#queue-table tbody').replaceChildren(...rows);
  const live = state.queues.find((q) => q.liveAt)?.liveAt;
  const sampled = state.queues.find((q) => q.sampledAt)?.sampledAt;
  $('#ages').textContent = `ready and consumers live from AMQP (${age(live)}); unacked and rates are the management API's samples (${age(sampled)})`;
  for (const q of state.queues) {
    const node = document.querySelector(`#graph g.node.queue[data-name="${CSS.escape(q.name)}"]`);
    if (!node) continue;
    node.classList.toggle('busy', q.ready > 0);
    const detail = node.querySelector('.node-detail');
    if (detail) detail.textContent = q.missing ? 'not declared' : `ready ${fmt(q.ready)} · unacked ${fmt(q.unacked)} · consumers ${fmt(q.consumers)}`;
  }
}

// ── services ────────────────────────────────────────────────────────────────────────────────────
async function control(service, action, button) {
  button.disabled = true;
  const answer = await fetch(`/api/services/${encodeURIComponent(service)}/${action}`, { method: 'POST', headers: headers() });
  if (!answer.ok) $('#control-note').textContent = (await answer.json()).error;
}

function renderServices() {
  const list = $('#service-list');
  if (!state.services) {
    list.replaceChildren();
    $('#control-note').textContent = 'Stopping and starting services needs `npm start`: here something else runs them.';
    return;
  }
  $('#control-note').textContent = 'Stop a service and watch its queue fill; start it and watch it drain.';
  list.replaceChildren(
    ...Object.entries(state.services).map(([name, status]) => {
      const running = status === 'running';
      const button = el('button', { type: 'button', 'data-action': running ? 'stop' : 'start', text: running ? 'Stop' : 'Start' });
      if (status === 'starting' || status === 'stopping') button.disabled = true;
      button.addEventListener('click', () => control(name, running ? 'stop' : 'start', button));
      return el('li', { 'data-service': name, 'data-state': status }, el('span', {}, el('strong', { text: name }), el('br'), el('span', { class: 'muted small', text: status })), button);
    }),
  );
}

// ── placing orders ──────────────────────────────────────────────────────────────────────────────
function parseItems(text) {
  return text.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const [sku, quantity] = part.split('*').map((s) => s.trim());
    return quantity ? { sku, quantity: Number(quantity) } : sku;
  });
}

async function placeOrder(event) {
  event.preventDefault();
  const form = new FormData($('#order-form'));
  const body = { user: form.get('user'), items: parseItems(String(form.get('items'))), express: form.get('express') === 'on' };
  const result = $('#place-result');
  result.textContent = 'placing…';
  try {
    const answer = await fetch('/api/orders', { method: 'POST', headers: headers(), body: JSON.stringify(body) });
    const json = await answer.json();
    result.textContent = answer.ok ? `order ${json.orderId} accepted (${answer.status})` : `refused (${answer.status}): ${json.error}`;
    if (answer.ok) selectOrder(json.orderId);
  } catch (error) {
    result.textContent = `could not reach the dashboard: ${error}`;
  }
}

for (const button of document.querySelectorAll('[data-preset]')) {
  button.addEventListener('click', () => {
    const preset = PRESETS[button.dataset.preset];
    const form = $('#order-form');
    form.user.value = preset.user;
    form.items.value = preset.items;
    form.express.checked = preset.express;
  });
}
$('#order-form').addEventListener('submit', placeOrder);

// ── parked messages ─────────────────────────────────────────────────────────────────────────────
$('#show-dlq').addEventListener('click', async () => {
  const answer = await fetch('/api/dead-letters');
  const json = await answer.json();
  if (!answer.ok) return void ($('#dlq-note').textContent = json.error);
  $('#dlq-table').hidden = json.length === 0;
  $('#dlq-note').textContent = json.length === 0 ? 'Nothing is parked.' : `${json.length} parked (peeked, and left in the queue).`;
  $('#dlq-table tbody').replaceChildren(...json.map((m) => el('tr', {}, el('td', {}, el('code', { text: m.type ?? '?' })), el('td', { text: m.orderId ?? '' }), el('td', { text: m.queue ?? '' }), el('td', { class: 'num', text: m.attempts ?? '' }), el('td', { text: m.reason ?? '' }))));
});

// ── the stream ──────────────────────────────────────────────────────────────────────────────────
function setBroker(connected) {
  const pill = $('#broker');
  pill.textContent = connected ? 'broker connected' : 'broker unreachable: reconnecting…';
  pill.className = `pill ${connected ? 'ok' : 'down'}`;
}

function connect() {
  const events = new EventSource('/events');
  events.addEventListener('state', (message) => {
    const snapshot = JSON.parse(message.data);
    state.orders = new Map(snapshot.orders.map((order) => [order.orderId, order]));
    state.queues = snapshot.queues;
    state.services = snapshot.services;
    setBroker(snapshot.broker.connected);
    renderOrders();
    renderQueues();
    renderServices();
  });
  events.addEventListener('order', (message) => {
    const order = JSON.parse(message.data);
    state.orders.set(order.orderId, order);
    renderOrders();
  });
  events.addEventListener('queues', (message) => {
    state.queues = JSON.parse(message.data);
    renderQueues();
  });
  events.addEventListener('broker', (message) => setBroker(JSON.parse(message.data).connected));
  events.addEventListener('services', (message) => {
    state.services = JSON.parse(message.data);
    renderServices();
  });
  // The page's own connection to the dashboard: EventSource reconnects by itself.
  events.addEventListener('error', () => {
    $('#broker').textContent = 'dashboard unreachable: reconnecting…';
    $('#broker').className = 'pill down';
  });
}

fetch('/topology.svg').then((answer) => answer.text()).then((svg) => {
  $('#graph').innerHTML = svg; // our own server's SVG, drawn from the topology data with every text escaped
  renderQueues();
});
connect();
setInterval(renderQueues, 1000); // keeps the ages honest between samples
