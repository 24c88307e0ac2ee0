// Milestone 8: monitoring. Most checks serve the learner's layer a small fake of the management
// HTTP API (fake-management-api.ts) with numbers the check chose: rates that are not 0, depths
// that change between two calls, vhost names that need encoding, a path prefix, refusals. No waiting
// on the broker's samples, so the same code gets the same verdict every run, and the fake says what
// the layer asked for. One check reads the real API of the real broker, once its statistics show the
// state the check set up. The checks run concurrently (`concurrentChecks` in the manifest). They live
// by concept (fields read, URLs asked, refusals, the real broker); this list fixes their order.
import { defineChecks } from '../../check.ts';
import { counts, fresh, rates } from './field-checks.ts';
import { realBroker } from './real-broker-check.ts';
import { refusals } from './refusals-check.ts';
import { baseUrl, list, vhostName } from './url-checks.ts';

export const checks = defineChecks('monitoring', [counts, fresh, rates, list, vhostName, baseUrl, refusals, realBroker]);
