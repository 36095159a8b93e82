"""How the benchmarks write their figures, shared by bench/plot.py and bench/http/run.sh."""


def delay_text(us):
    """A server delay in microseconds as the benchmark names write it: 0, 200us, 1ms, 1s."""
    us = int(us)
    if us == 0:
        return "0"
    if us % 1_000_000 == 0:
        return f"{us // 1_000_000}s"
    if us % 1000 == 0:
        return f"{us // 1000}ms"
    return f"{us}us"
