%% A gen_event handler reporting to its owner; id in its state.
-module(diff_evh).
-behaviour(gen_event).
-export([init/1, handle_event/2, handle_call/2, handle_info/2, terminate/2]).

init({Owner, Id}) -> {ok, {Owner, Id}}.

handle_event(remove_me, _S) -> remove_handler;
handle_event(crash, _S) -> exit(boom);
handle_event(E, {Owner, Id} = S) -> Owner ! {event, Id, E}, {ok, S}.

handle_call(get, {_, Id} = S) -> {ok, {state_of, Id}, S}.

handle_info(M, {Owner, Id} = S) -> Owner ! {info, Id, M}, {ok, S}.

terminate(Reason, {Owner, Id}) ->
    Owner ! {terminate, Id, kind(Reason)},
    {terminated, Id}.

%% A crash's reason carries a stack trace: report only that it was one.
kind({error, _}) -> crash;
kind(R) -> R.
