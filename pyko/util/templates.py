"""ko's templates: `.ko.yaml`'s flags and ldflags are Go text/template templates, which ko executes
with missingkey=error over .Env (the build's environment, with LDFLAGS ""), .GoEnv (`go env`, with
the build's values for the keys both have), .Git, .Date and .Timestamp. pyko evaluates them the same
way (util/gotemplate), and also tags, labels, annotations and the image's env values (without
.GoEnv, which only a Go build has).

Git and `go env` are asked only when a template reads them. Outside a git checkout .Git's values are
ko's empty ones, as in ko."""
from __future__ import annotations

from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

from ..errors import UsageError
from .gotemplate import GoMap, Int64, Lazy, TemplateError, render
from .timestamps import rfc3339
from .vcs import ko_git_info

GoEnv = Callable[[], Mapping[str, str]]


def template_data(env: Mapping[str, str], cwd: str, epoch: int, go_env: Optional[GoEnv] = None) -> GoMap:
    """ko's template data (createTemplateData), with ko's types: maps of strings, Git's booleans
    and its timestamp an int64."""
    root: Dict[str, object] = {
        "Env": GoMap({"LDFLAGS": "", **env}, "string"),
        "Git": Lazy(lambda: GoMap(dict(ko_git_info(cwd)))),
        "Date": rfc3339(epoch),
        "Timestamp": Int64(epoch),
    }
    if go_env is not None:
        reader = go_env
        root["GoEnv"] = Lazy(lambda: GoMap(dict(reader()), "string"))
    return GoMap(root)


def expand(values: Sequence[str], env: Mapping[str, str], cwd: str, epoch: int,
           go_env: Optional[GoEnv] = None) -> Tuple[str, ...]:
    """Expand templates in each value; `env` is what {{.Env.X}} sees, `go_env` what {{.GoEnv.X}} does."""
    return tuple(expand_one(v, env, cwd, epoch, go_env) for v in values)


def expand_one(text: str, env: Mapping[str, str], cwd: str, epoch: int, go_env: Optional[GoEnv] = None) -> str:
    if "{{" not in text:
        return text
    try:
        return render(text, template_data(env, cwd, epoch, go_env))
    except TemplateError as error:
        raise UsageError(f"template {text!r}: {error}") from None
