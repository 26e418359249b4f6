"""The plan: flags, config files (.pyko.toml) and the environment, resolved once into frozen
values (resolve.py), the environment read in environment.py alone. Everything below the plan
receives values, never flags, files or os.environ."""
