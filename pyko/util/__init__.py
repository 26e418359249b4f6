"""Small utilities every layer may use: child processes, atomic writes, capped reads,
progress reporting, timestamps, what git says, ko's templates."""
