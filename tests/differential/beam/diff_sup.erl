%% A supervisor whose init argument is its init result: {Flags, Children}.
-module(diff_sup).
-behaviour(supervisor).
-export([init/1]).

init(FlagsAndChildren) -> {ok, FlagsAndChildren}.
