"""The template corpus through real Go: tests/data/gotemplate/oracle.go executes each template as
ko does (text/template, missingkey=error, ko's data types), and golden.json, which the unit tier
checks pyko against, must hold exactly Go's answers. PYKO_UPDATE_GOLDEN=1 rewrites it from Go (after
adding a case)."""
import json
import os
import shutil
import subprocess

import pytest

HERE = os.path.join(os.path.dirname(__file__), "..", "data", "gotemplate")
GOLDEN = os.path.join(HERE, "golden.json")


def _go_answers(templates):
    if not shutil.which("go"):
        pytest.skip("no go on PATH")
    proc = subprocess.run(["go", "run", "oracle.go"], cwd=HERE, input=json.dumps(templates),
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "GOFLAGS": "", "GO111MODULE": "off"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_golden_answers_are_gos():
    with open(GOLDEN, encoding="utf-8") as f:
        cases = json.load(f)
    answers = _go_answers([c["template"] for c in cases])
    fresh = [{"template": c["template"], **a} for c, a in zip(cases, answers)]
    if os.environ.get("PYKO_UPDATE_GOLDEN") == "1":
        with open(GOLDEN, "w", encoding="utf-8") as f:
            json.dump(fresh, f, indent=1, ensure_ascii=False)
            f.write("\n")
        return
    differ = [(c["template"], c["out"], c["error"], f["out"], f["error"]) for c, f in zip(cases, fresh)
              if (c.get("out"), c.get("error")) != (f["out"], f["error"])]
    assert not differ, differ[:5]
