// The README's order, through the containers (scripts/containers/test-containers.sh):
//   node order-check.mjs place <order API> <orderId> <seconds>   POST /orders, then GET until completed
//   node order-check.mjs kept  <order API> <orderId> <seconds>   GET: the order is still there, completed
// Exit 0 when it did, 1 saying what it saw last. Every request and the whole wait have a deadline.
const [mode, api, orderId, seconds] = process.argv.slice(2);
const deadline = Date.now() + Number(seconds) * 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function request(method, path, body) {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

let last = 'no answer yet';
if (mode === 'place') {
  const placed = await request('POST', '/orders', { orderId, user: 'gayal', items: ['item1', 'item2'] });
  console.log(`   POST /orders ${orderId}: ${placed.status}`);
  if (placed.status >= 300) {
    console.error(`   the order API refused the order: ${placed.status} ${placed.text}`);
    process.exit(1);
  }
}
const started = Date.now();
while (Date.now() < deadline) {
  try {
    const got = await request('GET', `/orders/${encodeURIComponent(orderId)}`);
    last = `${got.status} ${got.text.slice(0, 300)}`;
    if (got.status === 200 && got.json().status === 'completed') {
      const history = got.json().history;
      const steps = Array.isArray(history) ? history.map((step) => step.status ?? step.type ?? step).join(' > ') : '';
      console.log(
        `   GET /orders/${orderId}: completed after ${((Date.now() - started) / 1000).toFixed(1)} s${steps ? ` (${steps})` : ''}`,
      );
      process.exit(0);
    }
    if (mode === 'kept' && got.status === 404) break;
  } catch (error) {
    last = String(error);
  }
  await sleep(1000);
}
console.error(`   order ${orderId} not completed (${mode}); last answer: ${last}`);
process.exit(1);
