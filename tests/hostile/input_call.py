# expect: 3/4 ok  -- input() raises EOFError (no stdin) before add() is defined
name = input("what is your name? ")
def add(a, b):
    return a + b
