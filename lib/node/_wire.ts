/**
 * STUB (distnode branch): the seam of the distcodec helper's wire layer.
 * Replaced by distcodec's `_wire.ts` at merge.
 *
 * @module
 */

/** Told of each control message a peer sends. */
export type ControlHandler = (fromNode: string, control: unknown, payload: unknown) => void;

interface Wire {
  send(node: string, control: unknown, payload?: unknown): boolean;
  self(): string;
  creation(): number;
}

export let handler: ControlHandler | null = null;
export const downHandlers: Array<(node: string, reason: unknown) => void> = [];
const wire: Wire = { send: () => false, self: () => "nonode@nohost", creation: () => 0 };

/** Sets who hears incoming control messages. */
export function setControlHandler(fn: ControlHandler): void {
  handler = fn;
}
/** Sends a control message (and payload) to `node`; false when it cannot be reached. */
export function sendControl(node: string, control: unknown, payload?: unknown): boolean {
  return wire.send(node, control, payload);
}
/** Adds a listener for lost connections. */
export function onNodeDown(fn: (node: string, reason: unknown) => void): void {
  downHandlers.push(fn);
}
/** This node's name. */
export function selfNode(): string {
  return wire.self();
}
/** This node's creation. */
export function creation(): number {
  return wire.creation();
}
