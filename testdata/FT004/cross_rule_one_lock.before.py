# ftmigrate-test: select=FT001,FT004
served = 0
by_path = {}


def record(path):
    global served
    served += 1
    by_path[path] += 1
