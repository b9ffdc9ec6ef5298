export * from "./assert_receive.ts";
export * from "./supervised.ts";
// Types the helpers' signatures name, so that this entry point documents them.
export { type ProcessContext, type SpawnOptions, TIMEOUT } from "../process/_spawn.ts";
export type {
  Child,
  ChildId,
  ChildModule,
  ChildSpec,
  ChildSpecOverrides,
  ChildType,
  RestartType,
  Shutdown,
  StartResult,
} from "../supervisor/child_spec.ts";
