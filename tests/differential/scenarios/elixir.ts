import type { Scenario } from "../scenario.ts";

export const elixirScenarios: Scenario[] = [];
