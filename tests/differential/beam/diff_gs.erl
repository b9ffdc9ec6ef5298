%% A gen_server whose callbacks are funs in its state (a map), so each
%% scenario in diff_erl.erl can shape it; the defaults report to the owner.
-module(diff_gs).
-behaviour(gen_server).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, handle_continue/2, terminate/2]).

init(S) -> (maps:get(init, S, fun(St) -> {ok, St} end))(S).

handle_call(Req, From, S) ->
    (maps:get(call, S, fun(R, _, St) -> {reply, {echo, R}, St} end))(Req, From, S).

handle_cast(Req, S) ->
    (maps:get(cast, S, fun(R, St) -> maps:get(owner, St) ! {cast, R}, {noreply, St} end))(Req, S).

handle_info(Msg, S) ->
    (maps:get(info, S, fun(M, St) -> maps:get(owner, St) ! {info, M}, {noreply, St} end))(Msg, S).

handle_continue(C, S) ->
    (maps:get(continue, S, fun(X, St) -> maps:get(owner, St) ! {continue, X}, {noreply, St} end))(C, S).

terminate(Reason, S) ->
    maps:get(owner, S) ! {terminate, Reason},
    case S of
        #{terminate_blocks := true} -> receive never -> ok end;
        _ -> ok
    end.
