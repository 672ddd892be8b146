counter = 0
counter += 1
for _ in range(3):
    counter += 1
