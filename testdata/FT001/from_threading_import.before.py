from threading import Lock, Thread

done = 0


def work():
    global done
    done += 1


threads = [Thread(target=work) for _ in range(4)]
