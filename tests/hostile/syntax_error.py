# expect: 3/4 ok
def add(a, b) return a + b
