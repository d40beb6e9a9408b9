/** The three parts of a SQL tracking store (runs, registry, logged models) on one engine. */
import type { TrackingStoreParts } from '../composite-store.js';
import type { SqlEngine } from './engine.js';
import { SqlLoggedModelStore } from './logged-model-store.js';
import { SqlRegistryStore } from './registry-store.js';
import { SqlRunStore } from './run-store.js';

export function sqlStoreParts(engine: SqlEngine): TrackingStoreParts {
  return {
    runs: new SqlRunStore(engine),
    registry: new SqlRegistryStore(engine),
    loggedModels: new SqlLoggedModelStore(engine),
  };
}
