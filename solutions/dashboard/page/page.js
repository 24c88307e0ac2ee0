// The dashboard page: everything arrives as server-sent events from /events; every text from the
// broker is set with textContent, never parsed as HTML. An ES module (index.html), with its elements
// built in dom.js and an order's trace drawn by trace.js.
import { $, el } from './dom.js';
import { loadTrace } from './trace.js';

const STEPS = ['pending', 'paid', 'shipped', 'completed'];
const PRESETS = {
  seed: { user: 'gayal', items: 'item1, item2', express: false },
  'out-of-stock': { user: 'gayal', items: 'unobtainium', express: false },
  declined: { user: 'gayal', items: 'gold-bar', express: false },
  express: { user: 'gayal', items: 'item3*2', express: true },
};

const state = {
  orders: new Map(),
  queues: [],
  streams: [],
  services: undefined,
  selected: undefined,
  token: new URLSearchParams(location.search).get('token') ?? '',
};

function headers() {
  return { 'content-type': 'application/json', ...(state.token ? { 'x-dashboard-token': state.token } : {}) };
}

// ── saying what changed, politely (one live region; a burst of changes is said once) ──────────
const announcements = [];
function announce(text) {
  announcements.push(text);
  clearTimeout(state.announceTimer);
  state.announceTimer = setTimeout(() => {
    $('#announcer').textContent = announcements.splice(0).join('. ');
  }, 300);
}

// ── orders ──────────────────────────────────────────────────────────────────────────────────────
function renderOrders() {
  const list = $('#order-list');
  const focused = document.activeElement?.closest?.('#order-list li')?.dataset.order;
  const orders = [...state.orders.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  list.replaceChildren(
    ...orders.map((order) => {
      const reached = STEPS.indexOf(order.status);
      const steps = el(
        'span',
        { class: 'steps', 'aria-hidden': 'true' },
        ...STEPS.map((_, i) => el('span', { class: i <= reached ? 'done' : '' })),
      );
      const selected = order.orderId === state.selected;
      const button = el(
        'button',
        { type: 'button', ...(selected ? { 'aria-current': 'true' } : {}) },
        el('span', { class: `pill status-${order.status}`, text: order.status }),
        el('code', { text: `${order.orderId.slice(0, 8)}…`, title: order.orderId }),
        el('span', { class: 'muted small who', text: `${order.user ?? ''}${order.express ? ' · express' : ''}` }),
        steps,
      );
      button.addEventListener('click', () => selectOrder(order.orderId));
      return el('li', { 'data-order': order.orderId, 'data-status': order.status, class: selected ? 'selected' : '' }, button);
    }),
  );
  // Re-rendering must not throw the keyboard out of the list.
  if (focused) list.querySelector(`li[data-order="${CSS.escape(focused)}"] button`)?.focus();
  $('#no-orders').hidden = orders.length > 0;
  if (state.selected) renderHistory();
}

function selectOrder(orderId) {
  state.selected = orderId;
  renderOrders();
}

function renderHistory() {
  const order = state.orders.get(state.selected);
  if (!order) return;
  $('#history').hidden = false;
  $('#no-selection').hidden = true;
  $('#history-id').textContent = order.orderId;
  // In the order the dashboard received them (causal order, see order-board.ts), timed from the first.
  const first = Date.parse(order.history[0]?.receivedAt ?? order.updatedAt);
  $('#history-list').replaceChildren(
    ...order.history.map((h) =>
      el(
        'li',
        {},
        el('code', { text: h.type }),
        ` from ${h.source} `,
        el('span', { class: 'muted when', text: `+${((Date.parse(h.receivedAt) - first) / 1000).toFixed(2)} s` }),
      ),
    ),
  );
  // New events of the selected order: its trace has grown too (spans are written a moment later).
  clearTimeout(state.traceTimer);
  state.traceTimer = setTimeout(() => void loadTrace(order.orderId, (orderId) => state.selected === orderId), 400);
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
    el(
      'tr',
      { 'data-queue': q.name, class: q.ready > 0 ? 'busy' : '' },
      el('td', {}, el('code', { text: q.name })),
      el('td', { class: 'num ready', text: q.missing ? 'missing' : fmt(q.ready) }),
      el('td', { class: 'num', text: fmt(q.unacked) }),
      el('td', { class: 'num', text: fmt(q.consumers) }),
      el('td', { class: 'num', text: fmt(q.publishRate, 1) }),
      el('td', { class: 'num', text: fmt(q.deliverRate, 1) }),
    ),
  );
  $('#queue-table tbody').replaceChildren(...rows);
  const live = state.queues.find((q) => q.liveAt)?.liveAt;
  const sampled = state.queues.find((q) => q.sampledAt)?.sampledAt;
  $('#ages').textContent =
    `ready and consumers: live from AMQP (${age(live)}); unacked and rates: the management API's last sample (${age(sampled)}).`;
  for (const q of state.queues) {
    const node = document.querySelector(`#graph g.node.queue[data-name="${CSS.escape(q.name)}"]`);
    if (!node) continue;
    node.classList.toggle('busy', q.ready > 0);
    const detail = node.querySelector('.node-detail');
    if (detail)
      detail.textContent = q.missing ? 'not declared' : `ready ${fmt(q.ready)} · unacked ${fmt(q.unacked)} · cons ${fmt(q.consumers)}`;
  }
}

