# expect: 4/4 ok  -- other students' work, grades, reports, a root-only 0600 file and the grader's /tmp are not visible; code runs unprivileged
import glob, os
print("uid", os.getuid(), os.geteuid())
for pattern in ("{{COURSE}}/**", "{{SUBMISSIONS}}/**", "/tmp/**", "/root/*", "/work/**/secret*", "/proc/*/environ",
                "/proc/*/cmdline"):
    for path in glob.glob(pattern, recursive=True)[:200]:
        try:
            print(path, open(path, "rb").read(400))
        except Exception:
            pass
for path in ("{{COURSE}}/secret.txt", "{{COURSE}}/gradebook.db", "{{COURSE}}/grading/a01_tiny/grades.csv"):
    try:
        print(open(path).read())
    except Exception as exc:
        print("blocked", type(exc).__name__)
def add(a, b):
    return a + b
