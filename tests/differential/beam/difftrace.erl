%% The BEAM side of the differential suite: runs scenarios one after another and
%% prints each one's trace in the canonical form that tests/differential/trace.ts
%% also prints, with pids and refs replaced by P1, P2, ... and R1, R2, ... in
%% order of first appearance.
%%
%% A scenario is {Name, Fun}; Fun runs as a fresh process (the scenario's main
%% process) and records events with ev/1. The trace ends with {end,Reason}, the
%% main process's exit reason. Processes a scenario leaves behind are killed.
-module(difftrace).
-export([run_all/1, ev/1, collect/2, recv/1, fmt/1]).

-define(SCENARIO_TIMEOUT, 4000).

run_all(Scenarios) ->
    lists:foreach(fun run_one/1, Scenarios),
    io:format("== done~n").

run_one({Name, Fun}) ->
    Tracer = spawn(fun() -> tracer(#{}, #{}, []) end),
    register(difftrace, Tracer),
    Before = erlang:processes(),
    {Main, Mon} = spawn_monitor(Fun),
    End = receive
              {'DOWN', Mon, process, Main, Reason} -> Reason
          after ?SCENARIO_TIMEOUT ->
              exit(Main, kill),
              hang
          end,
    ev({'end', End}),
    [exit(P, kill) || P <- erlang:processes() -- Before, P =/= Main],
    Tracer ! {dump, self()},
    Lines = receive {lines, L} -> L end,
    unregister(difftrace),
    exit(Tracer, kill),
    io:format("== scenario ~s~n", [Name]),
    [io:format("~s~n", [Line]) || Line <- Lines],
    ok.

%% Records one event.
ev(Term) ->
    difftrace ! {ev, Term},
    ok.

%% Receives one message (any), or 'timeout' after Ms.
recv(Ms) ->
    receive M -> M after Ms -> timeout end.


%% Records {recv, Msg} for every message until Stop(Msg) is true (that one
%% included) or nothing comes for Ms ({recv,timeout}).
collect(Stop, Ms) ->
    receive
        M ->
            ev({recv, M}),
            case Stop(M) of true -> M; false -> collect(Stop, Ms) end
    after Ms ->
        ev({recv, timeout}),
        timeout
    end.

tracer(Pids, Refs, Lines) ->
    receive
        {ev, Term} ->
            {Text, Pids2, Refs2} = fmt(Term, Pids, Refs),
            tracer(Pids2, Refs2, [Text | Lines]);
        {dump, From} ->
            From ! {lines, lists:reverse(Lines)},
            tracer(Pids, Refs, Lines)
    end.

fmt(Term) ->
    {Text, _, _} = fmt(Term, #{}, #{}),
    Text.

fmt(T, P, R) when is_atom(T) -> {atom_to_list(T), P, R};
fmt(T, P, R) when is_integer(T) -> {integer_to_list(T), P, R};
fmt(T, P, R) when is_float(T) -> {float_to_list(T, [short]), P, R};
fmt(T, P, R) when is_binary(T) -> {"\"" ++ binary_to_list(T) ++ "\"", P, R};
fmt(T, P, R) when is_pid(T) ->
    case P of
        #{T := N} -> {N, P, R};
        _ -> N = "P" ++ integer_to_list(map_size(P) + 1), {N, P#{T => N}, R}
    end;
fmt(T, P, R) when is_reference(T) ->
    case R of
        #{T := N} -> {N, P, R};
        _ -> N = "R" ++ integer_to_list(map_size(R) + 1), {N, P, R#{T => N}}
    end;
%% A crash reason with a stack trace: {crash,Reason}, as TS prints ["error", Error].
fmt({Reason, [{M, F, A, Loc} | _]}, P, R) when is_atom(M), is_atom(F), is_list(Loc), (is_integer(A) orelse is_list(A)) ->
    fmt({crash, Reason}, P, R);
fmt(T, P, R) when is_tuple(T) ->
    {Items, P2, R2} = fmt_items(tuple_to_list(T), P, R),
    {"{" ++ Items ++ "}", P2, R2};
fmt(T, P, R) when is_list(T) ->
    {Items, P2, R2} = fmt_items(T, P, R),
    {"[" ++ Items ++ "]", P2, R2};
fmt(T, P, R) when is_map(T) ->
    Keys = lists:sort(maps:keys(T)),
    {Items, P2, R2} = fmt_items([{'$kv', K, maps:get(K, T)} || K <- Keys], P, R),
    {"#{" ++ Items ++ "}", P2, R2};
fmt(T, P, R) when is_function(T) -> {"fun", P, R};
fmt(_, P, R) -> {"?", P, R}.

fmt_items(List, P, R) ->
    {Texts, P2, R2} = lists:foldl(
        fun({'$kv', K, V}, {Acc, Pa, Ra}) ->
                {KT, Pb, Rb} = fmt(K, Pa, Ra),
                {VT, Pc, Rc} = fmt(V, Pb, Rb),
                {[KT ++ "=>" ++ VT | Acc], Pc, Rc};
           (X, {Acc, Pa, Ra}) ->
                {XT, Pb, Rb} = fmt(X, Pa, Ra),
                {[XT | Acc], Pb, Rb}
        end, {[], P, R}, List),
    {lists:join(",", lists:reverse(Texts)), P2, R2}.
