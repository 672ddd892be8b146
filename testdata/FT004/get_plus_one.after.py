import threading
from collections import defaultdict

counts = {}
_count_word_lock = threading.Lock()
by_length = defaultdict(int)


def count_word(word):
    with _count_word_lock:
        counts[word] = counts.get(word, 0) + 1
        by_length[len(word)] = by_length[len(word)] + 1


def local_only(words):
    seen = {}
    for word in words:
        seen[word] = seen.get(word, 0) + 1
    return seen
