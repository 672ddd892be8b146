stock = {}


def take(item):
    if item not in stock:
        return None
    elif stock[item] == 1:
        del stock[item]
    else:
        stock[item] -= 1
    return item


def put(item):
    if item in stock:
        stock[item] += 1
    else:
        stock[item] = 1
