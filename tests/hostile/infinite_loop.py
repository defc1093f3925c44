# expect: 3/4 ok  -- the cell is interrupted at the cell timeout; add() never gets defined
while True:
    pass
def add(a, b):
    return a + b