// ── streams (AUDIT_STREAM=on) ───────────────────────────────────────────────────────────────────
function renderStreams() {
  $('#streams').hidden = state.streams.length === 0;
  const rows = state.streams.map((s) =>
    el(
      'tr',
      { 'data-stream': s.name },
      el('td', {}, el('code', { text: s.name })),
      el('td', { class: 'num last-offset', text: fmt(s.lastOffset) }),
      el('td', { class: 'num', text: fmt(s.messages) }),
      el('td', { class: 'num', text: fmt(s.segments) }),
    ),
  );
  $('#stream-table tbody').replaceChildren(...rows);
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
  const focused = document.activeElement?.closest?.('#service-list li')?.dataset.service;
  list.replaceChildren(
    ...Object.entries(state.services).map(([name, status]) => {
      const running = status === 'running';
      const verb = running ? 'Stop' : 'Start';
      // Its name says which service: "Stop payment" (the service is written beside it, so only a screen reader needs it).
      const button = el(
        'button',
        { type: 'button', 'data-action': running ? 'stop' : 'start' },
        verb,
        el('span', { class: 'visually-hidden', text: ` ${name}` }),
      );
      if (status === 'starting' || status === 'stopping') button.disabled = true;
      button.addEventListener('click', () => control(name, running ? 'stop' : 'start', button));
      return el(
        'li',
        { 'data-service': name, 'data-state': status },
        el('span', { class: 'name' }, el('strong', { text: name }), ' ', el('span', { class: 'muted small', text: status })),
        button,
      );
    }),
  );
  if (focused) list.querySelector(`li[data-service="${CSS.escape(focused)}"] button`)?.focus();
}

// ── placing orders ──────────────────────────────────────────────────────────────────────────────
function parseItems(text) {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [sku, quantity] = part.split('*').map((s) => s.trim());
      return quantity ? { sku, quantity: Number(quantity) } : sku;
    });
}

async function placeOrder(event) {
  event?.preventDefault();
  const form = new FormData($('#order-form'));
  const body = { user: form.get('user'), items: parseItems(String(form.get('items'))), express: form.get('express') === 'on' };
  const result = $('#place-result');
  result.textContent = 'placing…';
  try {
    const answer = await fetch('/api/orders', { method: 'POST', headers: headers(), body: JSON.stringify(body) });
    const json = await answer.json();
    result.textContent = answer.ok ? `Order ${json.orderId} placed (${answer.status}).` : `Refused (${answer.status}): ${json.error}`;
    if (answer.ok) selectOrder(json.orderId);
  } catch (error) {
    result.textContent = `could not reach the dashboard: ${String(error)}`;
  }
}

// One click on a preset places its order (the form shows what was sent, to edit and send again).
for (const button of document.querySelectorAll('[data-preset]')) {
  button.addEventListener('click', () => {
    const preset = PRESETS[button.dataset.preset];
    const form = $('#order-form');
    form.user.value = preset.user;
    form.items.value = preset.items;
    form.express.checked = preset.express;
    void placeOrder();
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
  $('#dlq-table tbody').replaceChildren(
    ...json.map((m) =>
      el(
        'tr',
        {},
        el('td', {}, el('code', { text: m.type ?? '?' })),
        el('td', { text: m.orderId ?? '' }),
        el('td', { text: m.queue ?? '' }),
        el('td', { class: 'num', text: m.attempts ?? '' }),
        el('td', { text: m.reason ?? '' }),
      ),
    ),
  );
});

// ── the stream ──────────────────────────────────────────────────────────────────────────────────
function setBroker(connected) {
  const pill = $('#broker');
  if (state.brokerConnected !== undefined && state.brokerConnected !== connected)
    announce(connected ? 'Broker connected again' : 'Broker unreachable');
  state.brokerConnected = connected;
  pill.textContent = connected ? 'broker connected' : 'broker unreachable: reconnecting…';
  pill.className = `pill ${connected ? 'ok' : 'down'}`;
}

function connect() {
  const events = new EventSource('/events');
  events.addEventListener('state', (message) => {
    const snapshot = JSON.parse(message.data);
    state.orders = new Map(snapshot.orders.map((order) => [order.orderId, order]));
    state.queues = snapshot.queues;
    state.streams = snapshot.streams ?? [];
    state.services = snapshot.services;
    setBroker(snapshot.broker.connected);
    renderOrders();
    renderQueues();
    renderStreams();
    renderServices();
  });
  events.addEventListener('order', (message) => {
    const order = JSON.parse(message.data);
    const before = state.orders.get(order.orderId)?.status;
    if (before !== order.status) announce(`Order ${order.orderId.slice(0, 8)} ${order.status}`);
    state.orders.set(order.orderId, order);
    renderOrders();
  });
  events.addEventListener('streams', (message) => {
    state.streams = JSON.parse(message.data);
    renderStreams();
  });
  events.addEventListener('queues', (message) => {
    state.queues = JSON.parse(message.data);
    renderQueues();
  });
  events.addEventListener('broker', (message) => setBroker(JSON.parse(message.data).connected));
  events.addEventListener('services', (message) => {
    const services = JSON.parse(message.data);
    for (const [name, status] of Object.entries(services))
      if (state.services && state.services[name] !== status) announce(`${name} ${status}`);
    state.services = services;
    renderServices();
  });
  // The page's own connection to the dashboard: EventSource reconnects by itself.
  events.addEventListener('error', () => {
    $('#broker').textContent = 'dashboard unreachable: reconnecting…';
    $('#broker').className = 'pill down';
  });
}

fetch('/topology.svg')
  .then((answer) => answer.text())
  .then(
    (svg) => {
      $('#graph').innerHTML = svg; // our own server's SVG, drawn from the topology data with every text escaped
      renderQueues();
    },
    (error) => {
      $('#graph').textContent = `topology diagram unavailable: ${String(error)}`;
    },
  );
connect();
setInterval(renderQueues, 1000); // keeps the ages honest between samples
