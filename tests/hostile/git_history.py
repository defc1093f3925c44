# expect: 3/4 ok  -- the course (and its .git) is not in the worker's filesystem: `git show` finds nothing to steal
import glob, subprocess
for cmd in (["git", "-C", "{{COURSE}}", "show", "HEAD:source/a01_tiny/tiny.ipynb"],
            ["git", "-C", "{{COURSE}}", "log", "-p"]):
    try:
        print(subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout[:2000])
    except Exception as exc:
        print("no git:", type(exc).__name__)
for path in glob.glob("/**/.git", recursive=False) + glob.glob("{{COURSE}}/**", recursive=True):
    print(path)
def add(a, b):
    return 0
