"""Test-session setup shared by tests/ and the doctests under skmtl/."""


def pytest_configure(config):
    # pytest-xdist already runs one worker per core; torch's own threads on
    # top of that make small networks many times slower (threads contend for
    # the same cores), so each test process uses one torch thread.
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
