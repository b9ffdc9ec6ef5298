export { eventScenarios } from "./application.ts";
