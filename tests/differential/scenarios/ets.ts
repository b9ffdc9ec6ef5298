import type { Scenario } from "../scenario.ts";

export const etsScenarios: Scenario[] = [];
