Logger.configure(level: :none)
:logger.set_primary_config(:level, :none)
:difftrace.run_all([])
