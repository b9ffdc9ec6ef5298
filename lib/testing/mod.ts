export * from "./assert_receive.ts";
export * from "./supervised.ts";
