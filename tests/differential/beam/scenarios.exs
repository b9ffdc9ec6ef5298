# The Elixir scenarios of the differential suite (Task, Agent,
# DynamicSupervisor): each has a TypeScript twin of the same name in
# tests/differential/scenarios/elixir.ts. Traces are recorded and printed by
# difftrace.erl (compiled by the runner and put on the code path), so both
# languages print the same canonical form. Supervised children are
# diff_erl:child_start/3's workers.
:logger.set_primary_config(:level, :none)

defmodule Diff do
  def ev(t), do: :difftrace.ev(t)
  def recv(ms), do: :difftrace.recv(ms)
  def collect(stop, ms), do: :difftrace.collect(stop, ms)

  def attempt(f) do
    try do
      {:ok, f.()}
    rescue
      _ in [ArgumentError, RuntimeError] -> {:caught, :badarg}
    catch
      :exit, r -> {:caught, strip(r)}
    end
  end

  def strip({r, {m, f, a}}) when is_atom(m) and is_atom(f) and is_list(a), do: r
  def strip(r), do: r

  def down?(m), do: is_tuple(m) and elem(m, 0) == :DOWN

  def spec(id, restart \\ :permanent),
    do: %{id: id, start: {:diff_erl, :child_start, [id, self(), :normal]}, restart: restart, shutdown: 1000}

  def started(n) do
    for _ <- 1..n do
      m = receive do
        {:started, _, _} = x -> x
      after
        1000 -> :timeout
      end

      ev(m)
      elem(m, 2)
    end
  end

  def which(s), do: for({id, p, _, _} <- DynamicSupervisor.which_children(s), do: {id, p})

  def blocked, do: fn -> receive do: (:never -> :ok) end
end

defmodule DiffNoCall do
  use GenServer
  def init(s), do: {:ok, s}
end

