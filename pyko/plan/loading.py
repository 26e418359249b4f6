"""The one Config a run uses: pyko's file, ko's .ko.yaml under it, the environment over both.

  $PYKO_DEFAULTBASEIMAGE, $KO_DEFAULTBASEIMAGE, ... (environment.config_overrides)
    > .pyko.toml / [tool.pyko] / $PYKO_CONFIG (config.py)
    > .ko.yaml / $KO_CONFIG_PATH (ko_config.py; a key both files set is pyko's, with a warning)
    > pyko's defaults
"""
from __future__ import annotations

import dataclasses
import os
from typing import Mapping

from .config import Config, read_pyko_config
from .environment import config_overrides
from .ko_config import find_ko_config, merge_ko, read_ko_config


def load_config(cwd: str, environ: Mapping[str, str]) -> Config:
    config, keys = read_pyko_config(cwd, environ)
    ko_path = find_ko_config(cwd, environ)
    if ko_path:
        config = merge_ko(config, keys, read_ko_config(ko_path, os.path.abspath(cwd)))
    overrides = config_overrides(environ)
    return dataclasses.replace(config, **overrides) if overrides else config
