%% The Erlang scenarios of the differential suite. Each one has a TypeScript
%% twin of the same name under tests/differential/scenarios/; both print the
%% same trace on a faithful runtime. Only the main process records events;
%% other processes send it messages, so the trace order is the main process's.
-module(diff_erl).
-export([main/0, scenarios/0, child_start/3, bad_child_start/1, ignore_child_start/0]).

-import(difftrace, [ev/1, collect/2, recv/1]).

main() ->
    logger:set_primary_config(level, none),
    difftrace:run_all(scenarios()),
    halt(0).

scenarios() ->
    process_scenarios() ++ gen_server_scenarios() ++ supervisor_scenarios()
        ++ application_scenarios() ++ event_scenarios() ++ ets_scenarios().

%% ------------------------------------------------------------------ helpers

attempt(F) ->
    try {ok, F()}
    catch
        error:R -> {caught, strip(R)};
        exit:R -> {caught, strip(R)};
        throw:R -> {caught, R}
    end.

%% {Reason, {Module, Function, Args}} (a failed call's exit) -> Reason.
strip({R, {M, F, A}}) when is_atom(M), is_atom(F), is_list(A) -> R;
strip(R) -> R.

fwd(To, Trap) ->
    spawn(fun() -> process_flag(trap_exit, Trap), To ! ready, fwd_loop(To) end).

fwd_loop(To) ->
    receive M -> To ! {got, M} end,
    fwd_loop(To).

idle() -> spawn(fun() -> receive never -> ok end end).

is_down(M) -> tag(M) =:= 'DOWN'.

tag(M) when is_tuple(M), tuple_size(M) > 0 -> element(1, M);
tag(_) -> none.

reason(normal) -> normal;
reason(shutdown) -> shutdown;
reason(shutdown_x) -> {shutdown, x};
reason(kill) -> kill;
reason(killed) -> killed;
reason(boom) -> boom.

trap_name(true) -> "trap";
trap_name(false) -> "notrap".

%% ------------------------------------------------------------------ processes

process_scenarios() ->
    Reasons = [normal, shutdown, shutdown_x, kill, killed, boom],
    [{"exit2." ++ atom_to_list(R) ++ "." ++ trap_name(T) ++ ".other", fun() -> exit2_other(reason(R), T) end}
     || R <- Reasons, T <- [true, false]]
    ++ [{"exit2." ++ atom_to_list(R) ++ "." ++ trap_name(T) ++ ".self", fun() -> exit2_self(reason(R), T) end}
        || R <- Reasons, T <- [true, false]]
    ++ [{"linkdeath." ++ atom_to_list(R) ++ "." ++ trap_name(T), fun() -> link_death(R, T) end}
        || R <- Reasons, T <- [true, false]]
    ++ [
    {"monitor.dead_pid", fun() ->
        P = spawn(fun() -> ok end),
        R1 = monitor(process, P),
        receive {'DOWN', R1, _, _, _} = D1 -> ev(D1) end,
        R2 = monitor(process, P),
        receive {'DOWN', R2, _, _, _} = D2 -> ev(D2) end
    end},
    {"monitor.unknown_name", fun() ->
        R = monitor(process, diff_no_such_name),
        ev(recv(1000)),
        ev({ref_is_ref, is_reference(R)})
    end},
    {"monitor.self", fun() ->
        R = monitor(process, self()),
        ev({demonitor_info, demonitor(R, [info])}),
        ev(recv(100))
    end},
    {"monitor.demonitor_flush", fun() ->
        P = idle(),
        M1 = monitor(process, P),
        M2 = monitor(process, P),
        exit(P, kill),
        receive {'DOWN', M2, _, _, _} = D -> ev(D) end,
        ev({demonitor, demonitor(M1, [flush, info])}),
        self() ! marker,
        ev(recv(100))
    end},
    {"monitor.two_monitors", fun() ->
        P = idle(),
        _ = monitor(process, P),
        _ = monitor(process, P),
        exit(P, boom),
        collect(fun(_) -> false end, 100)
    end},
    {"monitor.demonitor_active", fun() ->
        P = idle(),
        M = monitor(process, P),
        ev({demonitor, demonitor(M, [info])}),
        exit(P, kill),
        ev(recv(100))
    end},
    {"monitor.by_name_live", fun() ->
        P = idle(),
        register(diff_n9, P),
        R = monitor(process, diff_n9),
        exit(P, kill),
        receive {'DOWN', R, _, _, _} = D -> ev(D) end
    end},
    {"link.link_to_self", fun() ->
        process_flag(trap_exit, true),
        ev(attempt(fun() -> link(self()) end)),
        ev({links, erlang:process_info(self(), links)}),
        ev(recv(100))
    end},
    {"monitor.demonitor_no_flush_keeps_down", fun() ->
        P = idle(),
        M1 = monitor(process, P),
        M2 = monitor(process, P),
        exit(P, kill),
        receive {'DOWN', M2, _, _, _} -> ok end,
        ev({demonitor, demonitor(M1)}),
        ev(recv(100))
    end},
    {"order.message_then_exit2", fun() ->
        T = fwd(self(), true),
        receive ready -> ok end,
        spawn(fun() -> T ! hello, exit(T, boom) end),
        collect(fun(M) -> case M of {got, {'EXIT', _, _}} -> true; _ -> false end end, 1000)
    end},
    {"link.spawn_link_crash.notrap", fun() ->
        spawn_link(fun() -> exit(boom) end),
        ev(recv(1000))
    end},
    {"monitor.demonitor_foreign_ref", fun() ->
        Main = self(),
        P = idle(),
        spawn(fun() -> Main ! {ref, monitor(process, P)}, receive never -> ok end end),
        R = receive {ref, X} -> X end,
        ev({demonitor, demonitor(R, [info])})
    end},
    {"trap.toggle", fun() ->
        Main = self(),
        T = spawn(fun() ->
            process_flag(trap_exit, true),
            Main ! ready,
            receive {'EXIT', _, _} = E -> Main ! {got, E} end,
            process_flag(trap_exit, false),
            Main ! untrapped,
            receive never -> ok end
        end),
        receive ready -> ok end,
        monitor(process, T),
        exit(T, first),
        receive untrapped -> ok end,
        exit(T, second),
        collect(fun is_down/1, 1000)
    end},
    {"monitor.normal_exit_reason", fun() ->
        {_, M} = spawn_monitor(fun() -> ok end),
        receive {'DOWN', M, _, _, _} = D -> ev(D) end
    end},
    {"link.dead_pid.notrap", fun() ->
        P = spawn(fun() -> ok end),
        M = monitor(process, P),
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(attempt(fun() -> link(P) end)),
        ev({alive, true}),
        ev(recv(100))
    end},
    {"link.dead_pid.trap", fun() ->
        process_flag(trap_exit, true),
        P = spawn(fun() -> ok end),
        M = monitor(process, P),
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(attempt(fun() -> link(P) end)),
        ev(recv(1000))
    end},
    {"link.unlink_then_crash", fun() ->
        process_flag(trap_exit, true),
        P = spawn_link(fun() -> receive go -> exit(boom) end end),
        unlink(P),
        M = monitor(process, P),
        P ! go,
        receive {'DOWN', M, _, _, _} = D -> ev(D) end,
        ev(recv(100))
    end},
    {"link.exit_then_down_order", fun() ->
        process_flag(trap_exit, true),
        P = spawn_link(fun() -> receive go -> exit(boom) end end),
        _ = monitor(process, P),
        P ! go,
        collect(fun is_down/1, 1000)
    end},
    {"link.spawn_link_crash.trap", fun() ->
        process_flag(trap_exit, true),
        spawn_link(fun() -> exit(boom) end),
        ev(recv(1000))
    end},
    {"link.chain", fun() ->
        Main = self(),
        B = idle(),
        A = spawn(fun() -> link(B), Main ! linked, receive never -> ok end end),
        receive linked -> ok end,
        M = monitor(process, A),
        exit(B, boom),
        receive {'DOWN', M, _, _, _} = D -> ev(D) end
    end},
    {"link.double_link_one_signal", fun() ->
        process_flag(trap_exit, true),
        P = idle(),
        link(P), link(P),
        exit(P, boom),
        collect(fun(_) -> false end, 100)
    end},
    {"exit2.to_dead_pid", fun() ->
        P = spawn(fun() -> ok end),
        M = monitor(process, P),
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(attempt(fun() -> exit(P, boom) end)),
        ev({alive, is_process_alive(P)})
    end},
    {"exit2.is_alive_after_kill", fun() ->
        P = idle(),
        exit(P, kill),
        ev({alive, is_process_alive(P)})
    end},
    {"exit1.reason_to_monitor", fun() ->
        {_, M} = spawn_monitor(fun() -> exit({shutdown, bye}) end),
        receive {'DOWN', M, _, _, _} = D -> ev(D) end
    end},
    {"order.fifo_between_pair", fun() ->
        Main = self(),
        spawn(fun() -> [Main ! N || N <- [1, 2, 3, 4, 5]] end),
        [ev(recv(1000)) || _ <- [1, 2, 3, 4, 5]]
    end},
    {"order.selective_receive", fun() ->
        self() ! a, self() ! b, self() ! c,
        receive b -> ev(b) end,
        ev(recv(0)), ev(recv(0)), ev(recv(0))
    end},
    {"order.message_then_down", fun() ->
        Main = self(),
        {_, _} = spawn_monitor(fun() -> Main ! m1, Main ! m2, exit(boom) end),
        collect(fun is_down/1, 1000)
    end},
    {"order.messages_then_exit", fun() ->
        process_flag(trap_exit, true),
        Main = self(),
        spawn_link(fun() -> Main ! m1, Main ! m2, exit(bye) end),
        collect(fun(M) -> tag(M) =:= 'EXIT' end, 1000)
    end},
    {"receive.after_zero_empty", fun() -> ev(recv(0)) end},
    {"timer.send_after_order", fun() ->
        erlang:send_after(40, self(), late),
        erlang:send_after(10, self(), early),
        ev(recv(1000)), ev(recv(1000))
    end},
    {"timer.cancel", fun() ->
        T = erlang:send_after(50, self(), x),
        ev({cancelled, is_integer(erlang:cancel_timer(T))}),
        ev(recv(150))
    end},
    {"timer.cancel_after_fire", fun() ->
        T = erlang:send_after(1, self(), fired),
        ev(recv(1000)),
        ev({cancel, erlang:cancel_timer(T)})
    end},
    {"timer.send_after_to_name", fun() ->
        register(diff_t1, self()),
        erlang:send_after(5, diff_t1, by_name),
        ev(recv(1000))
    end},
    {"dead.sleep_then_send", fun() ->
        Main = self(),
        P = spawn(fun() -> Main ! started, receive after 50 -> ok end, Main ! sent_after_death end),
        receive started -> ok end,
        exit(P, kill),
        ev(recv(200))
    end},
    {"dead.exit_self_then_send", fun() ->
        Main = self(),
        {_, M} = spawn_monitor(fun() -> exit(self(), boom), receive after 50 -> ok end, Main ! sent_after_death end),
        receive {'DOWN', M, _, _, _} = D -> ev(D) end,
        ev(recv(200))
    end},
    {"names.register_whereis_send", fun() ->
        P = fwd(self(), false),
        receive ready -> ok end,
        ev(register(diff_n1, P)),
        ev({whereis, whereis(diff_n1), P}),
        diff_n1 ! hi,
        ev(recv(1000))
    end},
    {"names.register_taken", fun() ->
        register(diff_n2, idle()),
        ev(attempt(fun() -> register(diff_n2, idle()) end))
    end},
    {"names.one_name_per_pid", fun() ->
        P = idle(),
        register(diff_n3, P),
        ev(attempt(fun() -> register(diff_n3b, P) end))
    end},
    {"names.register_dead", fun() ->
        P = spawn(fun() -> ok end),
        M = monitor(process, P),
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(attempt(fun() -> register(diff_n4, P) end)),
        ev({whereis, whereis(diff_n4)})
    end},
    {"names.freed_on_death", fun() ->
        P = idle(),
        register(diff_n5, P),
        M = monitor(process, P),
        exit(P, kill),
        receive {'DOWN', M, _, _, _} -> ok end,
        ev({whereis, whereis(diff_n5)}),
        ev(attempt(fun() -> register(diff_n5, self()) end))
    end},
    {"names.unregister", fun() ->
        register(diff_n6, idle()),
        ev(unregister(diff_n6)),
        ev({whereis, whereis(diff_n6)}),
        ev(attempt(fun() -> unregister(diff_n6) end))
    end},
    {"names.send_unknown", fun() ->
        ev(attempt(fun() -> diff_no_such_name ! hi end))
    end},
    {"names.registered_includes", fun() ->
        register(diff_n7, idle()),
        ev({member, lists:member(diff_n7, registered())})
    end},
    {"names.exit_by_name", fun() ->
        P = idle(),
        register(diff_n8, P),
        ev(attempt(fun() -> exit(diff_n8, kill) end)),
        ev({alive, is_process_alive(P)})
    end}
    ].

exit2_other(R, Trap) ->
    T = fwd(self(), Trap),
    receive ready -> ok end,
    monitor(process, T),
    exit(T, R),
    T ! ping,
    collect(fun(M) -> M =:= {got, ping} orelse is_down(M) end, 1000).

exit2_self(R, Trap) ->
    Main = self(),
    spawn_monitor(fun() ->
        process_flag(trap_exit, Trap),
        exit(self(), R),
        receive M -> Main ! {got, M} after 200 -> Main ! {got, nothing} end,
        Main ! {got, ping}
    end),
    collect(fun(M) -> M =:= {got, ping} orelse is_down(M) end, 1000).

link_death(R, Trap) ->
    Main = self(),
    O = spawn(fun() ->
        process_flag(trap_exit, Trap),
        C = spawn_link(fun() -> receive go -> exit(reason(R)) end end),
        Main ! {child, C},
        fwd_loop(Main)
    end),
    monitor(process, O),
    C = receive {child, Pid} -> Pid end,
    case R of
        killed -> exit(C, kill);
        _ -> C ! go
    end,
    collect(fun(M) -> is_down(M) orelse tag(M) =:= got end, 300),
    ev({observer_alive, is_process_alive(O)}).

%% ------------------------------------------------------------------ gen_server

gen_server_scenarios() -> [
    {"gs.start_call_stop", fun() ->
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self()}, []),
        ev({call, gen_server:call(P, hello)}),
        ev({stop, gen_server:stop(P)}),
        ev(recv(1000)),
        ev({alive, is_process_alive(P)})
    end},
    {"gs.init_stop", fun() ->
        ev(gs_start(#{owner => self(), init => fun(_) -> {stop, bad} end}))
    end},
    {"gs.init_stop_link", fun() ->
        process_flag(trap_exit, true),
        ev(gs_start_link(#{owner => self(), init => fun(_) -> {stop, bad} end})),
        ev(recv(100))
    end},
    {"gs.init_ignore", fun() ->
        ev(gs_start(#{owner => self(), init => fun(_) -> ignore end}))
    end},
    {"gs.init_exit", fun() ->
        ev(gs_start(#{owner => self(), init => fun(_) -> exit(boom) end}))
    end},
    {"gs.already_started", fun() ->
        {ok, P} = gen_server:start({local, diff_gs1}, diff_gs, #{owner => self()}, []),
        ev({first, P}),
        ev(case gen_server:start({local, diff_gs1}, diff_gs, #{owner => self()}, []) of
               {ok, Q} -> {ok, Q}; {error, R} -> {error, R} end),
        gen_server:stop(P)
    end},
    {"gs.call_timeout_late_reply", fun() ->
        Call = fun(slow, From, S) -> {noreply, S#{from => From}};
                  (release, _, S = #{from := F}) -> gen_server:reply(F, late), {reply, released, S};
                  (R, _, S) -> {reply, {echo, R}, S} end,
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self(), call => Call}, []),
        ev(attempt(fun() -> gen_server:call(P, slow, 50) end)),
        ev(attempt(fun() -> gen_server:call(P, fast) end)),
        ev(attempt(fun() -> gen_server:call(P, release) end)),
        ev(recv(100))
    end},
    {"gs.call_noproc_pid", fun() ->
        P = spawn(fun() -> ok end),
        M = monitor(process, P),
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(attempt(fun() -> gen_server:call(P, hi) end))
    end},
    {"gs.call_noproc_name", fun() ->
        ev(attempt(fun() -> gen_server:call(diff_no_such_name, hi) end))
    end},
    {"gs.cast_unknown_name", fun() ->
        ev(attempt(fun() -> gen_server:cast(diff_no_such_name, hi) end))
    end},
    {"gs.call_self", fun() ->
        Call = fun(_, _, S) -> {reply, attempt(fun() -> gen_server:call(self(), x) end), S} end,
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self(), call => Call}, []),
        ev(gen_server:call(P, go))
    end},
    {"gs.call_stop_noreply", fun() ->
        process_flag(trap_exit, true),
        Call = fun(_, _, S) -> {stop, boom, S} end,
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self(), call => Call}, []),
        ev(attempt(fun() -> gen_server:call(P, go) end)),
        collect(fun(M) -> tag(M) =:= 'EXIT' end, 1000)
    end},
    {"gs.call_plain_process_dies", fun() ->
        P = spawn(fun() -> receive _ -> exit(gone) end end),
        ev(attempt(fun() -> gen_server:call(P, hi, 2000) end))
    end},
    {"gs.call_callback_exits", fun() ->
        process_flag(trap_exit, true),
        Call = fun(_, _, _) -> exit(boom) end,
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self(), call => Call}, []),
        ev(attempt(fun() -> gen_server:call(P, go) end)),
        collect(fun(M) -> tag(M) =:= 'EXIT' end, 1000)
    end},
    {"gs.stop_reply", fun() ->
        Call = fun(_, _, S) -> {stop, normal, bye, S} end,
        {ok, P} = gen_server:start(diff_gs, #{owner => self(), call => Call}, []),
        monitor(process, P),
        ev(attempt(fun() -> gen_server:call(P, go) end)),
        collect(fun is_down/1, 1000)
    end},
    {"gs.reply_deferred", fun() ->
        Call = fun(_, From, S) -> self() ! release, {noreply, S#{from => From}} end,
        Info = fun(release, S = #{from := F}) -> gen_server:reply(F, later), {noreply, S} end,
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self(), call => Call, info => Info}, []),
        ev(attempt(fun() -> gen_server:call(P, go) end))
    end},
    {"gs.continue_chain", fun() ->
        Init = fun(S) -> {ok, S, {continue, c1}} end,
        Cont = fun(c1, S) -> maps:get(owner, S) ! {continue, c1}, {noreply, S, {continue, c2}};
                  (c2, S) -> maps:get(owner, S) ! {continue, c2}, {noreply, S} end,
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self(), init => Init, continue => Cont}, []),
        ev({call, gen_server:call(P, hi)}),
        ev(recv(100)), ev(recv(100)), ev(recv(50))
    end},
    {"gs.reply_with_timeout", fun() ->
        Call = fun(_, _, S) -> {reply, ok, S, 10} end,
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self(), call => Call}, []),
        ev(gen_server:call(P, go)),
        ev(recv(1000))
    end},
    {"gs.cast_info_order", fun() ->
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self()}, []),
        gen_server:cast(P, a), P ! b, gen_server:cast(P, c),
        ev(recv(1000)), ev(recv(1000)), ev(recv(1000))
    end},
    {"gs.parent_exit.trap", fun() -> gs_parent_exit(true) end},
    {"gs.parent_exit.notrap", fun() -> gs_parent_exit(false) end},
    {"gs.start_nolink_exit_from_starter", fun() ->
        Init = fun(S) -> process_flag(trap_exit, true), {ok, S} end,
        {ok, P} = gen_server:start(diff_gs, #{owner => self(), init => Init}, []),
        monitor(process, P),
        exit(P, shutdown),
        ev(attempt(fun() -> gen_server:call(P, hi) end)),
        collect(fun(_) -> false end, 100)
    end},
    {"gs.stop_noproc", fun() ->
        P = spawn(fun() -> ok end),
        M = monitor(process, P),
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(attempt(fun() -> gen_server:stop(P) end))
    end},
    {"gs.stop_shutdown_reason", fun() ->
        {ok, P} = gen_server:start(diff_gs, #{owner => self()}, []),
        monitor(process, P),
        ev(attempt(fun() -> gen_server:stop(P, {shutdown, bye}, infinity) end)),
        collect(fun is_down/1, 1000)
    end},
    {"gs.info_stop", fun() ->
        Info = fun(_, S) -> {stop, boom, S} end,
        {ok, P} = gen_server:start(diff_gs, #{owner => self(), info => Info}, []),
        monitor(process, P),
        P ! go,
        collect(fun is_down/1, 1000)
    end},
    {"gs.init_timeout", fun() ->
        Init = fun(S) -> receive after 100 -> ok end, maps:get(owner, S) ! init_continued, {ok, S} end,
        ev(case gen_server:start(diff_gs, #{owner => self(), init => Init}, [{timeout, 50}]) of
               {ok, _} -> ok; {error, R} -> {error, R} end),
        ev(recv(300))
    end},
    {"gs.call_after_stop", fun() ->
        {ok, P} = gen_server:start(diff_gs, #{owner => self()}, []),
        ok = gen_server:stop(P),
        ev(attempt(fun() -> gen_server:call(P, hi) end))
    end},
    {"gs.continue_stop", fun() ->
        process_flag(trap_exit, true),
        Init = fun(S) -> {ok, S, {continue, c1}} end,
        Cont = fun(_, S) -> {stop, bye, S} end,
        {ok, _} = gen_server:start_link(diff_gs, #{owner => self(), init => Init, continue => Cont}, []),
        collect(fun(M) -> tag(M) =:= 'EXIT' end, 1000)
    end},
    {"gs.reply_from_other_process", fun() ->
        Call = fun(R, From, S) -> spawn(fun() -> gen_server:reply(From, {helper, R}) end), {noreply, S} end,
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self(), call => Call}, []),
        ev(attempt(fun() -> gen_server:call(P, hi) end))
    end},
    {"gs.trapping_starter_sees_normal_exit", fun() ->
        process_flag(trap_exit, true),
        {ok, P} = gen_server:start_link(diff_gs, #{owner => self()}, []),
        ok = gen_server:stop(P),
        collect(fun(M) -> tag(M) =:= 'EXIT' end, 1000)
    end},
    {"gs.stop_timeout", fun() ->
        Info = fun(_, S) -> {noreply, S} end,
        Call = fun(_, _, S) -> {reply, ok, S} end,
        Init = fun(S) -> process_flag(trap_exit, true), {ok, S#{info => Info, call => Call}} end,
        {ok, P} = gen_server:start(diff_gs, #{owner => self(), init => Init,
            terminate_blocks => true}, []),
        ev(attempt(fun() -> gen_server:stop(P, normal, 50) end)),
        ev(recv(100))
    end},
    {"gs.call_stop_normal_noreply", fun() ->
        Call = fun(_, _, S) -> {stop, normal, S} end,
        {ok, P} = gen_server:start(diff_gs, #{owner => self(), call => Call}, []),
        ev(attempt(fun() -> gen_server:call(P, go) end)),
        ev(recv(1000))
    end},
    {"gs.init_timeout_info", fun() ->
        Init = fun(S) -> {ok, S, 10} end,
        {ok, _} = gen_server:start_link(diff_gs, #{owner => self(), init => Init}, []),
        ev(recv(1000))
    end},
    {"gs.stop_with_pending_call", fun() ->
        Main = self(),
        Call = fun(_, From, S) -> Main ! stored, {noreply, S#{from => From}} end,
        {ok, P} = gen_server:start(diff_gs, #{owner => self(), call => Call}, []),
        spawn(fun() -> Main ! {caller, attempt(fun() -> gen_server:call(P, wait) end)} end),
        receive stored -> ok end,
        ev({stop, gen_server:stop(P)}),
        ev(recv(1000)),
        ev(recv(1000))
    end},
    {"gs.cast_dead_pid", fun() ->
        {ok, P} = gen_server:start(diff_gs, #{owner => self()}, []),
        ok = gen_server:stop(P),
        ev(recv(1000)),
        ev(attempt(fun() -> gen_server:cast(P, hi) end))
    end},
    {"gs.named_whereis", fun() ->
        {ok, P} = gen_server:start({local, diff_gs2}, diff_gs, #{owner => self()}, []),
        ev({whereis, whereis(diff_gs2), P}),
        ev(gen_server:call(diff_gs2, hi)),
        gen_server:stop(diff_gs2),
        ev({whereis, whereis(diff_gs2)})
    end},
    {"gs.terminate_not_called_on_kill", fun() ->
        Init = fun(S) -> process_flag(trap_exit, true), {ok, S} end,
        {ok, P} = gen_server:start(diff_gs, #{owner => self(), init => Init}, []),
        monitor(process, P),
        exit(P, kill),
        collect(fun is_down/1, 1000)
    end},
    {"gs.info_exit_from_linked", fun() ->
        Main = self(),
        Init = fun(S) -> process_flag(trap_exit, true),
                         C = spawn_link(fun() -> receive go -> exit(bye) end end),
                         Main ! {child, C}, {ok, S} end,
        {ok, P} = gen_server:start(diff_gs, #{owner => self(), init => Init}, []),
        C = receive {child, X} -> X end,
        C ! go,
        ev(recv(1000)),
        ev({alive, is_process_alive(P)})
    end}
    ].

gs_start(A) ->
    case gen_server:start(diff_gs, A, []) of {ok, P} -> {ok, P}; ignore -> ignore; {error, R} -> {error, R} end.

gs_start_link(A) ->
    case gen_server:start_link(diff_gs, A, []) of {ok, P} -> {ok, P}; ignore -> ignore; {error, R} -> {error, R} end.

gs_parent_exit(Trap) ->
    Main = self(),
    Init = fun(S) -> process_flag(trap_exit, Trap), {ok, S} end,
    Parent = spawn(fun() ->
        {ok, P} = gen_server:start_link(diff_gs, #{owner => Main, init => Init}, []),
        Main ! {server, P},
        receive go -> exit(shutdown) end
    end),
    P = receive {server, X} -> X end,
    monitor(process, P),
    Parent ! go,
    collect(fun is_down/1, 1000).
supervisor_scenarios() -> [
    {"sup.start_stop_order", fun() ->
        {ok, Sup} = sup([a, b, c], one_for_one),
        started(3),
        ev({which, which(Sup)}),
        ev({stop, gen_server:stop(Sup)}),
        collect(fun(M) -> element(2, M) =:= a end, 1000)
    end},
    {"sup.count_children", fun() ->
        {ok, Sup} = sup([a, b], one_for_one),
        started(2),
        ev({count, count(Sup)})
    end},
    {"sup.one_for_one", fun() ->
        {ok, Sup} = sup([a, b, c], one_for_one),
        [_, B, _] = started(3),
        B ! {crash, boom},
        started(1),
        ev({which, which(Sup)})
    end},
    {"sup.one_for_all", fun() ->
        {ok, Sup} = sup([a, b, c], one_for_all),
        [_, B, _] = started(3),
        B ! {crash, boom},
        collect(fun(M) -> M =:= started_marker orelse (tag(M) =:= started andalso element(2, M) =:= c) end, 1000),
        ev({which, which(Sup)})
    end},
    {"sup.rest_for_one", fun() ->
        {ok, Sup} = sup([a, b, c], rest_for_one),
        [A, _, _] = started(3),
        A ! {crash, boom},
        collect(fun(M) -> tag(M) =:= started andalso element(2, M) =:= c end, 1000),
        ev({which, which(Sup)})
    end},
    {"sup.rest_for_one_middle", fun() ->
        {ok, Sup} = sup([a, b, c], rest_for_one),
        [_, B, _] = started(3),
        B ! {crash, boom},
        collect(fun(M) -> tag(M) =:= started andalso element(2, M) =:= c end, 1000),
        ev({which, which(Sup)})
    end},
    {"sup.intensity_exceeded", fun() ->
        {ok, Sup} = sup([a, b], one_for_one, 1),
        unlink(Sup),
        monitor(process, Sup),
        [A, _] = started(2),
        A ! {crash, boom},
        [A2] = started(1),
        A2 ! {crash, boom},
        collect(fun is_down/1, 1000)
    end},
    {"sup.intensity_zero", fun() ->
        {ok, Sup} = sup([a, b], one_for_one, 0),
        unlink(Sup),
        monitor(process, Sup),
        [A, _] = started(2),
        A ! {crash, boom},
        collect(fun is_down/1, 1000)
    end},
    {"sup.transient", fun() ->
        {ok, Sup} = supervisor:start_link(diff_sup, {flags(one_for_one, 3),
            [spec(a, transient), spec(b, transient)]}),
        [A, B] = started(2),
        wait_exit(A, {crash, normal}),
        ev({which, which(Sup)}),
        wait_exit(B, {crash, {shutdown, x}}),
        ev({which, which(Sup)}),
        supervisor:restart_child(Sup, a),
        started(1),
        [A3] = [P || {a, P, _, _} <- supervisor:which_children(Sup)],
        A3 ! {crash, boom},
        started(1),
        ev({count, count(Sup)})
    end},
    {"sup.temporary", fun() ->
        {ok, Sup} = supervisor:start_link(diff_sup, {flags(one_for_one, 3), [spec(a, temporary), spec(b, permanent)]}),
        [A, _] = started(2),
        wait_exit(A, {crash, boom}),
        ev({which, which(Sup)}),
        ev({count, count(Sup)}),
        ev({restart, supervisor:restart_child(Sup, a)})
    end},
    {"sup.permanent_normal_exit_restarts", fun() ->
        {ok, Sup} = sup([a], one_for_one),
        [A] = started(1),
        A ! {crash, normal},
        started(1),
        ev({count, count(Sup)})
    end},
    {"sup.terminate_restart_delete", fun() ->
        {ok, Sup} = sup([a, b], one_for_one),
        started(2),
        ev({terminate, supervisor:terminate_child(Sup, b)}),
        ev(recv(1000)),
        ev({which, which(Sup)}),
        ev({restart, supervisor:restart_child(Sup, b)}),
        started(1),
        ev({delete, supervisor:delete_child(Sup, b)}),
        ok = supervisor:terminate_child(Sup, b),
        ev(recv(1000)),
        ev({delete, supervisor:delete_child(Sup, b)}),
        ev({which, which(Sup)})
    end},
    {"sup.terminate_temporary_removes", fun() ->
        {ok, Sup} = supervisor:start_link(diff_sup, {flags(one_for_one, 3), [spec(a, temporary), spec(b, permanent)]}),
        started(2),
        ev({terminate, supervisor:terminate_child(Sup, a)}),
        ev(recv(1000)),
        ev({which, which(Sup)}),
        ev({restart, supervisor:restart_child(Sup, a)})
    end},
    {"sup.child_op_errors", fun() ->
        {ok, Sup} = sup([a], one_for_one),
        started(1),
        ev({restart_running, supervisor:restart_child(Sup, a)}),
        ev({restart_unknown, supervisor:restart_child(Sup, zz)}),
        ev({terminate_unknown, supervisor:terminate_child(Sup, zz)}),
        ev({delete_unknown, supervisor:delete_child(Sup, zz)})
    end},
    {"sup.start_child_dup", fun() ->
        {ok, Sup} = sup([a], one_for_one),
        started(1),
        ev({dup_running, supervisor:start_child(Sup, spec(a, permanent))}),
        ok = supervisor:terminate_child(Sup, a),
        ev(recv(1000)),
        ev({dup_stopped, supervisor:start_child(Sup, spec(a, permanent))}),
        ev({new, supervisor:start_child(Sup, spec(d, permanent))}),
        started(1),
        ev({which, which(Sup)})
    end},
    {"sup.brutal_kill", fun() ->
        {ok, Sup} = supervisor:start_link(diff_sup, {flags(one_for_one, 3),
            [(spec(a, permanent))#{shutdown => brutal_kill}]}),
        [A] = started(1),
        monitor(process, A),
        ok = gen_server:stop(Sup),
        collect(fun is_down/1, 1000)
    end},
    {"sup.shutdown_timeout_kills", fun() ->
        {ok, Sup} = supervisor:start_link(diff_sup, {flags(one_for_one, 3),
            [#{id => a, start => {diff_erl, child_start, [a, self(), stubborn]}, shutdown => 50}]}),
        [A] = started(1),
        monitor(process, A),
        ok = gen_server:stop(Sup),
        collect(fun is_down/1, 1000)
    end},
    {"sup.child_start_error", fun() ->
        process_flag(trap_exit, true),
        Bad = #{id => b, start => {diff_erl, bad_child_start, [bad]}},
        R = supervisor:start_link(diff_sup, {flags(one_for_one, 3), [spec(a, permanent), Bad, spec(c, permanent)]}),
        ev(case R of {error, E} -> {error, E}; Other -> Other end),
        ev(recv_not_exit(200)),
        ev(recv_not_exit(200)),
        ev(recv_not_exit(100))
    end},
    {"sup.start_child_ignore", fun() ->
        {ok, Sup} = sup([], one_for_one),
        ev({start, supervisor:start_child(Sup, #{id => d, start => {diff_erl, ignore_child_start, []}})}),
        ev({which, which(Sup)}),
        ev({count, count(Sup)})
    end},
    {"sup.nested_stop_order", fun() ->
        Inner = #{id => inner, type => supervisor,
                  start => {supervisor, start_link, [diff_sup, {flags(one_for_one, 3), [spec(x, permanent), spec(y, permanent)]}]}},
        {ok, Sup} = supervisor:start_link(diff_sup, {flags(one_for_one, 3), [spec(a, permanent), Inner, spec(c, permanent)]}),
        started(4),
        ev({count, count(Sup)}),
        ok = gen_server:stop(Sup),
        collect(fun(M) -> element(2, M) =:= a end, 1000)
    end},
    {"sup.one_for_all_intensity", fun() ->
        {ok, Sup} = sup([a, b], one_for_all, 1),
        unlink(Sup),
        monitor(process, Sup),
        [_, B] = started(2),
        B ! {crash, boom},
        collect(fun(M) -> tag(M) =:= started andalso element(2, M) =:= b end, 1000),
        [B2] = [P || {b, P, _, _} <- supervisor:which_children(Sup)],
        B2 ! {crash, boom},
        collect(fun is_down/1, 1000)
    end}
    ].

flags(Strategy, Intensity) -> #{strategy => Strategy, intensity => Intensity, period => 5}.

spec(Id, Restart) ->
    #{id => Id, start => {diff_erl, child_start, [Id, self(), normal]}, restart => Restart, shutdown => 1000}.

sup(Ids, Strategy) -> sup(Ids, Strategy, 3).
sup(Ids, Strategy, Intensity) ->
    supervisor:start_link(diff_sup, {flags(Strategy, Intensity), [spec(Id, permanent) || Id <- Ids]}).

%% Receives N {started, Id, Pid} messages, records them, returns the pids.
started(N) ->
    [begin
         M = receive {started, _, _} = X -> X after 1000 -> timeout end,
         ev(M),
         element(3, M)
     end || _ <- lists:seq(1, N)].

which(Sup) -> [{Id, P} || {Id, P, _, _} <- supervisor:which_children(Sup)].

count(Sup) -> maps:from_list(supervisor:count_children(Sup)).

%% Tells a child to exit and waits for its DOWN (after which its supervisor has its EXIT).
wait_exit(P, Msg) ->
    M = monitor(process, P),
    P ! Msg,
    receive {'DOWN', M, _, _, R} -> ev({child_down, R}) end.

%% A supervised worker: reports {started, Id, Pid} before its start returns,
%% {stopped, Id, Reason} when its supervisor stops it; exits on {crash, R}.
%% A stubborn one reports the stop but does not exit.
child_start(Id, Owner, Mode) ->
    Parent = self(),
    P = spawn_link(fun() ->
        process_flag(trap_exit, true),
        Owner ! {started, Id, self()},
        Parent ! {ack, self()},
        child_loop(Id, Owner, Mode, Parent)
    end),
    receive {ack, P} -> {ok, P} end.

child_loop(Id, Owner, Mode, Parent) ->
    receive
        {'EXIT', Parent, R} ->
            Owner ! {stopped, Id, R},
            case Mode of stubborn -> ok; _ -> exit(R) end;
        {crash, R} -> exit(R);
        _ -> ok
    end,
    child_loop(Id, Owner, Mode, Parent).

bad_child_start(R) -> {error, R}.

recv_not_exit(Ms) ->
    receive M when not (is_tuple(M) andalso tuple_size(M) =:= 3 andalso element(1, M) =:= 'EXIT') -> M
    after Ms -> timeout end.

ignore_child_start() -> ignore.
application_scenarios() -> [
    {"app.start_stop_callbacks", fun() ->
        app_load(diff_app1, [], [w]),
        ev({start, application:start(diff_app1)}),
        ev(recv(1000)), ev(recv(1000)),
        ev({stop, application:stop(diff_app1)}),
        collect(fun(M) -> tag(M) =:= app_stop end, 1000),
        application:unload(diff_app1)
    end},
    {"app.ensure_all_started", fun() ->
        app_load(diff_app2a, [], [wa]),
        app_load(diff_app2b, [diff_app2a], [wb]),
        ev({ensure, application:ensure_all_started(diff_app2b)}),
        ev(recv(1000)), ev(recv(1000)), ev(recv(1000)), ev(recv(1000)),
        ev({which, mine([diff_app2a, diff_app2b])}),
        ev({stop, application:stop(diff_app2b)}),
        collect(fun(M) -> tag(M) =:= app_stop end, 1000),
        ev({stop, application:stop(diff_app2a)}),
        collect(fun(M) -> tag(M) =:= app_stop end, 1000),
        application:unload(diff_app2b), application:unload(diff_app2a)
    end},
    {"app.start_missing_dep", fun() ->
        app_load(diff_app3a, [], []),
        app_load(diff_app3b, [diff_app3a], []),
        ev({start, application:start(diff_app3b)}),
        ev(recv(100)),
        application:unload(diff_app3b), application:unload(diff_app3a)
    end},
    {"app.already_started", fun() ->
        app_load(diff_app4, [], []),
        ev({start, application:start(diff_app4)}),
        ev({start, application:start(diff_app4)}),
        application:stop(diff_app4), application:unload(diff_app4)
    end},
    {"app.which_order", fun() ->
        app_load(diff_app5a, [], []), app_load(diff_app5b, [], []),
        ok = application:start(diff_app5a), ok = application:start(diff_app5b),
        ev({which, mine([diff_app5a, diff_app5b])}),
        application:stop(diff_app5b), application:stop(diff_app5a),
        application:unload(diff_app5b), application:unload(diff_app5a)
    end},
    {"app.stop_not_started", fun() ->
        app_load(diff_app6, [], []),
        ev({stop, application:stop(diff_app6)}),
        application:unload(diff_app6)
    end},
    {"app.env", fun() ->
        ok = application:load({application, diff_app7, [{description, "d"}, {vsn, "1"}, {modules, []},
            {registered, []}, {applications, [kernel, stdlib]}, {env, [{k, 1}]}]}),
        ev({k, application:get_env(diff_app7, k)}),
        ev({missing, application:get_env(diff_app7, missing)}),
        application:set_env(diff_app7, k, 2),
        ev({k, application:get_env(diff_app7, k)}),
        application:unset_env(diff_app7, k),
        ev({k, application:get_env(diff_app7, k)}),
        application:unload(diff_app7)
    end},
    {"app.load_twice", fun() ->
        app_load(diff_app10, [], []),
        ev({load_again, err_tag(application:load({application, diff_app10, [{description, "d"}, {vsn, "1"},
            {modules, []}, {registered, []}, {applications, [kernel, stdlib]}]}))}),
        application:unload(diff_app10)
    end},
    {"app.unload", fun() ->
        app_load(diff_app11, [], []),
        ok = application:start(diff_app11),
        ev({unload_running, err_tag(application:unload(diff_app11))}),
        ok = application:stop(diff_app11),
        ev({unload, err_tag(application:unload(diff_app11))}),
        ev({unload_again, err_tag(application:unload(diff_app11))}),
        ev({env_unloaded, application:get_env(diff_app11, k)})
    end},
    {"app.start_callback_fails", fun() ->
        ok = application:load({application, diff_app8, [{description, "d"}, {vsn, "1"}, {modules, []},
            {registered, []}, {applications, [kernel, stdlib]}, {mod, {diff_app, {fail, diff_app8, self()}}}]}),
        ev(case application:start(diff_app8) of {error, _} -> error; R -> R end),
        ev(recv(1000)),
        ev({which, mine([diff_app8])}),
        application:unload(diff_app8)
    end},
    {"app.stop_dependency_first", fun() ->
        app_load(diff_app9a, [], []),
        app_load(diff_app9b, [diff_app9a], []),
        {ok, _} = application:ensure_all_started(diff_app9b),
        ev(recv(1000)), ev(recv(1000)),
        ev({stop, application:stop(diff_app9a)}),
        collect(fun(M) -> tag(M) =:= app_stop end, 1000),
        ev({which, mine([diff_app9a, diff_app9b])}),
        application:stop(diff_app9b),
        application:unload(diff_app9b), application:unload(diff_app9a)
    end}
    ].

app_load(Name, Deps, Children) ->
    Specs = [spec(Id, permanent) || Id <- Children],
    ok = application:load({application, Name, [{description, "d"}, {vsn, "1"}, {modules, []}, {registered, []},
        {applications, [kernel, stdlib | Deps]}, {mod, {diff_app, {Name, self(), Specs}}}]}).

%% ok, or {error, Tag} of an {error, {Tag, Detail}}.
err_tag(ok) -> ok;
err_tag({error, {Tag, _}}) -> {error, Tag}.

mine(Names) -> [A || {A, _, _} <- application:which_applications(), lists:member(A, Names)].
event_scenarios() -> [
    {"event.notify_order", fun() ->
        {ok, M} = gen_event:start_link(),
        [ok = gen_event:add_handler(M, {diff_evh, H}, {self(), H}) || H <- [h1, h2, h3]],
        ev({sync, gen_event:sync_notify(M, e1)}),
        ev(recv(1000)), ev(recv(1000)), ev(recv(1000))
    end},
    {"event.which_handlers", fun() ->
        {ok, M} = gen_event:start_link(),
        [ok = gen_event:add_handler(M, {diff_evh, H}, {self(), H}) || H <- [h1, h2, h3]],
        ev({which, handlers(M)})
    end},
    {"event.delete_handler", fun() ->
        {ok, M} = gen_event:start_link(),
        [ok = gen_event:add_handler(M, {diff_evh, H}, {self(), H}) || H <- [h1, h2]],
        ev({delete, gen_event:delete_handler(M, {diff_evh, h1}, bye)}),
        ev(recv(1000)),
        ev({which, handlers(M)})
    end},
    {"event.delete_unknown", fun() ->
        {ok, M} = gen_event:start_link(),
        ev({delete, gen_event:delete_handler(M, {diff_evh, zz}, bye)})
    end},
    {"event.remove_handler_return", fun() ->
        {ok, M} = gen_event:start_link(),
        [ok = gen_event:add_handler(M, {diff_evh, H}, {self(), H}) || H <- [h1, h2]],
        gen_event:sync_notify(M, remove_me),
        ev(recv(1000)), ev(recv(1000)),
        ev({which, handlers(M)})
    end},
    {"event.handler_crash", fun() ->
        {ok, M} = gen_event:start_link(),
        ok = gen_event:add_handler(M, {diff_evh, h1}, {self(), h1}),
        gen_event:sync_notify(M, crash),
        ev(recv(1000)),
        ev({which, handlers(M)}),
        gen_event:sync_notify(M, e2),
        ev(recv(100))
    end},
    {"event.sup_handler_exit", fun() ->
        {ok, M} = gen_event:start_link(),
        ok = gen_event:add_sup_handler(M, {diff_evh, h1}, {self(), h1}),
        gen_event:sync_notify(M, remove_me),
        ev(recv(1000)),
        ev(case recv(1000) of {gen_event_EXIT, {diff_evh, Id}, R} -> {gen_event_EXIT, Id, R}; X -> X end)
    end},
    {"event.call", fun() ->
        {ok, M} = gen_event:start_link(),
        ok = gen_event:add_handler(M, {diff_evh, h1}, {self(), h1}),
        ev({call, gen_event:call(M, {diff_evh, h1}, get)}),
        ev({call_unknown, gen_event:call(M, {diff_evh, zz}, get)})
    end},
    {"event.add_duplicate", fun() ->
        {ok, M} = gen_event:start_link(),
        ev({add, gen_event:add_handler(M, {diff_evh, h1}, {self(), h1})}),
        ev({add, gen_event:add_handler(M, {diff_evh, h1}, {self(), h1})}),
        ev({which, handlers(M)})
    end},
    {"event.stop_terminates_all", fun() ->
        {ok, M} = gen_event:start_link(),
        [ok = gen_event:add_handler(M, {diff_evh, H}, {self(), H}) || H <- [h1, h2]],
        ev({stop, gen_event:stop(M)}),
        ev(recv(1000)), ev(recv(1000))
    end},
    {"event.notify_then_call_order", fun() ->
        {ok, M} = gen_event:start_link(),
        ok = gen_event:add_handler(M, {diff_evh, h1}, {self(), h1}),
        gen_event:notify(M, e1),
        ev({which, handlers(M)}),
        ev(recv(1000))
    end},
    {"event.sup_handler_owner_dies", fun() ->
        Main = self(),
        {ok, M} = gen_event:start_link(),
        ok = gen_event:add_handler(M, {diff_evh, h1}, {self(), h1}),
        {O, R} = spawn_monitor(fun() ->
            ok = gen_event:add_sup_handler(M, {diff_evh, h2}, {Main, h2}),
            Main ! added
        end),
        receive added -> ok end,
        receive {'DOWN', R, _, O, _} -> ok end,
        ev({which, handlers(M)}),
        ev(recv(1000))
    end},
    {"event.notify_dead_manager", fun() ->
        {ok, M} = gen_event:start(),
        ok = gen_event:stop(M),
        ev(attempt(fun() -> gen_event:notify(M, e) end))
    end},
    {"event.info_to_handlers", fun() ->
        {ok, M} = gen_event:start_link(),
        [ok = gen_event:add_handler(M, {diff_evh, H}, {self(), H}) || H <- [h1, h2]],
        M ! hello,
        ev(recv(1000)), ev(recv(1000))
    end}
    ].

handlers(M) -> [Id || {diff_evh, Id} <- gen_event:which_handlers(M)].
ets_scenarios() -> [
    {"ets.set_basic", fun() ->
        T = ets:new(t, [set]),
        ev(ets:insert(T, {a, 1})), ev(ets:insert(T, {a, 2})),
        ev({lookup, ets:lookup(T, a)}),
        ev({insert_new, ets:insert_new(T, {a, 3})}),
        ev({insert_new, ets:insert_new(T, {b, 1})}),
        ev({member, ets:member(T, b)}),
        ev({delete, ets:delete(T, b)}),
        ev({member, ets:member(T, b)}),
        ev({lookup, ets:lookup(T, zz)}),
        ev({size, ets:info(T, size)})
    end},
    {"ets.bag", fun() ->
        T = ets:new(t, [bag]),
        [ets:insert(T, O) || O <- [{k, 1}, {k, 2}, {k, 1}]],
        ev({lookup, ets:lookup(T, k)}),
        ev({delete_object, ets:delete_object(T, {k, 1})}),
        ev({lookup, ets:lookup(T, k)})
    end},
    {"ets.duplicate_bag", fun() ->
        T = ets:new(t, [duplicate_bag]),
        [ets:insert(T, O) || O <- [{k, 1}, {k, 2}, {k, 1}]],
        ev({lookup, ets:lookup(T, k)}),
        ev({size, ets:info(T, size)}),
        ev({delete_object, ets:delete_object(T, {k, 1})}),
        ev({lookup, ets:lookup(T, k)})
    end},
    {"ets.ordered_set_walk", fun() ->
        T = ets:new(t, [ordered_set]),
        [ets:insert(T, {N, x}) || N <- [3, 1, 2]],
        ev({first, ets:first(T)}), ev({next, ets:next(T, 1)}), ev({next, ets:next(T, 2)}),
        ev({next, ets:next(T, 3)}), ev({last, ets:last(T)}), ev({prev, ets:prev(T, 3)}),
        ev({prev, ets:prev(T, 1)}), ev({next_missing, ets:next(T, 0)}), ev({prev_missing, ets:prev(T, 9)})
    end},
    {"ets.ordered_set_order", fun() ->
        T = ets:new(t, [ordered_set]),
        [ets:insert(T, {K}) || K <- [b, 2, a, 1, {1, b}, {1, a}, {0, z}]],
        ev({all, ets:tab2list(T)})
    end},
    {"ets.set_walk", fun() ->
        T = ets:new(t, [set]),
        [ets:insert(T, {N}) || N <- [5, 3, 1, 4, 2]],
        ev({keys, lists:sort(walk(T, ets:first(T)))}),
        ev({tab2list, lists:sort(ets:tab2list(T))})
    end},
    {"ets.set_next_missing_key", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, {1}),
        ev(attempt(fun() -> ets:next(T, 99) end))
    end},
    {"ets.empty_walks", fun() ->
        S = ets:new(t, [set]), O = ets:new(t, [ordered_set]),
        ev({ets:first(S), ets:last(S), ets:first(O), ets:last(O)})
    end},
    {"ets.update_counter", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, {c, 0}),
        ev(ets:update_counter(T, c, 5)),
        ev(ets:update_counter(T, c, {2, -10})),
        ev(ets:update_counter(T, c, {2, 20, 12, 0})),
        ev(ets:update_counter(T, c, [{2, 1}, {2, 1}])),
        ev(ets:update_counter(T, d, 1, {d, 10})),
        ev(attempt(fun() -> ets:update_counter(T, missing, 1) end)),
        ev({lookup, ets:lookup(T, c)})
    end},
    {"ets.update_counter_empty_ops", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, {c, 0}),
        ev(attempt(fun() -> ets:update_counter(T, c, []) end))
    end},
    {"ets.update_counter_badarg", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, {c, 0}), ets:insert(T, {s, x}),
        ev(attempt(fun() -> ets:update_counter(T, c, 1.5) end)),
        ev(attempt(fun() -> ets:update_counter(T, s, 1) end)),
        ev(attempt(fun() -> ets:update_counter(T, c, {1, 1}) end)),
        ev({lookup, ets:lookup(T, c)})
    end},
    {"ets.update_element", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, {k, a, b}),
        ev(ets:update_element(T, k, {2, x})),
        ev(ets:update_element(T, k, [{2, y}, {3, z}])),
        ev({lookup, ets:lookup(T, k)}),
        ev(ets:update_element(T, missing, {2, x})),
        ev(attempt(fun() -> ets:update_element(T, k, {1, j}) end)),
        ev(attempt(fun() -> ets:update_element(T, k, {4, j}) end))
    end},
    {"ets.update_element_empty", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, {k, a}),
        ev(attempt(fun() -> ets:update_element(T, k, []) end))
    end},
    {"ets.rename", fun() ->
        T = ets:new(t, [set]),
        R = ets:rename(T, diff_renamed1),
        ev({unnamed_returns_tid, R =:= T}),
        N = ets:new(diff_named1, [named_table]),
        ev({named, ets:rename(N, diff_named2)}),
        ets:insert(diff_named2, {k}),
        ev({lookup, ets:lookup(diff_named2, k)}),
        ev(attempt(fun() -> ets:lookup(diff_named1, k) end))
    end},
    {"ets.access_protected", fun() ->
        T = ets:new(t, [protected]),
        ets:insert(T, {k, 1}),
        ev({read, in_other(fun() -> ets:lookup(T, k) end)}),
        ev({write, in_other(fun() -> ets:insert(T, {k, 2}) end)}),
        ev({lookup, ets:lookup(T, k)})
    end},
    {"ets.access_private", fun() ->
        T = ets:new(t, [private]),
        ets:insert(T, {k, 1}),
        ev({read, in_other(fun() -> ets:lookup(T, k) end)}),
        ev({write, in_other(fun() -> ets:insert(T, {k, 2}) end)}),
        ev({info, in_other(fun() -> ets:info(T, size) end)})
    end},
    {"ets.access_public", fun() ->
        T = ets:new(t, [public]),
        ev({write, in_other(fun() -> ets:insert(T, {k, 2}) end)}),
        ev({lookup, ets:lookup(T, k)}),
        ev({delete_other, in_other(fun() -> ets:delete(T) end)})
    end},
    {"ets.owner_death", fun() ->
        Main = self(),
        {P, M} = spawn_monitor(fun() ->
            T = ets:new(diff_owned, [named_table, public]),
            ets:insert(T, {k}),
            Main ! {table, T}
        end),
        receive {table, _} -> ok end,
        receive {'DOWN', M, _, P, _} -> ok end,
        ev({info, ets:info(diff_owned)}),
        ev({whereis, ets:whereis(diff_owned)}),
        ev(attempt(fun() -> ets:lookup(diff_owned, k) end))
    end},
    {"ets.heir", fun() ->
        Main = self(),
        {_, M} = spawn_monitor(fun() ->
            T = ets:new(t, [{heir, Main, hdata}]),
            ets:insert(T, {k}),
            Main ! {table, T}
        end),
        T = receive {table, X} -> X end,
        receive {'DOWN', M, _, _, _} = D -> ev(D) end,
        ev(recv(1000)),
        ev({owner_is_self, ets:info(T, owner) =:= self()}),
        ev({heir, ets:info(T, heir)}),
        ev(ets:insert(T, {k2})),
        ev({size, ets:info(T, size)})
    end},
    {"ets.setopts_heir", fun() ->
        Main = self(),
        {_, M} = spawn_monitor(fun() ->
            T = ets:new(t, []),
            ets:setopts(T, {heir, Main, later}),
            Main ! {table, T}
        end),
        receive {table, _} -> ok end,
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(recv(1000))
    end},
    {"ets.give_away", fun() ->
        Main = self(),
        C = fwd(Main, false),
        receive ready -> ok end,
        T = ets:new(t, [protected]),
        ev({give, ets:give_away(T, C, gdata)}),
        ev(recv(1000)),
        ev({owner, ets:info(T, owner) =:= C}),
        ev(attempt(fun() -> ets:insert(T, {k}) end)),
        ev(attempt(fun() -> ets:give_away(T, Main, x) end))
    end},
    {"ets.heir_after_give_away", fun() ->
        Main = self(),
        C = spawn(fun() -> receive {'ETS-TRANSFER', _, _, _} -> Main ! taken end, receive die -> ok end end),
        T = ets:new(t, [{heir, Main, hdata}]),
        ets:give_away(T, C, gdata),
        receive taken -> ok end,
        M = monitor(process, C),
        C ! die,
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(recv(1000)),
        ev({owner_is_self, ets:info(T, owner) =:= self()})
    end},
    {"ets.heir_dead_before_owner", fun() ->
        Main = self(),
        H = spawn(fun() -> ok end),
        HM = monitor(process, H),
        receive {'DOWN', HM, _, _, _} -> ok end,
        {_, M} = spawn_monitor(fun() ->
            T = ets:new(diff_heirless, [named_table, {heir, H, x}]),
            Main ! {table, T}
        end),
        receive {table, _} -> ok end,
        receive {'DOWN', M, _, _, _} -> ok end,
        ev({info, ets:info(diff_heirless)})
    end},
    {"ets.heir_self", fun() ->
        Main = self(),
        {_, M} = spawn_monitor(fun() ->
            T = ets:new(diff_selfheir, [named_table]),
            Main ! {table, T, attempt(fun() -> ets:setopts(T, {heir, self(), x}) end)}
        end),
        receive {table, _, R} -> ev({setopts, R}) end,
        receive {'DOWN', M, _, _, _} -> ok end,
        ev({info, ets:info(diff_selfheir)})
    end},
    {"ets.give_away_errors", fun() ->
        T = ets:new(t, []),
        ev(attempt(fun() -> ets:give_away(T, self(), x) end)),
        P = spawn(fun() -> ok end),
        M = monitor(process, P),
        receive {'DOWN', M, _, _, _} -> ok end,
        ev(attempt(fun() -> ets:give_away(T, P, x) end)),
        ev({owner, ets:info(T, owner) =:= self()})
    end},
    {"ets.select", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, [{a, 1}, {b, 2}, {c, 3}]),
        ev({select, lists:sort(ets:select(T, [{{'$1', '$2'}, [{'>', '$2', 1}], ['$1']}]))}),
        ev({count, ets:select_count(T, [{{'_', '$1'}, [{'>=', '$1', 2}], [true]}])}),
        ev({delete, ets:select_delete(T, [{{'_', '$1'}, [{'>', '$1', 2}], [true]}])}),
        ev({all, lists:sort(ets:tab2list(T))})
    end},
    {"ets.select_ordered_results", fun() ->
        T = ets:new(t, [ordered_set]),
        ets:insert(T, [{c, 3}, {a, 1}, {b, 2}]),
        ev({swap, ets:select(T, [{{'$1', '$2'}, [], [{{'$2', '$1'}}]}])}),
        ev({whole, ets:select(T, [{{'$1', '$2'}, [{'<', '$2', 3}], ['$_']}])}),
        ev({vars, ets:select(T, [{{'$1', '$2'}, [{'==', '$1', b}], ['$$']}])}),
        ev({two_clauses, ets:select(T, [{{a, '$1'}, [], [{{first, '$1'}}]}, {{'$1', '_'}, [], ['$1']}])})
    end},
    {"ets.match", fun() ->
        T = ets:new(t, [ordered_set]),
        ets:insert(T, [{a, 1, x}, {b, 2, y}, {c, 1, z}]),
        ev({match, ets:match(T, {'$1', 1, '$2'})}),
        ev({match_object, ets:match_object(T, {'_', 1, '_'})}),
        ev({match_delete, ets:match_delete(T, {'_', 1, '_'})}),
        ev({all, ets:tab2list(T)})
    end},
    {"ets.take_and_foldl", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, [{a, 1}, {b, 2}, {c, 3}]),
        ev({take, ets:take(T, a)}),
        ev({take, ets:take(T, a)}),
        ev({sum, ets:foldl(fun({_, V}, Acc) -> V + Acc end, 0, T)})
    end},
    {"ets.named_table", fun() ->
        N = ets:new(diff_named3, [named_table]),
        ev({new, N}),
        ets:insert(diff_named3, {k, v}),
        ev({lookup, ets:lookup(diff_named3, k)}),
        ev(attempt(fun() -> ets:new(diff_named3, [named_table]) end)),
        ev({whereis_is_tid, is_reference(ets:whereis(diff_named3))})
    end},
    {"ets.keypos", fun() ->
        T = ets:new(t, [{keypos, 2}]),
        ets:insert(T, {x, k1}), ets:insert(T, {y, k1}),
        ev({lookup, ets:lookup(T, k1)}),
        ev(attempt(fun() -> ets:insert(T, {only}) end))
    end},
    {"ets.info_fields", fun() ->
        T = ets:new(diff_info, [bag, public, named_table, {keypos, 2}]),
        ets:insert(T, {a, b}),
        ev([ets:info(T, F) || F <- [size, type, protection, keypos, named_table, name]])
    end},
    {"ets.delete_table", fun() ->
        T = ets:new(t, []),
        ev(ets:delete(T)),
        ev(attempt(fun() -> ets:lookup(T, k) end)),
        ev({info, ets:info(T)}),
        ev(attempt(fun() -> ets:delete(T) end))
    end},
    {"ets.lookup_element", fun() ->
        T = ets:new(t, []),
        ets:insert(T, {k, a, b}),
        ev(ets:lookup_element(T, k, 2)),
        ev(attempt(fun() -> ets:lookup_element(T, k, 4) end)),
        ev(attempt(fun() -> ets:lookup_element(T, missing, 2) end))
    end},
    {"ets.insert_many", fun() ->
        T = ets:new(t, [ordered_set]),
        ev(ets:insert(T, [{a, 1}, {b, 2}])),
        ev(ets:insert_new(T, [{c, 3}, {b, 3}])),
        ev(ets:insert_new(T, [{c, 3}, {d, 4}])),
        ev({all, ets:tab2list(T)}),
        ev(ets:delete_all_objects(T)),
        ev({all, ets:tab2list(T)})
    end},
    {"ets.int_float_keys", fun() ->
        S = ets:new(t, [set]), O = ets:new(t, [ordered_set]),
        [ets:insert(T, [{1, int}, {1.0, float}]) || T <- [S, O]],
        ev({set_size, ets:info(S, size)}),
        ev({ordered_set_size, ets:info(O, size)})
    end},
    {"ets.utf16_order", fun() ->
        T = ets:new(t, [ordered_set]),
        ets:insert(T, [{<<16#FFFD/utf8>>, replacement}, {<<16#1F600/utf8>>, emoji}]),
        ev({order, [Tag || {_, Tag} <- ets:tab2list(T)]})
    end},
    {"ets.ordered_walk_delete", fun() ->
        T = ets:new(t, [ordered_set]),
        [ets:insert(T, {N}) || N <- [1, 2, 3, 4]],
        ev({visited, walk_delete(T, ets:first(T))}),
        ev({left, ets:tab2list(T)})
    end},
    {"ets.foldr_and_foldl_order", fun() ->
        T = ets:new(t, [ordered_set]),
        [ets:insert(T, {N}) || N <- [2, 3, 1]],
        ev({foldl, ets:foldl(fun({K}, A) -> [K | A] end, [], T)}),
        ev({foldr, ets:foldr(fun({K}, A) -> [K | A] end, [], T)})
    end},
    {"ets.bag_delete_key_and_take", fun() ->
        T = ets:new(t, [bag]),
        ets:insert(T, [{k, 1}, {k, 2}, {j, 1}]),
        ev({take, lists:sort(ets:take(T, k))}),
        ev({member, ets:member(T, k)}),
        ev({delete, ets:delete(T, j)}),
        ev({size, ets:info(T, size)})
    end},
    {"ets.match_repeated_variable", fun() ->
        T = ets:new(t, [ordered_set]),
        ets:insert(T, [{a, a, 1}, {b, c, 2}, {d, d, 3}]),
        ev({match, ets:match(T, {'$1', '$1', '$2'})}),
        ev({select, ets:select(T, [{{'$1', '$1', '_'}, [], ['$_']}])})
    end},
    {"ets.update_counter_thresholds", fun() ->
        T = ets:new(t, [set]),
        ets:insert(T, {c, 5, 5}),
        ev(ets:update_counter(T, c, {2, -10, 0, 100})),
        ev(ets:update_counter(T, c, {3, 10, 12, -1})),
        ev(ets:update_counter(T, c, [{2, 1}, {3, -1}])),
        ev({lookup, ets:lookup(T, c)})
    end},
    {"ets.update_counter_bag_badarg", fun() ->
        T = ets:new(t, [bag]),
        ets:insert(T, {c, 0}),
        ev(attempt(fun() -> ets:update_counter(T, c, 1) end)),
        ev(attempt(fun() -> ets:update_element(T, c, {2, 1}) end))
    end}
    ].

walk_delete(_, '$end_of_table') -> [];
walk_delete(T, K) ->
    ets:delete(T, K),
    Next = ets:next(T, K),
    [K | walk_delete(T, Next)].

walk(_, '$end_of_table') -> [];
walk(T, K) -> [K | walk(T, ets:next(T, K))].

in_other(F) ->
    Main = self(),
    spawn(fun() -> Main ! {in_other, attempt(F)} end),
    receive {in_other, R} -> R end.

