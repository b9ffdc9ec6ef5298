import type { Scenario } from "../scenario.ts";

export const genServerScenarios: Scenario[] = [];
