"""Remember each URL once, in the order first seen."""

seen = []


def remember(url):
    if url not in seen:
        seen.append(url)


def remember_all(urls):
    for url in urls:
        if url not in seen: seen.append(url)
