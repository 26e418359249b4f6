"""gotemplate/nodes.py: a node shows as the template text it came from (errors name it so)."""
from pyko.util.gotemplate.funcs import BUILTINS
from pyko.util.gotemplate.parse import parse


def test_nodes_print_as_their_source():
    text = '{{ $v := (index .Git "Branch").X | printf "%s" 1 true nil . $.A }}'
    [action] = parse(text, "t", tuple(BUILTINS))["t"]
    assert str(action.pipe) == '$v := (index .Git "Branch").X | printf "%s" 1 true nil . $.A'
