# expect: 4/4 ok  -- every attempt fails quietly; nothing outside the scratch space changes
import glob, os, shutil, sqlite3
targets = ["{{COURSE}}/gradebook.db", "{{COURSE}}/nbgrader_config.py"]
targets += glob.glob("{{COURSE}}/source/**/*", recursive=True)
targets += glob.glob("{{SUBMISSIONS}}/**/*.ipynb", recursive=True)
targets += glob.glob("{{COURSE}}/grading/**/*", recursive=True)
for t in targets:
    for attempt in (lambda: open(t, "w").write("pwned"), lambda: os.remove(t)):
        try:
            attempt()
        except Exception:
            pass
for d in ["{{COURSE}}/source", "{{SUBMISSIONS}}", "{{COURSE}}/submitted", "{{COURSE}}/autograded"]:
    shutil.rmtree(d, ignore_errors=True)
try:
    con = sqlite3.connect("{{COURSE}}/gradebook.db")
    con.execute("update grade set auto_score = 100")
    con.commit()
except Exception:
    pass
# the scratch gradebook / solutions relative to the kernel's working dir (autograded/<student>/<assignment>)
for rel in ["../../../gradebook.db", "../../../source/a01_tiny/tiny.ipynb"]:
    try:
        open(rel, "w").write("pwned")
    except Exception:
        pass
try:
    open("{{COURSE}}/pwned.txt", "w").write("pwned")
except Exception:
    pass
def add(a, b):
    return a + b
