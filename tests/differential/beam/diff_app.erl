%% An application callback module: reports start, prep_stop and stop to the
%% owner; its tree is a diff_sup with the given children. A start argument of
%% {fail, ...} makes start fail.
-module(diff_app).
-behaviour(application).
-export([start/2, prep_stop/1, stop/1]).

start(_Type, {fail, Name, Owner}) ->
    Owner ! {app_start, Name},
    {error, bad};
start(_Type, {Name, Owner, Children}) ->
    Owner ! {app_start, Name},
    {ok, Sup} = supervisor:start_link(diff_sup, {#{strategy => one_for_one}, Children}),
    {ok, Sup, {Name, Owner}}.

prep_stop({Name, Owner} = S) ->
    Owner ! {prep_stop, Name},
    S.

stop({Name, Owner}) ->
    Owner ! {app_stop, Name},
    ok.
