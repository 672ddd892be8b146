import threading

stock = {}
_stock_lock = threading.Lock()


def take(item):
    with _stock_lock:
        if item not in stock:
            return None
        elif stock[item] == 1:
            del stock[item]
        else:
            stock[item] -= 1
    return item


def put(item):
    with _stock_lock:
        if item in stock:
            stock[item] += 1
        else:
            stock[item] = 1
