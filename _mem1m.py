"""One-off: Redis memory per remembered story at 1M stories, driving the claim script with random fingerprints."""
import random, tempfile, time
from pathlib import Path
from redis import Redis
from workers.dedup import CLAIM_LUA
from workers.names import Names
from workers import neardup
from workers.stack import EmbeddedRedis, free_port
if __name__ == "__main__":
    tmp = tempfile.mkdtemp()
    s = EmbeddedRedis(free_port(), Path(tmp) / "r.log", Path(tmp)); s.start()
    r = Redis.from_url(s.url)
    names = Names(key_prefix="wirewatch:")
    script = r.register_script(CLAIM_LUA)
    rnd = random.Random(1)
    before = int(r.info("memory")["used_memory"])
    N = 1_000_000
    t = time.time()
    checkpoints = {100_000, 300_000, 1_000_000}
    for start in range(0, N, 2000):
        with r.pipeline(transaction=False) as p:
            for i in range(start, start + 2000):
                aid = "msg_%032x" % rnd.getrandbits(128)
                h = rnd.getrandbits(64)
                exact = [names.dedup("desk-dprk", k, "%032x" % rnd.getrandbits(128)) for k in ("id", "content", "url")]
                bands = [names.dedup("desk-dprk", "nd", b) for b in neardup.bands(h)]
                hx = f"{h:016x}"
                script(keys=exact + bands + [names.sent(aid)], args=[aid, 72*3600, 3, hx[:8], hx[8:], 3, int(t), names.dups(""), "http://x"], client=p)
                p.set(names.sent(aid), 1, ex=72*3600)
            p.execute()
        if start + 2000 in checkpoints:
            n = start + 2000
            used = int(r.info("memory")["used_memory"]) - before
            print(n, "stories", round(used / n, 1), "bytes/story", round(time.time() - t), "s", flush=True)
    s.stop()
