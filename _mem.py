import tempfile
from pathlib import Path
from redis import Redis
from tests.bench import bench_alerter as b
from workers.names import Names
from workers.stack import EmbeddedRedis, free_port
if __name__ == "__main__":
    tmp = tempfile.mkdtemp()
    s = EmbeddedRedis(free_port(), Path(tmp) / "r.log", Path(tmp)); s.start()
    r = Redis.from_url(s.url)
    for n in (5000, 80000):
        b.N_MEMORY = n
        print(n, b.memory_per_story(r, Names(key_prefix="m:")), flush=True)
    s.stop()
