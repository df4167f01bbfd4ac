// @ts-check
// Layout of the per-worker shared counters (Int32Array over a SharedArrayBuffer)
// the main thread polls without messaging the worker.

/** Slot indices. */
export const SLOT = Object.freeze({
  RECEIVED: 0, // deliveries of the current step
  OPEN: 1, // connections currently connected
  DROPPED: 2, // connected connections that closed without being asked to
  PROBE_READY: 3, // clients that saw a probe on every channel they subscribed to
  STRAY: 4, // deliveries stamped with another step (late arrivals)
});
/** Number of slots. */
export const SLOT_COUNT = 8;
