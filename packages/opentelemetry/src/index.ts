export { openTelemetry, type OpenTelemetryOptions } from './open-telemetry.js';
export type { EnqueueContextUse } from './spans.js';
export * from './conventions.js';
