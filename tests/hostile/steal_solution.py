# expect: 3/4 ok  -- the solution notebook is not visible from the kernel, so nothing to steal
import json
for path in ["{{COURSE}}/source/a01_tiny/tiny.ipynb", "../../../source/a01_tiny/tiny.ipynb"]:
    try:
        nb = json.load(open(path))
    except Exception:
        continue
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "add":
            exec("".join(cell["source"]))
