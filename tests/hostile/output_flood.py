# expect: 4/4 ok  -- 10**5 prints and one 50 MB line are capped: the autograded notebook and feedback stay small
def add(a, b):
    return a + b
for i in range(10**5):
    print(i)
print("x" * (50 * 2**20))
try:
    from IPython.display import display
    for i in range(10**5):
        display(i)
except ImportError:
    pass
