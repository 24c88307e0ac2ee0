// Shipping prepares a shipment once payment succeeds, and records the delivery when the customer
// confirms it. The customer is simulated: preparing a shipment also publishes a delivery.confirmed
// into a delay queue, where it waits out its per-message TTL and then dead-letters into
// order.exchange. The delay lives in the broker, so it survives a crash of this service.
import { QUEUES } from '../../../shared/topology/topology.ts';
import { NotReadyError } from '../../runtime/errors.ts';
import type { EventHandler, HandlerMap } from '../../runtime/service-definition.ts';
import { resendWhatWasSent } from '../../runtime/stall-watch.ts';
import { ShipmentStore } from './shipment-store.ts';

const prepareShipment: EventHandler<'payment.success'> = (event, { db, emit, log, config }) => {
  const store = new ShipmentStore(db);
  if (store.find(event.orderId)) return;
  const shipmentId = `shp_${crypto.randomUUID().slice(0, 12)}`;
  store.prepare(event.orderId, shipmentId);
  emit('shipping.prepared', { shipmentId });
  log.info(`shipment prepared for order ${event.orderId}`);
  if (config.deliveryDelayMs !== 'manual') {
    emit(
      'delivery.confirmed',
      { confirmedBy: 'simulation' },
      {
        route: { exchange: '', routingKey: QUEUES.deliveryDelay },
        expirationMs: config.deliveryDelayMs,
      },
    );
  }
};

const recordDelivery: EventHandler<'delivery.confirmed'> = (event, { db, emit, log }) => {
  const store = new ShipmentStore(db);
  const shipment = store.find(event.orderId);
  if (!shipment) throw new NotReadyError(`delivery confirmed for order ${event.orderId}, which has no shipment yet`);
  if (shipment.status === 'delivered') return; // the customer confirmed twice
  store.markDelivered(event.orderId);
  emit('shipping.delivered', { shipmentId: shipment.shipmentId });
  log.info(`order ${event.orderId} delivered (confirmed by ${event.payload.confirmedBy})`);
};

export const shippingHandlers: HandlerMap = {
  'payment.success': prepareShipment,
  'delivery.confirmed': recordDelivery,
  // Another service saw this order stop moving: send again what this one published about it.
  'saga.stalled': resendWhatWasSent,
};
