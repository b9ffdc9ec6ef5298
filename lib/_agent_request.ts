/**
 * The messages an Agent understands. Not part of the public API: a server
 * that sends one update again and again builds it with the public
 * `Agent.prepareUpdate`.
 *
 * @module
 */

/** Request kinds: reply `fn(state)`; store `fn(state)`; reply and store `fn(state)`'s pair. */
export const GET = 0, UPDATE = 1, GET_AND_UPDATE = 2;

/** An Agent call: its kind and the function to run on the state. */
export type AgentRequest = readonly [number, (s: any) => any];
