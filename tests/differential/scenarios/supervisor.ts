import type { Scenario } from "../scenario.ts";

export const supervisorScenarios: Scenario[] = [];
