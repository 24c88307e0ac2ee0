// An order's trace on the dashboard page: one row per span (with what its work published), a bar
// on the trace's time scale, a time axis above, read from the dashboard's /api/orders/:id/trace.
import { $, el } from './dom.js';

const ms = (us) => {
  const value = us / 1000;
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
};

function renderAxis(total) {
  const ticks = [0, 0.5, 1].map((f) => {
    const tick = el('span', { text: ms(f * total) });
    tick.style.left = `${f * 100}%`;
    return tick;
  });
  $('#trace-axis').replaceChildren(el('span', { text: 'time since the order was placed' }), el('span', { class: 'ticks' }, ...ticks));
}

/** Draws the trace of `orderId`, unless `isSelected(orderId)` says another order was chosen meanwhile. */
export async function loadTrace(orderId, isSelected) {
  const answer = await fetch(`/api/orders/${encodeURIComponent(orderId)}/trace`).catch(() => undefined);
  if (!answer?.ok || !isSelected(orderId)) return;
  const { spans } = await answer.json();
  const list = $('#trace-list');
  if (spans.length === 0) {
    $('#trace-axis').replaceChildren();
    $('#trace-summary').textContent = '';
    return void list.replaceChildren(el('li', { class: 'muted', text: 'no spans yet' }));
  }
  const start = Math.min(...spans.map((s) => s.startUs));
  const total = Math.max(1, Math.max(...spans.map((s) => s.startUs + s.durationUs)) - start);
  const depth = new Map();
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const depthOf = (span) => {
    if (!depth.has(span.spanId))
      depth.set(span.spanId, span.parentSpanId && byId.has(span.parentSpanId) ? depthOf(byId.get(span.parentSpanId)) + 1 : 0);
    return depth.get(span.spanId);
  };
  renderAxis(total);
  $('#trace-summary').textContent = `${spans.length} spans over ${ms(total)}`;
  list.replaceChildren(
    ...spans.map((span) => {
      const left = ((span.startUs - start) / total) * 100;
      const width = Math.max(0.3, (span.durationUs / total) * 100);
      const bar = el('span', { class: `bar${span.status === 'ok' ? '' : ' failed'}` });
      bar.style.left = `${left}%`;
      bar.style.width = `${width}%`;
      // The duration beside its bar: right of it, or left of it when the bar ends near the right edge.
      const duration = el('span', { class: 'duration', text: ms(span.durationUs) });
      if (left + width > 75) duration.style.right = `${100 - left}%`;
      else duration.style.left = `${left + width}%`;
      // What the span's work published (span-store.ts, PUBLISHED_EVENTS_ATTRIBUTE): `→ inventory.reserved`.
      const published = span.attributes?.['messaging.publish.event_types'] ?? [];
      const label = el(
        'span',
        { class: 'label' },
        el('span', { class: 'muted', text: `${span.service} ` }),
        el('code', { text: span.name }),
        ...(published.length > 0 ? [el('span', { class: 'muted', text: ` → ${published.join(', ')}` })] : []),
      );
      label.style.paddingLeft = `${Math.min(depthOf(span), 6) * 0.5}em`;
      return el(
        'li',
        {
          'data-span': span.name,
          'data-publishes': published.join(' '),
          title: `${ms(span.startUs - start)} after the start, ${ms(span.durationUs)}${published.length > 0 ? `; published ${published.join(', ')}` : ''}`,
        },
        label,
        el('span', { class: 'track' }, bar, duration),
      );
    }),
  );
}
