import type { Scenario } from "../scenario.ts";

export const applicationScenarios: Scenario[] = [];
