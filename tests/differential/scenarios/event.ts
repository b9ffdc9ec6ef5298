import type { Scenario } from "../scenario.ts";

export const eventScenarios: Scenario[] = [];