defmodule DiffScenarios do
  import Diff

  def all, do: [
  {"task.async_await", fn ->
     t = Task.async(fn -> 42 end)
     ev(Task.await(t))
   end},
  {"task.await_crash", fn ->
     Process.flag(:trap_exit, true)
     t = Task.async(fn -> exit(:boom) end)
     ev(attempt(fn -> Task.await(t) end))
     ev(recv(1000))
   end},
  {"task.async_crash_kills_caller", fn ->
     Task.async(fn -> exit(:boom) end)
     ev(recv(1000))
   end},
  {"task.yield_exit", fn ->
     Process.flag(:trap_exit, true)
     t = Task.async(fn -> exit(:boom) end)
     ev(Task.yield(t, 1000))
   end},
  {"task.yield_timeout_then_shutdown", fn ->
     t = Task.async(blocked())
     ev(Task.yield(t, 10))
     ev(Task.shutdown(t))
     ev({:alive, Process.alive?(t.pid)})
   end},
  {"task.shutdown_brutal_kill", fn ->
     t = Task.async(blocked())
     ev(Task.shutdown(t, :brutal_kill))
   end},
  {"task.shutdown_timeout_kills", fn ->
     main = self()
     t = Task.async(fn -> Process.flag(:trap_exit, true); send(main, :trapping); receive do: (:never -> :ok) end)
     receive do: (:trapping -> :ok)
     ev(Task.shutdown(t, 50))
   end},
  {"task.shutdown_finished", fn ->
     t = Task.async(fn -> :done end)
     ref = Process.monitor(t.pid)
     receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
     ev(Task.shutdown(t))
   end},
  {"task.yield_twice", fn ->
     t = Task.async(fn -> 1 end)
     ev(Task.yield(t, 1000))
     ev(Task.yield(t, 50))
   end},
  {"task.await_not_owner", fn ->
     main = self()
     t = Task.async(blocked())
     spawn(fn -> send(main, {:other, attempt(fn -> Task.await(t, 100) end)}) end)
     receive do: ({:other, r} -> ev(r))
   end},
  {"task.await_timeout", fn ->
     t = Task.async(blocked())
     ev(attempt(fn -> Task.await(t, 20) end))
     ev({:alive, Process.alive?(t.pid)})
   end},
  {"task.trapping_owner_sees_normal_exit", fn ->
     Process.flag(:trap_exit, true)
     t = Task.async(fn -> 1 end)
     ev(Task.await(t))
     ev(recv(1000))
   end},
  {"task.start_no_link", fn ->
     main = self()
     {:ok, _} = Task.start(fn -> send(main, :hi) end)
     ev(recv(1000))
   end},
  {"task.await_many_order", fn ->
     ts = for n <- [3, 1, 2], do: Task.async(fn -> n * 10 end)
     ev(Task.await_many(ts))
   end},
  {"genserver.no_handle_call", fn ->
     Process.flag(:trap_exit, true)
     {:ok, p} = GenServer.start_link(DiffNoCall, :ok)
     ev(case attempt(fn -> GenServer.call(p, :hi, 2000) end) do
          {:caught, {_, stack}} when is_list(stack) -> {:caught, :crash}
          r -> r
        end)
   end},
  {"tasksup.async_nolink_crash", fn ->
     {:ok, s} = Task.Supervisor.start_link()
     t = Task.Supervisor.async_nolink(s, fn -> exit(:boom) end)
     ev(Task.yield(t, 1000))
     ev({:children, length(Task.Supervisor.children(s))})
   end},
  {"tasksup.start_child", fn ->
     main = self()
     {:ok, s} = Task.Supervisor.start_link()
     {:ok, p} = Task.Supervisor.start_child(s, fn -> send(main, :ran); receive do: (:never -> :ok) end)
     ev(recv(1000))
     ev({:children, Task.Supervisor.children(s) == [p]})
     ev(Task.Supervisor.terminate_child(s, p))
     ev({:children, Task.Supervisor.children(s)})
   end},
  {"agent.get_update", fn ->
     {:ok, a} = Agent.start_link(fn -> 0 end)
     ev(Agent.update(a, &(&1 + 1)))
     ev(Agent.get(a, & &1))
     ev(Agent.get_and_update(a, fn s -> {s, s + 10} end))
     ev(Agent.get(a, & &1))
   end},
  {"agent.cast_then_get", fn ->
     {:ok, a} = Agent.start_link(fn -> 3 end)
     ev(Agent.cast(a, &(&1 * 2)))
     ev(Agent.get(a, & &1))
   end},
  {"agent.stop", fn ->
     {:ok, a} = Agent.start_link(fn -> 0 end)
     ev(Agent.stop(a))
     ev({:alive, Process.alive?(a)})
     ev(attempt(fn -> Agent.get(a, & &1) end))
   end},
  {"agent.stop_reason", fn ->
     {:ok, a} = Agent.start(fn -> 0 end)
     Process.monitor(a)
     ev(Agent.stop(a, {:shutdown, :bye}))
     ev(recv(1000))
   end},
  {"agent.named", fn ->
     {:ok, a} = Agent.start(fn -> 1 end, name: :diff_ag1)
     ev(Agent.get(:diff_ag1, & &1))
     ev(Agent.start(fn -> 2 end, name: :diff_ag1))
     ev({:same, Process.whereis(:diff_ag1) == a})
   end},
  {"agent.fun_exits", fn ->
     Process.flag(:trap_exit, true)
     {:ok, a} = Agent.start_link(fn -> 0 end)
     ev(attempt(fn -> Agent.get(a, fn _ -> exit(:boom) end) end))
     ev(recv(1000))
   end},
  {"agent.noproc", fn ->
     ev(attempt(fn -> Agent.update(:diff_no_such_agent, & &1) end))
     ev(attempt(fn -> Agent.get(:diff_no_such_agent, & &1) end))
   end},
  {"agent.init_exit", fn ->
     ev(Agent.start(fn -> exit(:bad) end))
   end},
  {"agent.update_order", fn ->
     {:ok, a} = Agent.start_link(fn -> [] end)
     for x <- [1, 2, 3], do: Agent.cast(a, &[x | &1])
     ev(Agent.get(a, & &1))
   end},
  {"dynsup.start_children", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one)
     ev(DynamicSupervisor.start_child(s, spec(:a)))
     ev(DynamicSupervisor.start_child(s, spec(:b)))
     started(2)
     ev({:which, which(s)})
     ev({:count, DynamicSupervisor.count_children(s)})
   end},
  {"dynsup.terminate_child", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one)
     {:ok, p} = DynamicSupervisor.start_child(s, spec(:a))
     started(1)
     ev(DynamicSupervisor.terminate_child(s, p))
     ev(recv(1000))
     ev(DynamicSupervisor.terminate_child(s, p))
     ev({:count, DynamicSupervisor.count_children(s)})
   end},
  {"dynsup.restart_permanent", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one)
     {:ok, p} = DynamicSupervisor.start_child(s, spec(:a))
     started(1)
     send(p, {:crash, :boom})
     started(1)
     ev({:count, DynamicSupervisor.count_children(s)})
   end},
  {"dynsup.temporary_not_restarted", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one)
     {:ok, p} = DynamicSupervisor.start_child(s, spec(:a, :temporary))
     started(1)
     ref = Process.monitor(p)
     send(p, {:crash, :boom})
     receive do: ({:DOWN, ^ref, _, _, r} -> ev({:child_down, r}))
     ev({:count, DynamicSupervisor.count_children(s)})
     ev({:which, which(s)})
   end},
  {"dynsup.transient_normal", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one)
     {:ok, p} = DynamicSupervisor.start_child(s, spec(:a, :transient))
     started(1)
     ref = Process.monitor(p)
     send(p, {:crash, :normal})
     receive do: ({:DOWN, ^ref, _, _, r} -> ev({:child_down, r}))
     ev({:count, DynamicSupervisor.count_children(s)})
   end},
  {"dynsup.max_children", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one, max_children: 1)
     ev(DynamicSupervisor.start_child(s, spec(:a)))
     ev(DynamicSupervisor.start_child(s, spec(:b)))
     started(1)
   end},
  {"dynsup.intensity", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one, max_restarts: 0)
     Process.unlink(s)
     Process.monitor(s)
     {:ok, p} = DynamicSupervisor.start_child(s, spec(:a))
     started(1)
     send(p, {:crash, :boom})
     collect(&down?/1, 1000)
   end},
  {"dynsup.start_child_error", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one)
     ev(DynamicSupervisor.start_child(s, %{id: :b, start: {:diff_erl, :bad_child_start, [:bad]}}))
     ev(DynamicSupervisor.start_child(s, %{id: :c, start: {:diff_erl, :ignore_child_start, []}}))
     ev({:count, DynamicSupervisor.count_children(s)})
   end},
  {"dynsup.stop", fn ->
     {:ok, s} = DynamicSupervisor.start_link(strategy: :one_for_one)
     {:ok, _} = DynamicSupervisor.start_child(s, spec(:a))
     started(1)
     ev(DynamicSupervisor.stop(s))
     ev(recv(1000))
     ev({:alive, Process.alive?(s)})
   end}
  ]
end

:difftrace.run_all(DiffScenarios.all())
