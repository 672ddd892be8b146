from concurrent.futures import ThreadPoolExecutor


class Crawler:
    def __init__(self):
        self.fetched = 0
        self.by_host = {}

    def fetch(self, url):
        host = url.split("/")[2]
        self.fetched += 1
        self.by_host[host] = self.by_host.get(host, 0) + 1


def crawl(urls):
    crawler = Crawler()
    with ThreadPoolExecutor(max_workers=8) as pool:
        pool.map(crawler.fetch, urls)
    return crawler
# ftmigrate-test: unsafe-fixes
