# The aiohttp client of `cargo xtask bench --peers`: WORKERS at once, one ClientSession.
# Usage: python3 fetch.py URLS_FILE COUNT WORKERS
import asyncio, json, sys, time

import aiohttp


async def main(urls_file, count, workers):
    with open(urls_file) as f:
        urls = [line.strip() for line, _ in zip(f, range(count))]
    pending = iter(urls)
    result = {"docs": 0, "failed": 0, "bytes": 0, "error": None}

    async def worker(session):
        for url in pending:
            try:
                async with session.get(url) as response:
                    body = await response.read()
                    if response.status == 200:
                        result["docs"] += 1
                        result["bytes"] += len(body)
                    else:
                        result["failed"] += 1
                        result["error"] = result["error"] or f"{url}: HTTP {response.status}"
            except Exception as e:
                result["failed"] += 1
                result["error"] = result["error"] or f"{url}: {e!r}"

    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        cpu = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(workers)))
        result["secs"] = time.perf_counter() - start
        result["cpu_secs"] = time.process_time() - cpu
    print(json.dumps(result))


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
